"""MNIST in batches of 100: lab 7's softmax regression and deck 000's CNN with TensorBoard.

Data: the real MNIST under <data_dir>/mnist (the 55,000 training images of
input_data.read_data_sets), else 10,000 + 2,000 generated digits (minigrad.data.mnist). The
decks' `mnist.train.next_batch(100)` becomes `data.batch(i)`: batch i of a fixed order (seeded
permutations, one per epoch), so both engines train on the same batches.
"""
import types

import numpy as np

from minigrad.data import mnist
from parity.lectures import Lecture, register
from parity.lectures._logs import file_writer

BATCH = 100


class MnistData:
    """Training images [n, 784] in [0, 1] (x * 1/255, as read_data_sets), one-hot labels, the
    test set, and batch i of the fixed order."""

    def __init__(self, data_dir, dtype, seed=0, synthetic_n=10000):
        dtype = np.dtype(dtype).type
        if data_dir is not None:
            sets = mnist.load(data_dir, one_hot=True, dtype=dtype)
            self.x, self.y = sets.train.images, sets.train.labels.astype(dtype)
            self.test_x, self.test_y = sets.test.images, sets.test.labels.astype(dtype)
        else:
            imgs, labels = mnist.synthetic(synthetic_n + 2000, seed=seed)
            x = imgs.reshape(len(imgs), 784).astype(dtype) * dtype(1.0 / 255.0)
            y = np.eye(10, dtype=dtype)[labels]
            self.x, self.y = x[:synthetic_n], y[:synthetic_n]
            self.test_x, self.test_y = x[synthetic_n:], y[synthetic_n:]
        self.batches_per_epoch = len(self.x) // BATCH
        self._rng = np.random.RandomState(seed)
        self._order = np.zeros(0, np.int64)

    def batch(self, i):
        """Batch i: the i-th run of BATCH indices through concatenated seeded permutations."""
        while len(self._order) < (i + 1) * BATCH:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.x))])
        idx = self._order[i * BATCH:(i + 1) * BATCH]
        return self.x[idx], self.y[idx]

    def eval_batch(self):
        return self.test_x[:BATCH], self.test_y[:BATCH]


