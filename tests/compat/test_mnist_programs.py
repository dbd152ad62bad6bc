"""The deck's MNIST programs (lab 7's softmax classifier, lab 10's NN with dropout), one program
text under `import tensorflow.compat.v1 as tf` and `import minigrad.compat.v1 as tf`, from the
same initial weights, on generated MNIST-shaped data (minigrad.data.mnist.synthetic): identical
per-step costs.

Dropout masks come from different random streams in the two engines, so the NN's parity run
feeds keep_prob 1.0 (dropout then keeps everything and scales by 1); keep_prob 0.7 is checked in
minigrad alone: about 30% dropped, the rest scaled by 1 / 0.7."""
import math

import numpy as np
import pytest

from minigrad.data import mnist
from minigrad.testing.tf1_compare import run_both
import minigrad.compat.v1 as mg_tf

pytestmark = pytest.mark.filterwarnings("ignore:`tf.layers.*deprecated:UserWarning")


def mnist_data(n, seed):
    """`n` generated examples as read_data_sets(one_hot=True) serves them: [n, 784] float32 in
    [0, 1] (x * 1/255) and one-hot float32 labels."""
    images, labels = mnist.synthetic(n, seed=seed)
    x = images.reshape(n, 784).astype(np.float32) * np.float32(1.0 / 255.0)
    return x, np.eye(10, dtype=np.float32)[labels]


TRAIN, TEST = mnist_data(3000, seed=0), mnist_data(500, seed=1)


def softmax_program(tf, dtype="float32", steps=100, init="random_normal", sync=None):
    """Lab 7: softmax regression, GradientDescent 0.1, accuracy by argmax."""
    tf.set_random_seed(777)  # for reproducibility
    train = mnist.DataSet(*TRAIN, seed=0)
    f = getattr(tf, dtype)
    nb_classes = 10
    X = tf.placeholder(f, [None, 784])
    Y = tf.placeholder(f, [None, nb_classes])
    if init == "zeros":
        W = tf.Variable(tf.zeros([784, nb_classes], dtype=f))
        b = tf.Variable(tf.zeros([nb_classes], dtype=f))
    else:
        W = tf.Variable(tf.random_normal([784, nb_classes], dtype=f))
        b = tf.Variable(tf.random_normal([nb_classes], dtype=f))
    hypothesis = tf.nn.softmax(tf.matmul(X, W) + b)
    cost = tf.reduce_mean(-tf.reduce_sum(Y * tf.log(hypothesis), axis=1))
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(cost)
    is_correct = tf.equal(tf.arg_max(hypothesis, 1), tf.arg_max(Y, 1))
    accuracy = tf.reduce_mean(tf.cast(is_correct, f))
    costs = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for _ in range(steps):
            batch_xs, batch_ys = train.next_batch(100)
            c, _ = sess.run([cost, optimizer], feed_dict={X: batch_xs, Y: batch_ys})
            costs.append(c)
        acc = accuracy.eval(session=sess, feed_dict={X: TEST[0], Y: TEST[1]})
        weights = sess.run([W, b])
    return {"costs": np.array(costs), "accuracy": acc, "weights": weights}


def test_softmax_float64_same_run():
    want, got = run_both(softmax_program, "float64", steps=150)
    assert np.all(np.isfinite(want["costs"]))
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    for g, w in zip(got["weights"], want["weights"]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    assert got["accuracy"] == want["accuracy"]
    assert want["costs"][-10:].mean() < want["costs"][:10].mean() / 2     # it learns


def test_softmax_float32_first_100_steps():
    want, got = run_both(softmax_program, "float32", steps=100)
    assert got["costs"].dtype == np.float32
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-5)


def test_softmax_from_zeros_float64():
    want, got = run_both(softmax_program, "float64", steps=60, init="zeros")
    assert want["costs"][0] == pytest.approx(math.log(10), rel=1e-12)
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)


