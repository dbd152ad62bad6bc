"""Deck 001, TensorBoard: lab 9's XOR and an MNIST softmax classifier with name scopes,
histogram and scalar summaries, merge_all, a FileWriter with the graph, and add_summary after
every step.

The decks write to ./logs/...; a lecture writes to its `logdir`, else to a new temporary
directory that `finish` names (`tensorboard --logdir DIR` shows it).
"""
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._logs import file_writer
from parity.lectures.mnist import _EpochCost
from parity.lectures.xor import X_DATA, Y_DATA


class _Logged(Lecture):
    logdir = None                       # None: a new temporary directory (see _logs)
    keep_logs = True

    def fetches(self, g):
        return {"train": g.train, "summary": g.merged_summary, "cost": g.cost}

    def after_step(self, g, i, values):
        g.writer.add_summary(values["summary"], global_step=i)


@register
class XorTensorBoard(_Logged):
    name = "xor_tensorboard"
    deck = "001, lab 9-2: XOR with TensorBoard"
    title = "XOR 2-2-1 in name scopes Layer1/Layer2/Cost/Train, Adam(0.01), summaries"
    steps = 10001

    def data(self, data_dir, dtype):
        return np.array(X_DATA, dtype=dtype), np.array(Y_DATA, dtype=dtype)

    def build(self, tf, dtype, data):
        f = getattr(tf, dtype)
        X = tf.placeholder(f, [None, 2], name="x")
        Y = tf.placeholder(f, [None, 1], name="y")

        with tf.name_scope("Layer1"):
            W1 = tf.Variable(tf.random_normal([2, 2], dtype=f), name="weight_1")
            b1 = tf.Variable(tf.random_normal([2], dtype=f), name="bias_1")
            layer1 = tf.sigmoid(tf.matmul(X, W1) + b1)

            tf.summary.histogram("W1", W1)
            tf.summary.histogram("b1", b1)
            tf.summary.histogram("Layer1", layer1)

        with tf.name_scope("Layer2"):
            W2 = tf.Variable(tf.random_normal([2, 1], dtype=f), name="weight_2")
            b2 = tf.Variable(tf.random_normal([1], dtype=f), name="bias_2")
            hypothesis = tf.sigmoid(tf.matmul(layer1, W2) + b2)

            tf.summary.histogram("W2", W2)
            tf.summary.histogram("b2", b2)
            tf.summary.histogram("Hypothesis", hypothesis)

        with tf.name_scope("Cost"):
            cost = -tf.reduce_mean(Y * tf.log(hypothesis) + (1 - Y) * tf.log(1 - hypothesis))
            tf.summary.scalar("Cost", cost)

        with tf.name_scope("Train"):
            train = tf.train.AdamOptimizer(learning_rate=0.01).minimize(cost)

        predicted = tf.cast(hypothesis > 0.5, dtype=f)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, Y), dtype=f))
        tf.summary.scalar("accuracy", accuracy)

        merged_summary = tf.summary.merge_all()
        writer = file_writer(self, tf)
        writer.add_graph(tf.get_default_graph())       # the deck: sess.graph, the same graph
        return types.SimpleNamespace(X=X, Y=Y, hypothesis=hypothesis, predicted=predicted,
                                     accuracy=accuracy, cost=cost, train=train,
                                     merged_summary=merged_summary, writer=writer)

    def feed(self, g, data, i):
        return {g.X: data[0], g.Y: data[1]}

    def line(self, i, values):
        return f"{i} {values['cost']}" if i % 100 == 0 else None

    def finish(self, g, sess, data):
        g.writer.close()
        h, p, a = sess.run([g.hypothesis, g.predicted, g.accuracy], self.feed(g, data, 0))
        return {"Hypothesis": h.ravel().tolist(), "Predicted": p.ravel().tolist(),
                "Accuracy": float(a), "logdir": self.logdir_used}

    def outputs(self, g, sess, data):
        return {"hypothesis": sess.run(g.hypothesis, self.feed(g, data, 0))}


@register
class MnistSoftmaxTensorBoard(_Logged, _EpochCost):
    name = "mnist_softmax_tensorboard"
    deck = "001, lab 10: MNIST softmax with TensorBoard"
    title = "MNIST softmax 784-10, random_normal, Adam(0.001), batch 100, summaries, 15 epochs"
    training_epochs = 15
    steps = training_epochs * 550       # 15 epochs of the 55,000 images

    def build(self, tf, dtype, data):
        self._total_batch = data.batches_per_epoch
        f = getattr(tf, dtype)
        X = tf.placeholder(f, [None, 784], name="X")
        Y = tf.placeholder(f, [None, 10], name="Y")

        with tf.name_scope("softmax"):
            W = tf.Variable(tf.random_normal([784, 10], dtype=f), name="weight")
            b = tf.Variable(tf.random_normal([10], dtype=f), name="bias")
            hypothesis = tf.matmul(X, W) + b

            tf.summary.histogram("weights", W)
            tf.summary.histogram("bias", b)
            tf.summary.histogram("logits", hypothesis)

        with tf.name_scope("cost"):
            cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=hypothesis,
                                                                          labels=Y))
            tf.summary.scalar("cost", cost)

        with tf.name_scope("train"):
            train = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)

        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, f))
            tf.summary.scalar("accuracy", accuracy)

        merged_summary = tf.summary.merge_all()
        writer = file_writer(self, tf)
        writer.add_graph(tf.get_default_graph())       # the deck: sess.graph, the same graph
        return types.SimpleNamespace(X=X, Y=Y, hypothesis=hypothesis, cost=cost, train=train,
                                     accuracy=accuracy, merged_summary=merged_summary,
                                     writer=writer)

    def finish(self, g, sess, data):
        g.writer.close()
        return {"Accuracy": self._accuracy(g, sess, data), "logdir": self.logdir_used}

    def outputs(self, g, sess, data):
        return {"logits": sess.run(g.hypothesis, {g.X: data.eval_batch()[0]})}
