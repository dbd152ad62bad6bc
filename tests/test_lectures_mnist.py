"""The MNIST-family lectures (parity/lectures/mnist.py, mnist_rnn.py, text_cnn.py,
tensorboard.py): the TensorBoard programs under both engines with their event files compared,
the RNN forms (static_rnn, time-major dynamic_rnn) against TensorFlow and against each other,
the decks' log lines, and the data directories they refuse. The registered cases' parity runs
are tests/test_parity_cnn.py and tests/test_parity_rnn.py."""
import numpy as np
import pytest

from minigrad.data import DataError
from parity.harness import CASES, run_case
from parity.lectures import LECTURES, LectureTrainer, load_all
import parity.cases  # noqa: F401

load_all()


def trainer(name, engine, dtype="float64", data=None, weights=None, **attrs):
    from parity.tf_env import tf1_api
    _, tf, placement = tf1_api("cpu", engine)
    lecture = LECTURES[name]()
    for k, v in attrs.items():
        setattr(lecture, k, v)
    data = lecture.data(None, dtype) if data is None else data
    return LectureTrainer(lecture, tf, dtype, data, weights, placement)


def read_events(logdir):
    """{tag: [(step, value)]} of the scalars, {tag: [(step, histogram)]}, and the graph's node
    names, as TensorBoard loads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags["scalars"]}
    hists = {t: [(e.step, e.histogram_value) for e in acc.Histograms(t)]
             for t in tags["histograms"]}
    return scalars, hists, {n.name for n in acc.Graph().node}


@pytest.mark.parametrize("name, steps, activation", [
    ("xor_tensorboard", 21, "Layer2/Hypothesis"),
    ("mnist_softmax_tensorboard", 5, "softmax/logits")])
def test_tensorboard_lecture_both_engines(tf, tmp_path, name, steps, activation):
    """From TF's initial weights: the same costs, and the same scalars and activation
    histograms in both engines' event files (a variable's histogram is left out: TF leaves the
    order of its read and its update within one run open)."""
    pytest.importorskip("tensorboard")
    want = trainer(name, "tensorflow", logdir=str(tmp_path / "tf"))
    got = trainer(name, "minigrad", data=want.data, weights=want.initial_weights(),
                  logdir=str(tmp_path / "mg"))
    costs = [(float(got.step(i)), float(want.step(i))) for i in range(steps)]
    np.testing.assert_allclose(*zip(*costs), rtol=1e-10)
    for t in (got, want):
        assert t.extra()["logdir"] == t.lecture.logdir
    (got_s, got_h, got_g), (want_s, want_h, want_g) = (read_events(tmp_path / e)
                                                       for e in ("mg", "tf"))
    assert sorted(got_s) == sorted(want_s) and sorted(got_h) == sorted(want_h)
    for tag in want_s:
        assert [s for s, _ in got_s[tag]] == list(range(steps))
        np.testing.assert_allclose([v for _, v in got_s[tag]], [v for _, v in want_s[tag]],
                                   rtol=2 ** -23, err_msg=tag)
    for (_, g), (_, w) in zip(got_h[activation], want_h[activation]):
        np.testing.assert_allclose([g.min, g.max, g.sum], [w.min, w.max, w.sum], rtol=1e-10)
        assert list(g.bucket) == list(w.bucket)
    named = {v.op.name for v in got.variables}
    assert named <= got_g and named <= want_g


def test_mnist_cnn_writes_the_decks_summaries(tmp_path):
    pytest.importorskip("tensorboard")
    t = trainer("mnist_cnn", "minigrad", "float32", logdir=str(tmp_path))
    losses = [float(t.step(i)) for i in range(2)]
    t.lecture.after_step(t.g, 99, t.values)       # the summary of the last run, once more
    assert 0.0 <= t.extra()["Accuracy"] <= 1.0
    scalars, hists, graph = read_events(tmp_path)
    assert sorted(scalars) == ["accuracy/accuracy", "cost/cost"]
    assert [v for _, v in scalars["cost/cost"]] == [np.float32(c) for c in losses] + \
        [np.float32(losses[-1])]
    assert sorted(hists) == [f"{s}/{k}" for s in ("conv1", "conv2", "fc1", "fc2")
                             for k in ("biases", "weights")]
    assert [s for s, _ in hists["fc1/weights"]] == [0, 1, 99]
    assert hists["fc1/weights"][0][1].num == 7 * 7 * 16 * 64
    assert {"conv1/W", "fc2/b", "train/RMSProp"} <= graph


def test_parity_lectures_leave_no_logs():
    """The parity case's CNN writes into a temporary directory that goes with the lecture."""
    import gc
    import os
    case = CASES["mnist_cnn"]()
    data = case.data(None, np.float32)
    t = case.build_minigrad(None, data, np.float32)
    logdir = t.lecture.logdir_used
    assert os.path.isdir(logdir)
    t.step(0)
    t.lecture.finish(t.g, t.sess, data)
    del t
    gc.collect()
    assert not os.path.exists(logdir)


