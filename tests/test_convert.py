"""python -m minigrad.convert: the XOR lecture trained in one engine, saved by its Saver,
converted, restored by the other engine's Saver, and trained on in both: the same losses.
Bad input (missing, foreign, damaged, mismatched) refused with nothing written."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad.compat.v1 as mtf
from minigrad import convert as conv
from minigrad.testing.tf1_compare import tf_v1
from parity.lectures import LectureTrainer
from parity.lectures.xor import Xor
from tests.conftest import ROOT

STEPS = 100
RTOL = 1e-9          # the parity tolerance of float64 programs


def _trainer(v1):
    lecture = Xor()
    return LectureTrainer(lecture, v1, "float64", lecture.data(None, "float64"))


def _train(trainer, start, steps=STEPS):
    return np.array([trainer.step(i) for i in range(start, start + steps)])


def _save(trainer, v1, prefix):
    with trainer.graph.as_default():
        return v1.train.Saver().save(trainer.sess, str(prefix), global_step=STEPS)


def _restore(trainer, v1, prefix):
    with trainer.graph.as_default():
        v1.train.Saver().restore(trainer.sess, str(prefix))


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return subprocess.run([sys.executable, "-m", "minigrad.convert", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


# --- round trips ----------------------------------------------------------------------------
def test_minigrad_to_tensorflow_and_train_on(tmp_path, tf):
    tfv1 = tf_v1()
    mg_run = _trainer(mtf)
    _train(mg_run, 0)
    saved = _save(mg_run, mtf, tmp_path / "mg" / "model.ckpt")
    assert saved == str(tmp_path / "mg" / "model.ckpt-100")
    out = conv.convert(saved, tmp_path / "tf" / "model.ckpt-100", variables=mg_run.variables)
    assert out == str(tmp_path / "tf" / "model.ckpt-100")
    assert sorted(os.listdir(tmp_path / "tf")) == ["model.ckpt-100.data-00000-of-00001",
                                                   "model.ckpt-100.index"]
    tf_run = _trainer(tfv1)
    _restore(tf_run, tfv1, out)
    for name, value in mg_run.weights().items():                   # bit for bit
        np.testing.assert_array_equal(tf_run.weights()[name], value, err_msg=name)
    want, got = _train(tf_run, STEPS), _train(mg_run, STEPS)
    np.testing.assert_allclose(got, want, rtol=RTOL)
    assert not np.allclose(got[0], got[-1])                         # it did train on


def test_tensorflow_to_minigrad_and_train_on(tmp_path, tf):
    tfv1 = tf_v1()
    tf_run = _trainer(tfv1)
    _train(tf_run, 0)
    saved = _save(tf_run, tfv1, tmp_path / "tf" / "model.ckpt")
    out = conv.convert(tmp_path / "tf", tmp_path / "mg" / "model.ckpt-100")   # its latest
    assert out == str(tmp_path / "mg" / "model.ckpt-100.npz")
    mg_run = _trainer(mtf)
    _restore(mg_run, mtf, out[:-len(".npz")])
    for name, value in tf_run.weights().items():
        np.testing.assert_array_equal(mg_run.weights()[name], value, err_msg=name)
    want, got = _train(tf_run, STEPS), _train(mg_run, STEPS)
    np.testing.assert_allclose(got, want, rtol=RTOL)
    assert saved == str(tmp_path / "tf" / "model.ckpt-100")


def test_dtypes_and_names_survive_both_ways(tmp_path, tf):
    arrays = {"global_step": np.array(12345678901, np.int64), "scope/w": np.arange(6.0,
              dtype=np.float32).reshape(2, 3), "mask": np.array([True, False]),
              "x64": np.array([np.pi, -0.0, np.inf, np.nan]), "h": np.ones(3, np.float16),
              "i32": np.array([[-7]], np.int32)}
    from minigrad.train.checkpoint import write_arrays
    write_arrays(str(tmp_path / "a.npz"), arrays)
    conv.convert(tmp_path / "a", tmp_path / "b")
    reader = tf.train.load_checkpoint(str(tmp_path / "b"))
    assert reader.get_variable_to_shape_map() == {k: list(a.shape) for k, a in arrays.items()}
    conv.convert(tmp_path / "b.index", tmp_path / "c")              # the .index file names it
    with np.load(tmp_path / "c.npz") as back:
        for k, a in arrays.items():
            assert back[k].dtype == a.dtype and back[k].tobytes() == a.tobytes(), k


# --- the command line -----------------------------------------------------------------------
def test_cli_converts_and_checks_names_against_a_checkpoint_of_the_program(tmp_path, tf):
    mg_run = _trainer(mtf)
    saved = _save(mg_run, mtf, tmp_path / "model.ckpt")
    r = _cli(saved, tmp_path / "tf" / "m", "--like", saved)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == f"wrote {tmp_path / 'tf' / 'm'}\n"
    reader = tf.train.load_checkpoint(str(tmp_path / "tf" / "m"))
    for name, value in mg_run.weights().items():
        np.testing.assert_array_equal(reader.get_tensor(name), value)


def test_cli_bad_input_writes_nothing(tmp_path):
    """Refused before TensorFlow is imported (these take no TF start-up)."""
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    cases = [((tmp_path / "missing", tmp_path / "out"), "no checkpoint '"),
             ((tmp_path / "notes.txt", tmp_path / "out"), "neither a minigrad checkpoint"),
             ((tmp_path / "notes.txt", tmp_path / "out", "--to", "pytorch"), "invalid choice")]
    for args, message in cases:
        r = _cli(*args)
        assert r.returncode != 0 and message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == ["notes.txt"]


# --- bad input ------------------------------------------------------------------------------
def _xor_checkpoint(folder, **extra):
    from minigrad.train.checkpoint import write_arrays
    arrays = {"weight1": np.zeros((2, 2)), "bias1": np.zeros(2), "weight2": np.zeros((2, 1)),
              "bias2": np.zeros(1)}
    write_arrays(str(folder / "x.npz"), {**arrays, **extra})
    return str(folder / "x")


def test_names_that_do_not_match_the_program_are_all_listed(tmp_path):
    src = _xor_checkpoint(tmp_path, weight3=np.zeros(3))
    program = _trainer(mtf).variables
    from minigrad.train.checkpoint import write_arrays
    write_arrays(str(tmp_path / "y.npz"), {"weight1": np.zeros((2, 3)), "bias1":
                                           np.zeros(2, np.float32), "weight2": np.zeros((2, 1))})
    with pytest.raises(conv.ConversionError) as err:
        conv.convert(tmp_path / "y", tmp_path / "out", variables=program)
    msg = str(err.value)
    for needle in ["(3 difference(s)); nothing written",
                   "weight1: (float64, shape (2, 3)) in the checkpoint, (float64, shape (2, 2)) "
                   "in the program",
                   "bias1: (float32, shape (2,)) in the checkpoint, (float64, shape (2,))",
                   "bias2: in the program (float64, shape (1,)), missing from the checkpoint"]:
        assert needle in msg, needle
    with pytest.raises(conv.ConversionError, match="weight3: in the checkpoint .*not in the "
                                                   "program"):
        conv.convert(src, tmp_path / "out", variables=program)
    assert sorted(os.listdir(tmp_path)) == ["x.npz", "y.npz"]


def test_damaged_and_foreign_files_are_refused(tmp_path, tf):
    src = _xor_checkpoint(tmp_path)
    conv.convert(src, tmp_path / "t")
    index = (tmp_path / "t.index").read_bytes()
    (tmp_path / "t.index").write_bytes(index[:len(index) // 2])
    with pytest.raises(conv.ConversionError, match="'.*t' is not a readable TensorFlow "
                                                   "checkpoint"):
        conv.convert(tmp_path / "t", tmp_path / "back")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(ValueError, match="convert: '.*plain.npz' is an .npz file but not a "
                                         "minigrad checkpoint"):
        conv.convert(tmp_path / "plain.npz", tmp_path / "back")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "x.npz").read_bytes()[:200])
    with pytest.raises(ValueError, match="'.*cut.npz' is not a readable checkpoint"):
        conv.convert(tmp_path / "cut", tmp_path / "back")
    with pytest.raises(ValueError, match="already a minigrad checkpoint"):
        conv.convert(src, tmp_path / "back", to="minigrad")
    with pytest.raises(ValueError, match="names a minigrad file"):
        conv.convert(src, tmp_path / "back.npz")
    tf2 = tf.train.Checkpoint(v=tf.Variable([1.0]))
    obj = tf2.write(str(tmp_path / "obj"))
    with pytest.raises(ValueError, match="object-based TensorFlow checkpoint"):
        conv.convert(obj, tmp_path / "back")
    assert not [n for n in os.listdir(tmp_path) if n.startswith(("back", "."))]


def test_a_failed_tensorflow_write_leaves_no_file(tmp_path, tf, monkeypatch):
    src = _xor_checkpoint(tmp_path)

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(conv, "_save_v2", fail)
    with pytest.raises(OSError, match="disk full"):
        conv.convert(src, tmp_path / "t")
    assert os.listdir(tmp_path) == ["x.npz"]                        # no temporary dir left


def test_without_tensorflow_the_error_names_the_extra(tmp_path, monkeypatch):
    src = _xor_checkpoint(tmp_path)
    monkeypatch.setitem(sys.modules, "tensorflow", None)            # `import tensorflow` fails
    with pytest.raises(ImportError, match=r"needs TensorFlow.*pip install minigrad\[tf\]"):
        conv.convert(src, tmp_path / "t")
    assert os.listdir(tmp_path) == ["x.npz"]
