"""Whole TF1 programs with RNNs, each one text run by TensorFlow (tensorflow.compat.v1, with
tests/compat/_rnn_support.py standing in for the contrib TF 2 lacks) and by minigrad.compat.v1
from one seeded start (the same file): per-step losses, predictions, final weights.

- the deck's sequence_loss examples (lab 12): the four printed losses;
- MNIST read row by row (28 steps of 28 pixels) through static_rnn over a MultiRNNCell of
  BasicRNNCell(31), softmax cross-entropy, Adam, 20 steps on generated data;
- the deck's "hihello" (lab 12-1): BasicLSTMCell(5) from zero_state(1), dynamic_rnn, a fully
  connected layer on every output, sequence_loss, Adam(0.1), 50 steps: "ihello".
"""
import numpy as np
import pytest

from minigrad.testing.tf1_compare import assert_same_run
from tests.compat._rnn_support import run_both_fixed, with_contrib


# --- the deck's sequence_loss examples -----------------------------------------------------------
@with_contrib
def sequence_loss_examples(tf, sync=None):
    # [batch_size, sequence_length]
    y_data = tf.constant([[1, 1, 1]])
    # [batch_size, sequence_length, emb_dim]
    prediction = tf.constant([[[0.2, 0.7], [0.6, 0.2], [0.2, 0.9]]], dtype=tf.float32)
    prediction1 = tf.constant([[[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]]], dtype=tf.float32)
    prediction2 = tf.constant([[[0.1, 0.9], [0.1, 0.9], [0.1, 0.9]]], dtype=tf.float32)
    prediction3 = tf.constant([[[1, 0], [1, 0], [1, 0]]], dtype=tf.float32)
    # [batch_size, sequence_length]
    weights = tf.constant([[1, 1, 1]], dtype=tf.float32)

    sequence_loss = tf.contrib.seq2seq.sequence_loss(logits=prediction, targets=y_data,
                                                     weights=weights)
    sequence_loss1 = tf.contrib.seq2seq.sequence_loss(prediction1, y_data, weights)
    sequence_loss2 = tf.contrib.seq2seq.sequence_loss(prediction2, y_data, weights)
    sequence_loss3 = tf.contrib.seq2seq.sequence_loss(prediction3, y_data, weights)
    sess = tf.InteractiveSession()
    sess.run(tf.global_variables_initializer())
    sync(sess)
    values = [loss.eval() for loss in
              (sequence_loss, sequence_loss1, sequence_loss2, sequence_loss3)]
    sess.close()
    return values


DECK = ["0.5967595", "0.5130153", "0.3711007", "1.3132616"]


@pytest.fixture(scope="module")
def sequence_loss_runs():
    return run_both_fixed(sequence_loss_examples)


def test_deck_sequence_loss_examples(sequence_loss_runs):
    """Both engines print the deck's four losses, as float32 (the cross-entropy's log is taken
    as TF's kernel takes it: see minigrad/ops/nn.py, _logsumexp_parts)."""
    want, got = sequence_loss_runs
    assert [str(v) for v in want] == DECK
    assert all(v.dtype == np.float32 for v in got)
    assert [str(v) for v in got] == DECK


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


# --- the deck's hihello -------------------------------------------------------------------------
@with_contrib
def hihello(tf, dtype="float32", steps=50, sync=None):
    """Lab 12-1 as the deck writes it (dtype a parameter: the deck's is float32)."""
    tf.set_random_seed(777)  # reproducibility
    f = getattr(tf, dtype)
    idx2char = ['h', 'i', 'e', 'l', 'o']
    # Teach hello: hihell -> ihello
    x_data = [[0, 1, 0, 2, 3, 3]]   # hihell
    x_one_hot = [[[1, 0, 0, 0, 0],   # h 0
                  [0, 1, 0, 0, 0],   # i 1
                  [1, 0, 0, 0, 0],   # h 0
                  [0, 0, 1, 0, 0],   # e 2
                  [0, 0, 0, 1, 0],   # l 3
                  [0, 0, 0, 1, 0]]]  # l 3
    y_data = [[1, 0, 2, 3, 3, 4]]    # ihello

    num_classes = 5
    input_dim = 5  # one-hot size
    hidden_size = 5  # output from the LSTM. 5 to directly predict one-hot
    batch_size = 1   # one sentence
    sequence_length = 6  # |ihello| == 6
    learning_rate = 0.1

    X = tf.placeholder(f, [None, sequence_length, input_dim])  # X one-hot
    Y = tf.placeholder(tf.int32, [None, sequence_length])  # Y label

    cell = tf.contrib.rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
    initial_state = cell.zero_state(batch_size, f)
    outputs, _states = tf.nn.dynamic_rnn(cell, X, initial_state=initial_state, dtype=f)

    # FC layer
    X_for_fc = tf.reshape(outputs, [-1, hidden_size])
    outputs = tf.contrib.layers.fully_connected(
        inputs=X_for_fc, num_outputs=num_classes, activation_fn=None)

    # reshape out for sequence_loss
    outputs = tf.reshape(outputs, [batch_size, sequence_length, num_classes])

    weights = tf.ones([batch_size, sequence_length], dtype=f)
    sequence_loss = tf.contrib.seq2seq.sequence_loss(
        logits=outputs, targets=Y, weights=weights)
    loss = tf.reduce_mean(sequence_loss)
    train = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(loss)

    prediction = tf.argmax(outputs, axis=2)

    losses, texts = [], []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for i in range(steps):
            l, _ = sess.run([loss, train], feed_dict={X: x_one_hot, Y: y_data})
            result = sess.run(prediction, feed_dict={X: x_one_hot})
            # print char using dic
            result_str = [idx2char[c] for c in np.squeeze(result)]
            losses.append(l)
            texts.append(''.join(result_str))
    return {"losses": np.array(losses), "texts": texts,
            "names": [v.name for v in tf.trainable_variables()]}