def small(name, **kw):
    return CASES[name](batch_size=32, n_train=256, n_test=64, **kw)


@pytest.mark.parametrize("name", ["rnn_mnist_static_stacked", "rnn_mnist_time_major_stacked"])
def test_rnn_forms_against_tensorflow(tf, name):
    r = run_case(small(name), np.float64, steps=3)
    assert r.passed, r.first_failure


def test_rnn_forms_are_one_model():
    """static_rnn, dynamic_rnn and time-major dynamic_rnn name their variables alike and, from
    the same weights, train alike (minigrad; sums in another order at most)."""
    case = small("rnn_mnist_stacked")
    data = case.data(None, np.float64)
    w = case.init_weights(np.random.default_rng(0), np.float64)
    runs = {}
    for name in ("rnn_mnist_stacked", "rnn_mnist_static_stacked",
                 "rnn_mnist_time_major_stacked"):
        t = trainer(name, "minigrad", data=data, weights={k: v.copy() for k, v in w.items()})
        runs[name] = [float(t.step(i)) for i in range(3)]
    for losses in runs.values():
        np.testing.assert_allclose(losses, runs["rnn_mnist_stacked"], rtol=1e-12)


def test_decks_log_lines():
    """The epoch lines at each epoch's end (the epoch's mean cost), and the text CNN's
    per-step line with its evaluation every 100 steps."""
    case = small("rnn_mnist")
    data = case.data(None, np.float64)                  # 256 images: 8 batches an epoch
    t = trainer("rnn_mnist", "minigrad", data=data)
    lines, costs = [], []
    for i in range(16):
        costs.append(float(t.step(i)))
        lines.append(t.line(i))
    assert [i for i, ln in enumerate(lines) if ln] == [7, 15]
    assert lines[15] == f"Epoch: 0002 Avg. cost = {np.mean(costs[8:]):.3f}"
    text = trainer("text_cnn", "minigrad", "float32", evaluate_every=2)
    text.step(0)
    assert text.line(0).startswith("step 1, loss ") and ", acc " in text.line(0)
    text.step(1)
    assert "\nEvaluation:\nstep 2, loss " in text.line(1)


@pytest.mark.parametrize("name", ["mnist_softmax", "mnist_cnn", "lstm_mnist", "text_cnn",
                                  "mnist_softmax_tensorboard"])
def test_a_missing_data_file_is_named(tmp_path, name):
    lecture = LECTURES[name]()
    with pytest.raises(DataError, match="does not exist"):
        lecture.data(str(tmp_path / "nowhere"), "float32")
    (tmp_path / lecture.needs).mkdir()
    want = "train-images-idx3-ubyte" if lecture.needs == "mnist" else "pos.txt"
    with pytest.raises(DataError, match=f"missing data file .*{lecture.needs}/{want}"):
        lecture.data(str(tmp_path), "float32")
