"""Whole TF1 programs with RNNs, each one text run by TensorFlow (tensorflow.compat.v1, with a
stand-in for the contrib TF 2 lacks) and by minigrad.compat.v1 from one seeded start: per-step
losses, predictions, final weights.

- the deck's sequence_loss examples (lab 12): the four printed losses;
- MNIST read row by row (28 steps of 28 pixels) through static_rnn over a MultiRNNCell of
  BasicRNNCell(31), softmax cross-entropy, Adam, 20 steps on generated data;
- the deck's "hihello" (lab 12-1): BasicLSTMCell(5) from zero_state(1), dynamic_rnn, a fully
  connected layer on every output, sequence_loss, Adam(0.1), 50 steps: "ihello";
- the deck's RNN basics (lab 12-0): every cell on its tiny inputs.

The deck's programs are the lectures of parity/lectures (seq_loss.py, hihello.py,
rnn_basics.py), run here step by step by each engine's Session (`run_lecture_both`).
"""
import numpy as np

from minigrad.testing.tf1_compare import assert_same_run
from tests.compat._rnn_support import run_both_fixed, with_contrib


def run_lecture_both(name, dtype="float32", steps=1, seed=0):
    """The lecture `name` run by TensorFlow, then by minigrad.compat.v1, both from the same
    seeded values (glorot-uniform matrices, biases uniform in +-0.5, as FixedStart loads):
    {engine: LectureTrainer after `steps` steps, with .losses}."""
    from parity.cases.rnn_common import lecture_weights
    from parity.lectures import LECTURES, LectureTrainer, load_all
    from parity.tf_env import tf1_api
    load_all()
    lecture = LECTURES[name]
    data = lecture().data(None, dtype)
    rng = np.random.default_rng(seed)
    start = {}
    for k, w in lecture_weights(lecture(), np.random.default_rng(0), dtype, data).items():
        limit = np.sqrt(6.0 / (w.shape[0] + w.shape[-1])) if w.ndim > 1 else 0.5
        start[k] = rng.uniform(-limit, limit, w.shape).astype(dtype)
    runs = {}
    for engine in ("tensorflow", "minigrad"):
        _, tf, placement = tf1_api("cpu", engine)
        trainer = LectureTrainer(lecture(), tf, dtype, data, start, placement)
        trainer.losses = [trainer.step(i) for i in range(steps)]
        runs[engine] = trainer
    return runs


# --- the deck's sequence_loss examples (parity/lectures/seq_loss.py) ----------------------------
DECK = ["0.5967595", "0.5130153", "0.3711007", "1.3132616"]


def test_deck_sequence_loss_examples():
    """minigrad prints the deck's four losses, as float32 (the cross-entropy's log is taken as
    TF's kernel takes it: see minigrad/ops/nn.py, _logsumexp_parts). TensorFlow's plain Session
    prints 0.37110072 and 1.3132617 for the last two: its graph optimizer folds these all-constant
    losses ahead of the run, on another log than the kernel's; the deck's InteractiveSession
    (or a Session with the meta-optimizer off) prints the deck's digits. Within 2 ulps."""
    runs = run_lecture_both("seq_loss")
    want, got = (np.array([r.values[f"sequence_loss{k}"] for k in ("", "1", "2", "3")])
                 for r in (runs["tensorflow"], runs["minigrad"]))
    assert got.dtype == want.dtype == np.float32
    assert [str(v) for v in got] == DECK
    assert [str(v) for v in want[:2]] == DECK[:2]
    assert np.all(np.abs(want - got) <= 2 * np.spacing(got)), (want, got)


