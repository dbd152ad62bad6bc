"""tf.train.Saver of minigrad.compat.v1 against TensorFlow's on the same program text: the
prefixes, the kept list and the deleted ones, the `checkpoint` state file byte for byte,
latest_checkpoint / get_checkpoint_state, restore; mismatches listed in full with nothing
changed; a save killed mid-write leaving the previous checkpoint restorable."""
import os
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import minigrad.compat.v1 as mtf
from minigrad.core import errors
from minigrad.testing.tf1_compare import run_both
from tests.conftest import ROOT


def _engine_dir(tf, root):
    return os.path.join(root, "minigrad" if "minigrad" in tf.__name__ else "tensorflow")


def _prefixes_on_disk(folder):
    """Checkpoint prefixes present, whatever the engine's file names (.npz; .index, .data-*,
    .meta)."""
    return sorted({re.sub(r"\.(npz|index|meta|data-\d{5}-of-\d{5})$", "", n)
                   for n in os.listdir(folder) if n != "checkpoint"})


def bookkeeping(tf, root, sync=None):
    folder = _engine_dir(tf, root)
    w = tf.Variable(tf.random_normal([2, 3], dtype=tf.float64), name="weight1")
    tf.Variable(tf.zeros([3], dtype=tf.float64), name="bias1")
    step = tf.train.get_or_create_global_step()
    bump = tf.assign_add(step, 7)
    saver = tf.train.Saver(max_to_keep=2)
    keep_all = tf.train.Saver(max_to_keep=None)
    seen = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        prefix = os.path.join(folder, "model.ckpt")
        seen["int_steps"] = [saver.save(sess, prefix, global_step=k) for k in (0, 100, 200)]
        seen["after_three"] = (_prefixes_on_disk(folder), saver.last_checkpoints)
        sess.run(bump)
        seen["variable_step"] = saver.save(sess, prefix, global_step=step)    # model.ckpt-7
        seen["no_step"] = saver.save(sess, prefix)
        seen["kept"] = saver.last_checkpoints
        seen["on_disk"] = _prefixes_on_disk(folder)
        with open(os.path.join(folder, "checkpoint")) as f:
            seen["state_file"] = f.read()
        seen["latest"] = tf.train.latest_checkpoint(folder)
        state = tf.train.get_checkpoint_state(folder)
        seen["state"] = (state.model_checkpoint_path, list(state.all_model_checkpoint_paths))
        other = os.path.join(folder, "all", "m")
        seen["keep_all"] = [keep_all.save(sess, other, global_step=k) for k in range(4)]
        seen["keep_all_disk"] = _prefixes_on_disk(os.path.dirname(other))
        with open(os.path.join(folder, "all", "checkpoint")) as f:
            seen["keep_all_state"] = f.read()
        saved = sess.run(w)
        sess.run(w.assign(tf.zeros([2, 3], dtype=tf.float64)))
        saver.restore(sess, seen["latest"])
        seen["restored"] = (saved, sess.run(w), sess.run(step))
        seen["no_state_dir"] = tf.train.latest_checkpoint(os.path.join(folder, "nothing"))
    return _same_folder_name(seen, folder)


def _same_folder_name(x, folder):
    """`x` with the engine's folder spelled 'D' in its paths, so the engines' can be compared."""
    if isinstance(x, str):
        return x.replace(folder, "D")
    if isinstance(x, (list, tuple)):
        return type(x)(_same_folder_name(v, folder) for v in x)
    if isinstance(x, dict):
        return {k: _same_folder_name(v, folder) for k, v in x.items()}
    return x


def test_bookkeeping_is_tensorflows(tmp_path, tf, monkeypatch):
    """Relative paths (the state file holds them relative to the save directory), as the deck's
    programs write them."""
    monkeypatch.chdir(tmp_path)
    os.mkdir("ckpt")                       # TF creates the save directory, not its parents
    want, got = run_both(bookkeeping, "ckpt")
    assert set(want) == set(got)
    for key in want:
        if key == "restored":
            saved, restored, step = got[key]
            np.testing.assert_array_equal(restored, saved)
            assert step == want[key][2] == 7
        else:
            assert got[key] == want[key], key
    assert want["after_three"] == (["model.ckpt-100", "model.ckpt-200"],
                                   ["D/model.ckpt-100", "D/model.ckpt-200"])
    assert want["state_file"] == ('model_checkpoint_path: "model.ckpt"\n'
                                  'all_model_checkpoint_paths: "model.ckpt-7"\n'
                                  'all_model_checkpoint_paths: "model.ckpt"\n')
    assert want["keep_all_state"] == 'model_checkpoint_path: "m-3"\n' \
                                     'all_model_checkpoint_paths: "m-3"\n'
    assert sorted(os.listdir("ckpt/minigrad")) == ["all", "checkpoint", "model.ckpt-7.npz",
                                                   "model.ckpt.npz"]


