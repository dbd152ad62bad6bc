"""Deck 001, lab 9: XOR with a 2-2-1 sigmoid network ("does not work" with one layer, works
with two), and the wide-and-deep 2-10-10-10-1 version."""
import types

import numpy as np

from parity.lectures import Lecture, register

X_DATA = [[0, 0], [0, 1], [1, 0], [1, 1]]
Y_DATA = [[0], [1], [1], [0]]


class _Xor(Lecture):
    widths = None
    steps = 10001

    def data(self, data_dir, dtype):
        return np.array(X_DATA, dtype=dtype), np.array(Y_DATA, dtype=dtype)

    def build(self, tf, dtype, data):
        f = getattr(tf, dtype)
        X = tf.placeholder(f, [None, 2])
        Y = tf.placeholder(f, [None, 1])
        layer = X
        for k, (n_in, n_out) in enumerate(zip(self.widths[:-1], self.widths[1:]), 1):
            W = tf.Variable(tf.random_normal([n_in, n_out], dtype=f), name=f"weight{k}")
            b = tf.Variable(tf.random_normal([n_out], dtype=f), name=f"bias{k}")
            layer = tf.sigmoid(tf.matmul(layer, W) + b)
        hypothesis = layer
        cost = -tf.reduce_mean(Y * tf.log(hypothesis) + (1 - Y) * tf.log(1 - hypothesis))
        train = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(cost)
        predicted = tf.cast(hypothesis > 0.5, dtype=f)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, Y), dtype=f))
        return types.SimpleNamespace(X=X, Y=Y, hypothesis=hypothesis, cost=cost, train=train,
                                     predicted=predicted, accuracy=accuracy)

    def feed(self, g, data, i):
        return {g.X: data[0], g.Y: data[1]}

    def line(self, i, values):
        return f"{i} {values['cost']}" if i % 100 == 0 else None

    def finish(self, g, sess, data):
        h, c, a = sess.run([g.hypothesis, g.predicted, g.accuracy], self.feed(g, data, 0))
        return {"hypothesis": h.ravel().tolist(), "correct": c.ravel().tolist(),
                "accuracy": float(a)}

    def outputs(self, g, sess, data):
        return {"hypothesis": sess.run(g.hypothesis, self.feed(g, data, 0))}


@register
class Xor(_Xor):
    name = "xor"
    deck = "001, lab 9-1: XOR with two layers"
    title = "XOR, 2-2-1 sigmoid network, GradientDescent(0.1)"
    widths = [2, 2, 1]


@register
class XorWide(_Xor):
    name = "xor_wide"
    deck = "001, lab 9-1: XOR, wide and deep"
    title = "XOR, 2-10-10-10-1 sigmoid network, GradientDescent(0.1)"
    widths = [2, 10, 10, 10, 1]
