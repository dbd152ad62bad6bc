"""The deck's XOR program (lab 9), one text, both engines: `import tensorflow.compat.v1 as tf`
and `import minigrad.compat.v1 as tf`, identical per-step costs from the same initial weights."""
import numpy as np
import pytest

from minigrad.testing.tf1_compare import run_both


def xor(tf, dtype="float32", steps=201, wide=False, sync=None):
    x_data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y_data = np.array([[0], [1], [1], [0]], dtype=dtype)
    f = getattr(tf, dtype)
    X = tf.placeholder(f, [None, 2])
    Y = tf.placeholder(f, [None, 1])
    widths = [2, 10, 10, 10, 1] if wide else [2, 2, 1]
    layer = X
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), 1):
        W = tf.Variable(tf.random_normal([n_in, n_out], dtype=f), name=f"weight{k}")
        b = tf.Variable(tf.random_normal([n_out], dtype=f), name=f"bias{k}")
        layer = tf.sigmoid(tf.matmul(layer, W) + b)
    hypothesis = layer
    cost = -tf.reduce_mean(Y * tf.log(hypothesis) + (1 - Y) * tf.log(1 - hypothesis))
    train = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(cost)
    predicted = tf.cast(hypothesis > 0.5, dtype=f)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, Y), dtype=f))
    costs = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for step in range(steps):
            c, _ = sess.run([cost, train], feed_dict={X: x_data, Y: y_data})
            costs.append(c)
        h, a = sess.run([hypothesis, accuracy], feed_dict={X: x_data, Y: y_data})
        weights = sess.run(tf.trainable_variables())
    return {"costs": np.array(costs), "hypothesis": h, "accuracy": a, "weights": weights}


@pytest.mark.parametrize("wide", [False, True], ids=["xor", "xor_wide"])
def test_xor_float64_same_run(wide):
    want, got = run_both(xor, "float64", steps=10001, wide=wide)     # the deck's whole run
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    for w, g in zip(want["weights"], got["weights"]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("wide", [False, True], ids=["xor", "xor_wide"])
def test_xor_float32_first_steps(wide):
    want, got = run_both(xor, "float32", steps=100, wide=wide)
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-5)
    assert got["costs"].dtype == np.float32
