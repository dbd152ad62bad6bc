"""Deck 002, lab 12-1: "hihello". An LSTM reads "hihell" one-hot and learns to say "ihello".

    BasicLSTMCell(5) from zero_state(1), dynamic_rnn, fully_connected 5 on every output,
    sequence_loss with weights of ones, AdamOptimizer(0.1), 50 steps
"""
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf

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


@register
class HiHello(Lecture):
    name = "hihello"
    deck = "002, lab 12-1: hihello"
    title = "'hihell' -> 'ihello': BasicLSTMCell(5), fully_connected, sequence_loss, Adam(0.1)"
    steps = 50
    loss = "loss"
    learning_rate = 0.1

    def data(self, data_dir, dtype):
        return types.SimpleNamespace(x_one_hot=np.array(x_one_hot, dtype),
                                     y_data=np.array(y_data, np.int32), idx2char=idx2char)

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        num_classes = 5
        input_dim = 5  # one-hot size
        hidden_size = 5  # output from the LSTM. 5 to directly predict one-hot
        batch_size = 1   # one sentence
        sequence_length = 6  # |ihello| == 6
        learning_rate = self.learning_rate  # the deck's 0.1

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
        return types.SimpleNamespace(X=X, Y=Y, outputs=outputs, loss=loss, train=train,
                                     prediction=prediction)

    def feed(self, g, data, i):
        return {g.X: data.x_one_hot, g.Y: data.y_data}

    def fetches(self, g):
        return {"loss": g.loss, "train": g.train}

    def log(self, g, sess, data, i, values):
        result = sess.run(g.prediction, feed_dict={g.X: data.x_one_hot})
        # print char using dic
        result_str = [data.idx2char[c] for c in np.squeeze(result)]
        return (f"{i} loss: {values['loss']!s} prediction:  {result} true Y:  {y_data}\n"
                f"\tPrediction str:  {''.join(result_str)}")

    def finish(self, g, sess, data):
        result = sess.run(g.prediction, feed_dict={g.X: data.x_one_hot})
        return {"text": "".join(data.idx2char[c] for c in np.squeeze(result))}

    def outputs(self, g, sess, data):
        return {"logits": sess.run(g.outputs, feed_dict={g.X: data.x_one_hot})}