# --- MNIST rows through static_rnn ---------------------------------------------------------------
@with_contrib
def mnist_rows_static(tf, dtype="float32", steps=20, batch_size=16, sync=None):
    """The lecture's RNN MNIST (28 steps of 28 pixels, the last output through W, b to 10
    classes), with static_rnn over a MultiRNNCell of two BasicRNNCell(31), on generated
    images and labels (a new batch each step)."""
    tf.set_random_seed(777)  # reproducibility
    f = getattr(tf, dtype)
    n_input, n_step, n_hidden, n_class = 28, 28, 31, 10
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (steps, batch_size, n_step * n_input)).astype(dtype)
    labels = np.eye(n_class, dtype=dtype)[rng.integers(0, n_class, (steps, batch_size))]

    X = tf.placeholder(f, [None, n_step, n_input])
    Y = tf.placeholder(f, [None, n_class])
    W = tf.Variable(tf.random_normal([n_hidden, n_class], dtype=f))
    b = tf.Variable(tf.random_normal([n_class], dtype=f))
    cell = tf.contrib.rnn.MultiRNNCell([tf.contrib.rnn.BasicRNNCell(n_hidden)
                                        for _ in range(2)])
    outputs, states = tf.contrib.rnn.static_rnn(cell, tf.unstack(X, n_step, 1), dtype=f)
    model = tf.matmul(outputs[-1], W) + b
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=model, labels=Y))
    optimizer = tf.train.AdamOptimizer(0.01).minimize(cost)

    costs = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for i in range(steps):
            batch_xs = images[i].reshape((batch_size, n_step, n_input))
            _, cost_val = sess.run([optimizer, cost], feed_dict={X: batch_xs, Y: labels[i]})
            costs.append(cost_val)
        weights = sess.run(tf.trainable_variables())
    return {"costs": np.array(costs), "weights": weights,
            "names": [v.name for v in tf.trainable_variables()]}


def test_mnist_rows_static_rnn_float64():
    want, got = run_both_fixed(mnist_rows_static, "float64")
    assert got["names"] == want["names"] == [
        "Variable:0", "Variable_1:0",
        "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/kernel:0",
        "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/bias:0",
        "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/kernel:0",
        "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/bias:0"]
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    assert_same_run(want["weights"], got["weights"], 1e-9, 1e-12, "weights")


def test_mnist_rows_static_rnn_float32():
    want, got = run_both_fixed(mnist_rows_static, "float32")
    assert got["costs"].dtype == np.float32
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-5)


# --- the deck's hihello (parity/lectures/hihello.py) -----------------------------------------
def hihello(dtype, steps=50):
    """Each engine's per-step losses and the prediction after each update (the deck's print)."""
    out = {}
    for engine, t in run_lecture_both("hihello", dtype, steps=0).items():
        losses, texts = [], []
        for i in range(steps):
            losses.append(t.step(i))
            result = t.sess.run(t.g.prediction, feed_dict={t.g.X: t.data.x_one_hot})
            texts.append("".join(t.data.idx2char[c] for c in np.squeeze(result)))
        out[engine] = {"losses": np.array(losses), "texts": texts,
                       "names": [v.name for v in t.variables]}
    return out["tensorflow"], out["minigrad"]


def test_hihello_float64():
    want, got = hihello("float64")
    assert got["names"] == want["names"] == [
        "rnn/basic_lstm_cell/kernel:0", "rnn/basic_lstm_cell/bias:0",
        "fully_connected/weights:0", "fully_connected/biases:0"]
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-9)
    assert got["texts"] == want["texts"]
    assert got["texts"][-1] == "ihello"


def test_hihello_float32():
    want, got = hihello("float32")
    assert got["losses"].dtype == np.float32
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    assert got["texts"] == want["texts"]
    assert got["texts"][-1] == "ihello"


# --- the deck's rnn_basics (lab 12-0, parity/lectures/rnn_basics.py) ---------------------------
def test_rnn_basics():
    """The deck's cells in their variable scopes on numpy inputs: one cell, one sequence, three
    batches, ragged lengths, an explicit initial state, stacked cells, bidirectional_dynamic_rnn
    (and GRUCell): the values the deck prints (fetched before the first update)."""
    runs = run_lecture_both("rnn_basics")
    want, got = runs["tensorflow"], runs["minigrad"]
    names = [v.name for v in got.variables]
    assert names == [v.name for v in want.variables]
    assert names[:2] == ["one_cell/rnn/basic_rnn_cell/kernel:0",
                         "one_cell/rnn/basic_rnn_cell/bias:0"]
    # float32: TF's assertAllClose scale
    assert_same_run(want.values["show"], got.values["show"], 1e-6, 1e-6, "values")
