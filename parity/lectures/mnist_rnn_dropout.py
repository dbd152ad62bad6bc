"""Deck 003: MNIST read row by row (28 steps of 28 pixels) by an LSTM whose outputs pass a
dropout (DropoutWrapper), unrolled by `rnn.rnn` (static_rnn since TF 1.0) over the unstacked
rows; the last output through W, b to 10 classes, softmax cross-entropy, AdamOptimizer(0.001),
batches of 128 until 100,000 examples are seen; the minibatch loss and accuracy every 10 steps,
the test accuracy at the end.

    BasicLSTMCell(128, forget_bias=1.0) -> DropoutWrapper(output_keep_prob=keep_prob)
    keep_prob 0.5 in training (fed; 1.0 for the accuracies, and for parity runs)

Data: parity/lectures/mnist_rnn.py's rows (real MNIST under <data_dir>/mnist, else generated
digits); the deck's `mnist.train.next_batch(batch_size)` is batch i in file order, its one-hot
labels made from the ids.
"""
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf
from parity.lectures.mnist_rnn import mnist_rows

# Parameters
learning_rate = 0.001
training_iters = 100000
batch_size = 128
display_step = 10

# Network Parameters
n_input = 28  # MNIST data input (img shape: 28*28)
n_steps = 28  # timesteps
n_hidden = 128  # hidden layer num of features
n_classes = 10  # MNIST total classes (0-9 digits)


class MnistRows(Lecture):
    """Deck 003's MNIST-rows loop: data, feed, the display every 10 steps, the test accuracy."""
    needs = "mnist"
    steps = training_iters // batch_size    # the deck: while step * batch_size < training_iters
    loss = "cost"
    keep_prob = 0.5         # the deck's dropout in training; 1.0 turns it off (parity runs)

    def data(self, data_dir, dtype):
        return mnist_rows(data_dir, dtype, batch_size)

    def one_hot(self, labels, dtype):
        return np.eye(n_classes, dtype=dtype)[labels]

    def feed(self, g, data, i):
        batch_x, batch_y = data.batch(i)
        batch_x = batch_x.reshape((batch_size, n_steps, n_input))
        return {g.x: batch_x, g.y: self.one_hot(batch_y, batch_x.dtype),
                g.keep_prob: self.keep_prob}

    def fetches(self, g):
        return {"train": g.optimizer, "cost": g.cost}

    def log(self, g, sess, data, i, values):
        step = i + 1
        if step % display_step:
            return None
        feed = self.feed(g, data, i)
        feed[g.keep_prob] = 1.0
        # Calculate batch accuracy and loss
        acc, loss = sess.run([g.accuracy, g.cost], feed_dict=feed)
        return ("Iter " + str(step * batch_size) + ", Minibatch Loss= " +
                "{:.6f}".format(loss) + ", Training Accuracy= " + "{:.5f}".format(acc))

    def test_feed(self, g, data):
        test_data = data.test_x.reshape((-1, n_steps, n_input))
        test_label = self.one_hot(data.test_y, test_data.dtype)
        return {g.x: test_data, g.y: test_label, g.keep_prob: 1.0}

    def finish(self, g, sess, data):
        return {"Testing Accuracy": float(sess.run(g.accuracy, feed_dict=self.test_feed(g, data)))}

    def outputs(self, g, sess, data):
        test_data = data.test_x[:256].reshape((-1, n_steps, n_input))
        return {"test_logits[:256]": sess.run(g.pred, {g.x: test_data, g.keep_prob: 1.0})}

    def model(self, tf, f, x, keep_prob):
        raise NotImplementedError

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        # tf Graph input
        x = tf.placeholder(f, [None, n_steps, n_input])
        y = tf.placeholder(f, [None, n_classes])
        keep_prob = tf.placeholder(f)

        pred = self.model(tf, f, x, keep_prob)

        # Define loss and optimizer
        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
        optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)

        # Evaluate model
        correct_pred = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_pred, f))
        return types.SimpleNamespace(x=x, y=y, keep_prob=keep_prob, pred=pred, cost=cost,
                                     optimizer=optimizer, accuracy=accuracy)


@register
class MnistRnnDropout(MnistRows):
    name = "mnist_rnn_dropout"
    deck = "003: MNIST RNN, DropoutWrapper, rnn.rnn"
    title = "MNIST rows: BasicLSTMCell(128) + DropoutWrapper through static_rnn, Adam(0.001)"

    def model(self, tf, f, x, keep_prob):
        rnn = tf.contrib.rnn    # the deck: from tensorflow.contrib import rnn
        # Define weights
        weights = {
            'out': tf.Variable(tf.random_normal([n_hidden, n_classes], dtype=f))
        }
        biases = {
            'out': tf.Variable(tf.random_normal([n_classes], dtype=f))
        }

        def RNN(x, weights, biases):
            # Prepare data shape to match `rnn` function requirements
            # Current data input shape: (batch_size, n_steps, n_input)
            # Required shape: 'n_steps' tensors list of shape (batch_size, n_input)
            x = tf.unstack(x, n_steps, 1)

            # Define a lstm cell with tensorflow, its outputs dropped out
            lstm_cell = rnn.BasicLSTMCell(n_hidden, forget_bias=1.0)
            lstm_cell = rnn.DropoutWrapper(lstm_cell, output_keep_prob=keep_prob)

            # Get lstm cell output (the deck's rnn.rnn, static_rnn since TF 1.0)
            outputs, states = rnn.static_rnn(lstm_cell, x, dtype=f)

            # Linear activation, using rnn inner loop last output
            return tf.matmul(outputs[-1], weights['out']) + biases['out']

        return RNN(x, weights, biases)