def test_hihello_float64():
    want, got = run_both_fixed(hihello, "float64")
    assert got["names"] == want["names"] == [
        "rnn/basic_lstm_cell/kernel:0", "rnn/basic_lstm_cell/bias:0",
        "fully_connected/weights:0", "fully_connected/biases:0"]
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-9)
    assert got["texts"] == want["texts"]
    assert got["texts"][-1] == "ihello"


def test_hihello_float32():
    want, got = run_both_fixed(hihello, "float32")
    assert got["losses"].dtype == np.float32
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5)
    assert got["texts"] == want["texts"]
    assert got["texts"][-1] == "ihello"


# --- the deck's rnn_basics (lab 12-0) ------------------------------------------------------------
@with_contrib
def rnn_basics(tf, sync=None):
    """The notebook's cells, each in its variable scope, on numpy inputs: one cell, one
    sequence, three batches, ragged lengths, an explicit initial state, stacked cells and a
    bidirectional RNN (its MultiRNNCell is written with distinct cells: TF 2's compat.v1
    shares one cell given three times, and its input depth 3 does not fit a second layer)."""
    h, e, l, o = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]
    fetch = {}
    with tf.variable_scope('one_cell'):
        cell = tf.contrib.rnn.BasicRNNCell(num_units=2)
        x_data = np.array([[h]], dtype=np.float32)       # x_data = [[[1,0,0,0]]]
        fetch['one_cell'], _ = tf.nn.dynamic_rnn(cell, x_data, dtype=tf.float32)
    with tf.variable_scope('two_sequances'):
        cell = tf.contrib.rnn.BasicRNNCell(num_units=2)
        x_data = np.array([[h, e, l, l, o]], dtype=np.float32)
        fetch['two_sequances'], _ = tf.nn.dynamic_rnn(cell, x_data, dtype=tf.float32)
    x_data = np.array([[h, e, l, l, o], [e, o, l, l, l], [l, l, e, e, l]], dtype=np.float32)
    with tf.variable_scope('3_batches'):
        cell = tf.contrib.rnn.BasicLSTMCell(num_units=2, state_is_tuple=True)
        fetch['3_batches'], _ = tf.nn.dynamic_rnn(cell, x_data, dtype=tf.float32)
    with tf.variable_scope('3_batches_dynamic_length'):
        cell = tf.contrib.rnn.BasicLSTMCell(num_units=2, state_is_tuple=True)
        fetch['dynamic_length'], _ = tf.nn.dynamic_rnn(cell, x_data, sequence_length=[5, 3, 4],
                                                       dtype=tf.float32)
    with tf.variable_scope('initial_state'):
        cell = tf.contrib.rnn.BasicLSTMCell(num_units=2, state_is_tuple=True)
        initial_state = cell.zero_state(3, tf.float32)
        fetch['initial_state'], fetch['state'] = tf.nn.dynamic_rnn(
            cell, x_data, initial_state=initial_state, dtype=tf.float32)
    x_data = np.arange(45, dtype=np.float32).reshape(3, 5, 3)
    with tf.variable_scope('MultiRNNCell'):
        cell = tf.contrib.rnn.MultiRNNCell(
            [tf.contrib.rnn.BasicLSTMCell(num_units=5, state_is_tuple=True) for _ in range(3)],
            state_is_tuple=True)
        fetch['multi'], _ = tf.nn.dynamic_rnn(cell, x_data, dtype=tf.float32)
    with tf.variable_scope('bi-directional'):
        cell_fw = tf.contrib.rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
        cell_bw = tf.contrib.rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
        fetch['bidirectional'], fetch['bi_states'] = tf.nn.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, x_data, sequence_length=[2, 3, 1], dtype=tf.float32)
    sess = tf.InteractiveSession()
    sess.run(tf.global_variables_initializer())
    sync(sess)
    values = sess.run(fetch)
    sess.close()
    return {"values": values, "names": [v.name for v in tf.trainable_variables()]}


def test_rnn_basics():
    want, got = run_both_fixed(rnn_basics)
    assert got["names"] == want["names"]
    assert got["names"][:2] == ["one_cell/rnn/basic_rnn_cell/kernel:0",
                                "one_cell/rnn/basic_rnn_cell/bias:0"]
    # float32: TF's assertAllClose scale
    assert_same_run(want["values"], got["values"], 1e-6, 1e-6, "values")