def absolute_and_escaped(tf, root, sync=None):
    """An absolute save directory (paths kept absolute) and a name the text format escapes
    (no backslash: TF's latest_checkpoint globs the path, and would not find it)."""
    os.mkdir(_engine_dir(tf, root))
    folder = os.path.abspath(os.path.join(_engine_dir(tf, root), 'dir "q" é'))
    tf.Variable(tf.ones([2], dtype=tf.float32), name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        prefix = saver.save(sess, os.path.join(folder, "m"), global_step=1)
        with open(os.path.join(folder, "checkpoint"), "rb") as f:
            text = f.read().replace(os.fsencode(_engine_dir(tf, root)), b"ROOT")
    return prefix.replace(_engine_dir(tf, root), "ROOT"), text, \
        tf.train.latest_checkpoint(folder).replace(_engine_dir(tf, root), "ROOT")


def test_absolute_paths_and_escaping_are_tensorflows(tmp_path, tf):
    want, got = run_both(absolute_and_escaped, str(tmp_path))
    assert got == want
    assert 'dir \\"q\\" é/m-1"'.encode() in want[1]      # quotes escaped, UTF-8 as it is


# --- restore: mismatches, errors ------------------------------------------------------------
def save_program(tf, root, sync=None):
    os.mkdir(_engine_dir(tf, root))
    tf.Variable(tf.ones([2, 2], dtype=tf.float64), name="weight1")
    tf.Variable(tf.ones([2], dtype=tf.float64), name="bias1")
    tf.Variable(tf.ones([2, 1], dtype=tf.float64), name="weight2")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        return tf.train.Saver().save(sess, os.path.join(_engine_dir(tf, root), "m"))


def mismatched_restore(tf, root, sync=None):
    """weight1 with another shape, bias1 with another dtype, weight3 not in the file."""
    variables = [tf.Variable(tf.zeros([3, 2], dtype=tf.float64), name="weight1"),
                 tf.Variable(tf.zeros([2], dtype=tf.float32), name="bias1"),
                 tf.Variable(tf.zeros([1], dtype=tf.float64), name="weight3")]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        with pytest.raises(tf.errors.NotFoundError) as err:
            tf.train.Saver().restore(sess, os.path.join(_engine_dir(tf, root), "m"))
        return str(err.value), [sess.run(v) for v in variables]


def test_mismatched_restore_lists_every_difference_and_changes_nothing(tmp_path, tf):
    run_both(save_program, str(tmp_path))
    want, got = run_both(mismatched_restore, str(tmp_path))
    assert "Key weight3 not found in checkpoint" in want[0]      # TF names the first only
    for w, g in zip(want[1], got[1]):                             # neither changed anything
        assert not w.any() and not g.any() and w.shape == g.shape and w.dtype == g.dtype
    msg = got[0]
    for needle in ["(3 difference(s)); no variable was changed",
                   "weight3: in the graph (float64, shape (1,)), missing from the checkpoint",
                   "weight1: (float64, shape (2, 2)) in the checkpoint, (float64, shape (3, 2)) "
                   "in the graph",
                   "bias1: (float64, shape (2,)) in the checkpoint, (float32, shape (2,)) in "
                   "the graph",
                   "In the checkpoint, not restored:\n  weight2 (float64, shape (2, 1))"]:
        assert needle in msg, needle
    assert str(tmp_path / "minigrad" / "m.npz") in msg


def _graph(*shapes, dtype=np.float64):
    g = mtf.Graph()
    with g.as_default():
        vs = [mtf.Variable(np.full(s, k + 1.0, dtype), name=f"v{k}") for k, s in
              enumerate(shapes)]
        init = mtf.global_variables_initializer()
    sess = mtf.Session(graph=g)
    sess.run(init)
    return g, vs, sess


def test_shape_only_mismatch_is_invalid_argument(tmp_path):
    g, vs, sess = _graph((2,), (3,))
    with g.as_default():
        path = mtf.train.Saver().save(sess, str(tmp_path / "m"))
    g2, vs2, sess2 = _graph((2,), (4,))
    with g2.as_default(), pytest.raises(errors.InvalidArgumentError, match="1 difference"):
        mtf.train.Saver().restore(sess2, path)
    np.testing.assert_array_equal(sess2.run(vs2[0]), [1.0, 1.0])


def test_restore_a_subset_and_renamed_entries_as_tensorflow(tmp_path):
    """Entries of the file that are not restored are ignored (TF's rule); a dict var_list
    reads and writes other names."""
    g, (a, b), sess = _graph((2,), (3,))
    with g.as_default():
        sess.run([a.assign([5.0, 6.0]), b.assign([7.0, 8.0, 9.0])])
        path = mtf.train.Saver().save(sess, str(tmp_path / "m"))
        sess.run(b.assign([1.0, 2.0, 3.0]))
        mtf.train.Saver({"renamed": b}).save(sess, str(tmp_path / "r"))
    g2, (c, d), sess2 = _graph((3,), (2,))
    with g2.as_default():
        mtf.train.Saver({"v1": c}).restore(sess2, path)
        np.testing.assert_array_equal(sess2.run(c), [7.0, 8.0, 9.0])
        mtf.train.Saver({"renamed": c}).restore(sess2, str(tmp_path / "r"))
        np.testing.assert_array_equal(sess2.run(c), [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(sess2.run(d), [2.0, 2.0])     # untouched


def test_restore_initializes(tmp_path):
    g, vs, sess = _graph((2,))
    with g.as_default():
        path = mtf.train.Saver().save(sess, str(tmp_path / "m"))
    with g.as_default():
        fresh = mtf.Session(graph=g)
        mtf.train.Saver().restore(fresh, path)          # no initializer run: TF allows it
        np.testing.assert_array_equal(fresh.run(vs[0]), [1.0, 1.0])


def test_bad_input(tmp_path):
    g, vs, sess = _graph((2,))
    with g.as_default():
        saver = mtf.train.Saver()
        with pytest.raises(ValueError, match="Can't load save_path when it is None"):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="not a valid checkpoint: .*nothing"):
            saver.restore(sess, str(tmp_path / "nothing"))
        (tmp_path / "tf.index").write_bytes(b"")
        with pytest.raises(ValueError, match="TensorFlow checkpoint.*python -m minigrad.convert"):
            saver.restore(sess, str(tmp_path / "tf"))
        (tmp_path / "bad.npz").write_bytes(b"not a zip")
        with pytest.raises(ValueError, match="Saver.restore: '.*bad.npz' is not a readable"):
            saver.restore(sess, str(tmp_path / "bad"))
        with pytest.raises(ValueError, match="Parent directory of .*a/b/m doesn't exist"):
            saver.save(sess, str(tmp_path / "a" / "b" / "m"))
        with pytest.raises(ValueError, match="collides"):
            saver.save(sess, str(tmp_path / "checkpoint"))
        with pytest.raises(TypeError, match="must be a Session"):
            saver.save("sess", str(tmp_path / "m"))
        with pytest.raises(ValueError, match="same name: v0"):
            mtf.train.Saver([vs[0], vs[0]])
        with pytest.raises(TypeError, match="not a variable"):
            mtf.train.Saver([vs[0] + 1.0])
        mtf.Variable([1.0], name="late")
        with pytest.raises(errors.FailedPreconditionError, match="uninitialized value late"):
            mtf.train.Saver().save(sess, str(tmp_path / "m"))
    with mtf.Graph().as_default(), pytest.raises(ValueError, match="No variables to save"):
        mtf.train.Saver()
    with mtf.Graph().as_default():
        empty = mtf.train.Saver(allow_empty=True)
        assert empty.save(mtf.Session(), str(tmp_path / "e")) is None
    assert sorted(os.listdir(tmp_path)) == ["bad.npz", "tf.index"]       # nothing written


def test_optimizer_state_not_saved_is_warned_once(tmp_path):
    g, (v,), sess = _graph((2,))
    with g.as_default():
        train = mtf.train.AdamOptimizer(0.1).minimize(mtf.reduce_sum(v * v))
        sess.run(train)
        saver = mtf.train.Saver()
        with pytest.warns(UserWarning, match=r"AdamOptimizer state \(slots \['m', 'v'\]\) is "
                                             r"not saved"):
            saver.save(sess, str(tmp_path / "m"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            saver.save(sess, str(tmp_path / "m"))


# --- a save killed mid-write ----------------------------------------------------------------
_SAVER = """
import sys
import numpy as np
import minigrad.compat.v1 as tf
folder, start = sys.argv[1], int(sys.argv[2])
w = tf.Variable(np.zeros((512, 512)), name="w")
step = tf.Variable(np.int64(0), name="step", trainable=False)
saver, overwriting = tf.train.Saver(max_to_keep=3), tf.train.Saver()
state = tf.train.get_checkpoint_state(folder + "/steps")
if state is not None:
    saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print("ready", flush=True)
    k = start
    while True:
        k += 1
        w.load(np.full((512, 512), float(k)), sess)
        step.load(k, sess)
        saver.save(sess, folder + "/steps/model.ckpt", global_step=k)
        overwriting.save(sess, folder + "/last/model.ckpt")
        print(k, flush=True)
"""


def _restored_step(path):
    g, sess = mtf.Graph(), None
    with g.as_default():
        w = mtf.Variable(np.ones((512, 512)), name="w")
        step = mtf.Variable(np.int64(-1), name="step", trainable=False)
        sess = mtf.Session(graph=g)
        mtf.train.Saver().restore(sess, path)
        k, values = int(sess.run(step)), sess.run(w)
    assert (values == k).all(), "a checkpoint mixing two saves"
    return k


def _temps(*folders):
    return [n for d in folders if d.exists() for n in os.listdir(d)
            if n.startswith(".") and n.endswith(".tmp")]


def _check_after_kill(folder, start, printed, before):
    """Both series restore whole at the last save done (or the next, killed in its rename or
    after it); every checkpoint the state file lists restores. `start`: the step the process
    began after; `printed`: the steps it reported done (each after both saves); `before`: the
    overwritten checkpoint's step before it. Returns the two series' steps now."""
    done = int(printed[-1]) if printed else start
    latest = mtf.train.latest_checkpoint(str(folder / "steps"))
    k = 0 if latest is None else _restored_step(latest)      # None: killed in the first save
    assert k in (done, done + 1), (k, done)
    if latest is not None:
        state = mtf.train.get_checkpoint_state(str(folder / "steps"))
        assert [_restored_step(p) for p in state.all_model_checkpoint_paths][-1] == k
        assert len(state.all_model_checkpoint_paths) <= 3
    last = str(folder / "last" / "model.ckpt")
    now = _restored_step(last) if mtf.train.checkpoint_exists(last) else None
    assert now in ((done, done + 1) if printed else (before, start + 1)), (now, done, before)
    return k, now


def test_killed_save_leaves_the_previous_checkpoint_restorable(tmp_path):
    """SIGKILL a process saving 2 MB checkpoints in a loop (a new one per step, and one
    overwritten each time) at random moments: the last ones saved restore whole, and the next
    save removes the temporaries the kills left. Goes on until 3 kills have landed inside a
    write (a temporary left), at least 8 kills, at most 20."""
    rng, last, overwritten, kills, inside = np.random.default_rng(0), 0, None, 0, 0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    dirs = (tmp_path / "steps", tmp_path / "last")
    while kills < 8 or (inside < 3 and kills < 20):
        saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(tmp_path), str(last)],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.05, 0.3))
        saver.kill()
        printed = saver.communicate()[0].split()
        kills, inside = kills + 1, inside + bool(_temps(*dirs))
        last, overwritten = _check_after_kill(tmp_path, last, printed, overwritten)
    assert inside >= 3, f"only {inside} of {kills} kills landed inside a save"
    g, vs, sess = _graph((2,))
    with g.as_default():
        mtf.train.Saver().save(sess, str(dirs[0] / "model.ckpt"), global_step=last + 1)
        mtf.train.Saver().save(sess, str(dirs[1] / "model.ckpt"))
    assert _temps(*dirs) == []
