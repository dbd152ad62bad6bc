"""Deck 003: the recurrence written by hand. The MNIST-rows classifier of mnist_rnn_dropout.py
(BasicLSTMCell(128), the last output through W, b, Adam(0.001), batches of 128), without
dynamic_rnn or rnn.rnn: a Python loop calls the cell once per time step, on row t and the
state of step t - 1, from the cell's zero state; the variables are made on the first call and
reused after (`tf.get_variable_scope().reuse_variables()`).
"""
import numpy as np

from parity.lectures import register
from parity.lectures.mnist_rnn_dropout import (MnistRows, batch_size, n_classes, n_hidden,
                                               n_steps)


@register
class CellLoop(MnistRows):
    name = "cell_loop"
    deck = "003: MNIST RNN, the cell called per time step"
    title = "MNIST rows: BasicLSTMCell(128) called on each of the 28 rows by a Python loop"
    keep_prob = 1.0         # no dropout here; the placeholder stays for the shared loop

    def model(self, tf, f, x, keep_prob):
        weights = tf.Variable(tf.random_normal([n_hidden, n_classes], dtype=f))
        biases = tf.Variable(tf.random_normal([n_classes], dtype=f))

        cell = tf.contrib.rnn.BasicLSTMCell(n_hidden)
        state = cell.zero_state(batch_size, f)
        outputs = []
        with tf.variable_scope("RNN"):
            for time_step in range(n_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                (cell_output, state) = cell(x[:, time_step, :], state)
                outputs.append(cell_output)
        return tf.matmul(outputs[-1], weights) + biases

    def test_batches(self, g, data, n=10):
        """The loop starts from zero_state(batch_size): the test set in batches of 128 (its
        first n)."""
        feed = super().test_feed(g, data)
        for k in range(min(len(data.test_x) // batch_size, n)):
            part = slice(k * batch_size, (k + 1) * batch_size)
            yield {g.x: feed[g.x][part], g.y: feed[g.y][part], g.keep_prob: 1.0}

    def finish(self, g, sess, data):
        accs = [sess.run(g.accuracy, feed_dict=feed) for feed in self.test_batches(g, data)]
        return {"Testing Accuracy": float(np.mean(accs))}

    def outputs(self, g, sess, data):
        feed = next(self.test_batches(g, data))
        return {"test_logits[:128]": sess.run(g.pred, feed)}