class _EpochCost(Lecture):
    """The decks' epoch loop: `avg_cost += c / total_batch`, printed at each epoch's end."""
    needs = "mnist"
    epoch_line = "Epoch: {:04d} cost = {:.9f}"

    def data(self, data_dir, dtype):
        return MnistData(data_dir, dtype)

    def feed(self, g, data, i):
        batch_xs, batch_ys = data.batch(i)
        return {g.X: batch_xs, g.Y: batch_ys}

    def line(self, i, values):
        total_batch = self._total_batch
        if i % total_batch == 0:
            self._avg_cost = 0.0
        self._avg_cost += values["cost"] / total_batch
        if (i + 1) % total_batch == 0:
            return self.epoch_line.format((i + 1) // total_batch, self._avg_cost)
        return None

    def _accuracy(self, g, sess, data):
        return float(sess.run(g.accuracy, {g.X: data.test_x, g.Y: data.test_y}))


@register
class MnistSoftmax(_EpochCost):
    name = "mnist_softmax"
    deck = "lab 7: MNIST softmax regression"
    title = "MNIST softmax 784-10 from zeros, GradientDescent(0.5), batch 100, one epoch"
    steps = 550                         # one epoch of the 55,000 images
    epoch_line = "Epoch: {:04d}, Cost: {:.9f}"

    def build(self, tf, dtype, data):
        self._total_batch = data.batches_per_epoch
        f = getattr(tf, dtype)
        nb_classes = 10
        X = tf.placeholder(f, [None, 784])
        Y = tf.placeholder(f, [None, nb_classes])
        W = tf.Variable(tf.zeros([784, nb_classes], dtype=f))
        b = tf.Variable(tf.zeros([nb_classes], dtype=f))
        hypothesis = tf.nn.softmax(tf.matmul(X, W) + b)
        cost = tf.reduce_mean(-tf.reduce_sum(Y * tf.log(hypothesis), axis=1))
        train = tf.train.GradientDescentOptimizer(learning_rate=0.5).minimize(cost)
        is_correct = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
        accuracy = tf.reduce_mean(tf.cast(is_correct, f))
        return types.SimpleNamespace(X=X, Y=Y, hypothesis=hypothesis, cost=cost, train=train,
                                     accuracy=accuracy)

    def finish(self, g, sess, data):
        return {"Accuracy": self._accuracy(g, sess, data)}

    def outputs(self, g, sess, data):
        return {"hypothesis": sess.run(g.hypothesis, {g.X: data.eval_batch()[0]})}


@register
class MnistCnn(_EpochCost):
    name = "mnist_cnn"
    deck = "000: MNIST CNN with TensorBoard"
    title = "MNIST CNN conv5x5x8-pool-conv5x5x16-pool-64-10, RMSProp(0.001), batch 100"
    steps = 5 * 550                     # five epochs of the 55,000 images
    logdir = None                       # None: a new temporary directory (see _logs)
    keep_logs = True
    summaries = True                    # False: the training step alone (the benchmarks)

    def build(self, tf, dtype, data):
        self._total_batch = data.batches_per_epoch
        f = getattr(tf, dtype)
        X = tf.placeholder(f, [None, 784], name="X")
        X_img = tf.reshape(X, [-1, 28, 28, 1])
        Y = tf.placeholder(f, [None, 10], name="Y")

        with tf.name_scope("conv1"):
            W1 = tf.Variable(tf.truncated_normal([5, 5, 1, 8], stddev=0.01, dtype=f), name="W")
            b1 = tf.Variable(tf.zeros([8], dtype=f), name="b")
            L1 = tf.nn.conv2d(X_img, W1, strides=[1, 1, 1, 1], padding="SAME")
            L1 = tf.nn.relu(tf.nn.bias_add(L1, b1))
            L1 = tf.nn.max_pool(L1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
            tf.summary.histogram("weights", W1)
            tf.summary.histogram("biases", b1)

        with tf.name_scope("conv2"):
            W2 = tf.Variable(tf.truncated_normal([5, 5, 8, 16], stddev=0.01, dtype=f), name="W")
            b2 = tf.Variable(tf.zeros([16], dtype=f), name="b")
            L2 = tf.nn.conv2d(L1, W2, strides=[1, 1, 1, 1], padding="SAME")
            L2 = tf.nn.relu(tf.nn.bias_add(L2, b2))
            L2 = tf.nn.max_pool(L2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
            L2_flat = tf.reshape(L2, [-1, 7 * 7 * 16])
            tf.summary.histogram("weights", W2)
            tf.summary.histogram("biases", b2)

        with tf.name_scope("fc1"):
            W3 = tf.Variable(tf.truncated_normal([7 * 7 * 16, 64], stddev=0.01, dtype=f),
                             name="W")
            b3 = tf.Variable(tf.zeros([64], dtype=f), name="b")
            L3 = tf.nn.relu(tf.matmul(L2_flat, W3) + b3)
            tf.summary.histogram("weights", W3)
            tf.summary.histogram("biases", b3)

        with tf.name_scope("fc2"):
            W4 = tf.Variable(tf.truncated_normal([64, 10], stddev=0.01, dtype=f), name="W")
            b4 = tf.Variable(tf.zeros([10], dtype=f), name="b")
            logits = tf.matmul(L3, W4) + b4
            tf.summary.histogram("weights", W4)
            tf.summary.histogram("biases", b4)

        with tf.name_scope("cost"):
            cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits,
                                                                          labels=Y))
            tf.summary.scalar("cost", cost)

        with tf.name_scope("train"):
            train = tf.train.RMSPropOptimizer(0.001).minimize(cost)

        with tf.name_scope("accuracy"):
            correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(Y, 1))
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, f))
            tf.summary.scalar("accuracy", accuracy)

        summary = tf.summary.merge_all()
        writer = file_writer(self, tf)
        writer.add_graph(tf.get_default_graph())       # the deck: sess.graph, the same graph
        return types.SimpleNamespace(X=X, Y=Y, logits=logits, cost=cost, train=train,
                                     accuracy=accuracy, summary=summary, writer=writer)

    def fetches(self, g):
        if not self.summaries:
            return {"cost": g.cost, "train": g.train}
        return {"summary": g.summary, "cost": g.cost, "train": g.train}

    def after_step(self, g, i, values):
        if self.summaries:
            g.writer.add_summary(values["summary"], global_step=i)

    def finish(self, g, sess, data):
        g.writer.close()
        return {"Accuracy": self._accuracy(g, sess, data), "logdir": self.logdir_used}

    def outputs(self, g, sess, data):
        return {"logits": sess.run(g.logits, {g.X: data.eval_batch()[0]})}
