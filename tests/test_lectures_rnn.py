"""The recurrent lectures of decks 002 and 003 (parity/lectures): each runs a few steps under
both engines with its log lines and closing prints; the deck 003 programs, which have no parity
case, agree between the engines from the same weights; missing data is named; the stock plot.
(The deck 002 programs' parity cases are in tests/test_parity_rnn.py.)"""
import numpy as np
import pytest

from minigrad.data import DataError
from parity.cases.rnn_common import lecture_weights
from parity.lectures import LECTURES, LectureTrainer, load_all
from parity.lectures.mnist_rnn import mnist_rows

load_all()
DECK_002 = ["rnn_basics", "seq_loss", "hihello", "char_seq", "long_sentence", "char_stacked",
            "stock_lstm"]
DECK_003 = ["mnist_rnn_dropout", "cell_loop", "text_gen"]


def small_data(name, dtype):
    """The lecture's generated data; MNIST rows cut to 256 training and 256 test images."""
    if name in ("mnist_rnn_dropout", "cell_loop"):
        return mnist_rows(None, dtype, 128, n_train=256, n_test=256)
    return LECTURES[name]().data(None, dtype)


def trainer(name, engine, dtype="float32", weights=None, **attrs):
    from parity.tf_env import tf1_api
    _, tf, placement = tf1_api("cpu", engine)
    lecture = LECTURES[name]()
    for k, v in attrs.items():
        setattr(lecture, k, v)
    return LectureTrainer(lecture, tf, dtype, small_data(name, dtype), weights, placement)


def test_every_recurrent_lecture_is_listed():
    assert set(DECK_002 + DECK_003) <= set(LECTURES)
    for name in DECK_002:
        assert LECTURES[name].deck.startswith("002")
    for name in DECK_003:
        assert LECTURES[name].deck.startswith("003")


# the step after which each lecture first prints, and how that print begins (the deck's words)
FIRST_LINE = {"rnn_basics": (0, "one_cell:\narray([[["), "seq_loss": (0, "Loss:  0.5967595\n"),
              "hihello": (0, "0 loss: "), "char_seq": (0, "0 loss: "),
              "long_sentence": (0, "0 0 "), "char_stacked": (0, "0 0 "),
              "stock_lstm": (0, "[step: 0] loss: "),
              "mnist_rnn_dropout": (9, "Iter 1280, Minibatch Loss= "),
              "cell_loop": (9, "Iter 1280, Minibatch Loss= "),
              "text_gen": (0, "iteration 0 loss: ")}
CASES = [(name, engine) for name in DECK_002 + DECK_003 for engine in ("minigrad", "tensorflow")
         # TensorFlow's graph of rnn_basics takes seconds to build: tests/compat/
         # test_rnn_programs.py and tests/test_parity_rnn.py run it under TensorFlow
         if (name, engine) != ("rnn_basics", "tensorflow")]


@pytest.mark.parametrize("name, engine", CASES)
def test_lecture_runs_with_its_lines(name, engine, tf):
    t = trainer(name, engine, temperatures=(0.5,)) if name == "text_gen" else \
        trainer(name, engine)
    steps = LECTURES[name].steps if name == "seq_loss" else 2
    losses = [float(t.step(i)) for i in range(steps)]
    assert np.all(np.isfinite(losses))
    first, start = FIRST_LINE[name]
    line = t.lecture.log(t.g, t.sess, t.data, first, t.values)
    assert line.startswith(start), line[:200]
    if first:
        assert t.lecture.log(t.g, t.sess, t.data, first - 1, t.values) is None
    if name == "char_stacked":              # the deck prints every window of the batch
        lines = line.splitlines()
        assert len(lines) == 170 and lines[169].startswith("0 169 ")
    if name == "text_gen":                  # 200 characters after the window it starts from
        report = line.splitlines()
        assert report[1] == "----- diversity: 0.5" and report[2].startswith("----- Generating")
        assert t.lecture.log(t.g, t.sess, t.data, 1, t.values) is None
    if (name, engine) == ("mnist_rnn_dropout", "minigrad"):
        # the deck's keep_prob 0.5 in training: two runs on one batch differ; 1.0: they agree
        feed = t.lecture.feed(t.g, t.data, 0)
        assert feed[t.g.keep_prob] == 0.5
        a, b = (t.sess.run(t.g.pred, feed) for _ in range(2))
        assert not np.array_equal(a, b)
        feed[t.g.keep_prob] = 1.0
        a, b = (t.sess.run(t.g.pred, feed) for _ in range(2))
        np.testing.assert_array_equal(a, b)
    extra = t.extra()
    assert all(isinstance(v, (str, float, int)) for v in extra.values()), extra


def test_hihello_and_char_seq_say_their_text():
    for name, text in (("hihello", "ihello"), ("char_seq", "if you want you")):
        t = trainer(name, "minigrad")
        for i in range(LECTURES[name].steps):
            t.step(i)
        assert t.extra()["text"] == text


@pytest.mark.parametrize("name", DECK_003)
def test_deck_003_same_run_under_both_engines(name, tf):
    """From the same weights, keep_prob 1.0 (dropout's masks are each engine's own draws):
    float64 losses at 1e-9 over 3 steps, the test logits after."""
    data = small_data(name, "float64")
    weights = lecture_weights(LECTURES[name](), np.random.default_rng(0), "float64", data)
    runs = {}
    for engine in ("tensorflow", "minigrad"):
        t = trainer(name, engine, "float64", weights, keep_prob=1.0)
        runs[engine] = [float(t.step(i)) for i in range(3)], t.outputs()
    (want, want_out), (got, got_out) = runs["tensorflow"], runs["minigrad"]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    for k in want_out:
        np.testing.assert_allclose(got_out[k], want_out[k], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name, file", [("stock_lstm", "data-02-stock_daily.csv"),
                                        ("text_gen", "nietzsche.txt"),
                                        ("mnist_rnn_dropout", "train-images-idx3-ubyte")])
def test_missing_data_is_named(name, file, tmp_path):
    with pytest.raises(DataError, match=file):
        LECTURES[name]().data(str(tmp_path), "float32")


def test_stock_plot_written_where_the_caller_says(tmp_path):
    pytest.importorskip("matplotlib")
    lecture = LECTURES["stock_lstm"](plot_path=str(tmp_path / "stock.png"))
    import minigrad.compat.v1 as tf
    t = LectureTrainer(lecture, tf, "float32", lecture.data(None, "float32"))
    t.step(0)
    extra = t.extra()
    assert extra["plot"] == str(tmp_path / "stock.png")
    assert (tmp_path / "stock.png").stat().st_size > 0
    assert 0 < extra["RMSE"] < 1
