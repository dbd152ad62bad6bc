"""Deck 002, lab 12-2: a character sequence. " if you want you" shifted by one character, ids
one-hot in the graph, BasicLSTMCell(hidden = the 10 distinct characters) from zero_state,
dynamic_rnn, fully_connected on every output, sequence_loss, AdamOptimizer(0.1), 50 steps.
"""
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf


@register
class CharSeq(Lecture):
    name = "char_seq"
    deck = "002, lab 12-2: char-seq ' if you want you'"
    title = "next characters of ' if you want you': BasicLSTMCell(10), fully_connected, Adam(0.1)"
    steps = 50
    loss = "loss"
    sample = " if you want you"
    learning_rate = 0.1

    def data(self, data_dir, dtype):
        sample = self.sample
        # NOTE: the deck's list(set(sample)) order changes from run to run (string hashing);
        # sorted, so both engines and every run see the same ids
        idx2char = sorted(set(sample))  # index -> char
        char2idx = {c: i for i, c in enumerate(idx2char)}  # char -> idex
        sample_idx = [char2idx[c] for c in sample]  # char to index
        x_data = [sample_idx[:-1]]  # X data sample (0 ~ n-1) hello: hell
        y_data = [sample_idx[1:]]   # Y label sample (1 ~ n) hello: ello
        return types.SimpleNamespace(sample=sample, idx2char=idx2char, char2idx=char2idx,
                                     x_data=np.array(x_data, np.int32),
                                     y_data=np.array(y_data, np.int32))

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        sample, char2idx = data.sample, data.char2idx

        # hyper parameters
        dic_size = len(char2idx)  # RNN input size (one hot size)  # noqa: F841 (the deck's)
        hidden_size = len(char2idx)  # RNN output size
        num_classes = len(char2idx)  # final output size (RNN or softmax, etc.)
        batch_size = 1  # one sample data, one batch
        sequence_length = len(sample) - 1  # number of lstm rollings (unit #)
        learning_rate = self.learning_rate  # the deck's 0.1

        X = tf.placeholder(tf.int32, [None, sequence_length])  # X data
        Y = tf.placeholder(tf.int32, [None, sequence_length])  # Y label

        x_one_hot = tf.one_hot(X, num_classes, dtype=f)  # one hot: 1 -> 0 1 0 0 0 0 0 0 0 0
        cell = tf.contrib.rnn.BasicLSTMCell(
            num_units=hidden_size, state_is_tuple=True)
        initial_state = cell.zero_state(batch_size, f)
        outputs, _states = tf.nn.dynamic_rnn(
            cell, x_one_hot, initial_state=initial_state, dtype=f)

        # FC layer
        X_for_fc = tf.reshape(outputs, [-1, hidden_size])
        outputs = tf.contrib.layers.fully_connected(X_for_fc, num_classes, activation_fn=None)

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
        return {g.X: data.x_data, g.Y: data.y_data}

    def fetches(self, g):
        return {"loss": g.loss, "train": g.train}

    def predicted(self, g, sess, data):
        result = sess.run(g.prediction, feed_dict={g.X: data.x_data})
        # print char using dic
        return "".join(data.idx2char[c] for c in np.squeeze(result))

    def log(self, g, sess, data, i, values):
        return f"{i} loss: {values['loss']!s} Prediction: {self.predicted(g, sess, data)}"

    def finish(self, g, sess, data):
        return {"text": self.predicted(g, sess, data)}

    def outputs(self, g, sess, data):
        return {"logits": sess.run(g.outputs, feed_dict={g.X: data.x_data})}