def nn_program(tf, dtype="float32", steps=40, keep=1.0, sync=None):
    """Lab 10: ReLU layers with dropout (keep_prob fed), softmax cross-entropy, Adam."""
    tf.set_random_seed(777)  # for reproducibility
    train = mnist.DataSet(*TRAIN, seed=0)
    f = getattr(tf, dtype)
    X = tf.placeholder(f, [None, 784])
    Y = tf.placeholder(f, [None, 10])
    keep_prob = tf.placeholder(f)
    L1 = tf.layers.dense(X, 128, activation=tf.nn.relu,
                         kernel_initializer=tf.glorot_uniform_initializer())
    L1 = tf.nn.dropout(L1, keep_prob=keep_prob)
    L2 = tf.layers.dense(L1, 128, activation=tf.nn.relu)
    L2 = tf.nn.dropout(L2, keep_prob=keep_prob)
    hypothesis = tf.layers.dense(L2, 10)
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=hypothesis, labels=Y))
    optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)
    correct = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, f))
    costs = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for _ in range(steps):
            batch_xs, batch_ys = train.next_batch(100)
            c, _ = sess.run([cost, optimizer], {X: batch_xs, Y: batch_ys, keep_prob: keep})
            costs.append(c)
        acc = sess.run(accuracy, {X: TEST[0], Y: TEST[1], keep_prob: 1.0})
        names = [v.name for v in tf.trainable_variables()]
    return {"costs": np.array(costs), "accuracy": acc, "names": names}


def test_nn_float64_same_run_keep_prob_1():
    want, got = run_both(nn_program, "float64", steps=40)
    assert got["names"] == want["names"] == [
        "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0",
        "dense_2/kernel:0", "dense_2/bias:0"]
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    assert abs(got["accuracy"] - want["accuracy"]) <= 1.0 / len(TEST[0])   # one borderline


def test_nn_float32_same_run_keep_prob_1():
    want, got = run_both(nn_program, "float32", steps=40)
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-5)


def test_dropout_keep_prob_07_drops_30_percent_and_scales():
    g = mg_tf.Graph()
    with g.as_default():
        X = mg_tf.placeholder(mg_tf.float32, [None, 784])
        keep_prob = mg_tf.placeholder(mg_tf.float32)
        L1 = mg_tf.layers.dense(X, 512, activation=mg_tf.nn.relu)
        dropped = mg_tf.nn.dropout(L1, keep_prob=keep_prob)
        with mg_tf.Session() as sess:
            sess.run(mg_tf.global_variables_initializer())
            feed = {X: TRAIN[0][:500], keep_prob: 0.7}
            (before, after), (_, again) = sess.run([L1, dropped], feed), \
                sess.run([L1, dropped], feed)
            same = sess.run([L1, dropped], {X: TRAIN[0][:500], keep_prob: 1.0})
    live = before > 0
    kept = after[live] != 0
    n = live.sum()
    # the dropped fraction of the nonzero units: 0.3 within 5 standard errors
    assert abs((1 - kept.mean()) - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n), 1 - kept.mean()
    np.testing.assert_allclose(after[live][kept], before[live][kept] / np.float32(0.7),
                               rtol=1e-6)
    assert np.all(after[~live] == 0)
    assert not np.array_equal(after, again)            # a new mask on every run
    np.testing.assert_array_equal(same[1], same[0])    # keep_prob 1.0 keeps everything


def test_nn_with_contrib_fully_connected_trains():
    """Lab 10 written with tf.contrib.layers.fully_connected (TF 2 has no contrib: minigrad
    alone): contrib's names, relu and xavier defaults, and the cost falls."""
    tf = mg_tf
    train = mnist.DataSet(*TRAIN, seed=0)
    with tf.Graph().as_default():
        X = tf.placeholder(tf.float32, [None, 784])
        Y = tf.placeholder(tf.float32, [None, 10])
        keep_prob = tf.placeholder(tf.float32)
        L1 = tf.nn.dropout(tf.contrib.layers.fully_connected(X, 128), keep_prob=keep_prob)
        L2 = tf.nn.dropout(tf.contrib.layers.fully_connected(L1, 128), keep_prob=keep_prob)
        hypothesis = tf.contrib.layers.fully_connected(L2, 10, activation_fn=None)
        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=hypothesis,
                                                                      labels=Y))
        optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)
        assert [v.name for v in tf.trainable_variables()] == [
            f"fully_connected{s}/{w}:0" for s in ("", "_1", "_2")
            for w in ("weights", "biases")]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            costs = []
            for _ in range(60):
                batch_xs, batch_ys = train.next_batch(100)
                c, _ = sess.run([cost, optimizer], {X: batch_xs, Y: batch_ys, keep_prob: 0.7})
                costs.append(c)
    assert np.mean(costs[-10:]) < 0.5 * np.mean(costs[:5])
