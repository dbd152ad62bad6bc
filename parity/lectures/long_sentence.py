"""Deck 002, lab 12-4, "really long sentence?": the char-seq program on the "build a ship"
sentence, cut into 170 windows of 10 characters (one batch), with ONE BasicLSTMCell whose
outputs are the logits (no softmax layer). The deck shows it does not work: the loss stalls
and the predictions stay garbled, which leads to the stacked cells and the fully connected
layer of `char_stacked`.

    one BasicLSTMCell(hidden = 25 characters) from zero_state, dynamic_rnn, outputs as logits,
    sequence_loss, AdamOptimizer(0.1), 500 steps
"""
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf

sentence = ("if you want to build a ship, don't drum up people together to "
            "collect wood and don't assign them tasks and work, but rather "
            "teach them to long for the endless immensity of the sea.")


def windows(sentence, sequence_length=10):
    """The deck's data: every window of `sequence_length` characters and the same window one
    character later, as ids."""
    # NOTE: the deck's list(set(sentence)) order changes from run to run (string hashing);
    # sorted, so both engines and every run see the same ids
    char_set = sorted(set(sentence))
    char_dic = {w: i for i, w in enumerate(char_set)}
    dataX = []
    dataY = []
    for i in range(0, len(sentence) - sequence_length):
        x_str = sentence[i:i + sequence_length]
        y_str = sentence[i + 1: i + sequence_length + 1]
        x = [char_dic[c] for c in x_str]  # x str to index
        y = [char_dic[c] for c in y_str]  # y str to index
        dataX.append(x)
        dataY.append(y)
    return types.SimpleNamespace(char_set=char_set, char_dic=char_dic,
                                 sequence_length=sequence_length,
                                 dataX=np.array(dataX, np.int32), dataY=np.array(dataY, np.int32))


def sentence_of(char_set, results):
    """The deck's closing print: the first window's prediction whole, then each later window's
    last character."""
    text = []
    for j, result in enumerate(results):
        index = np.argmax(result, axis=1)
        if j == 0:  # print all for the first result to make a sentence
            text += [char_set[t] for t in index]
        else:
            text.append(char_set[index[-1]])
    return "".join(text)


class LongSentence(Lecture):
    """What the long-sentence lectures share: the data, the deck's loop and prints."""
    steps = 500
    loss = "loss"
    learning_rate = 0.1

    def data(self, data_dir, dtype):
        return windows(sentence)

    def feed(self, g, data, i):
        return {g.X: data.dataX, g.Y: data.dataY}

    def fetches(self, g):
        return {"train": g.train_op, "loss": g.mean_loss, "outputs": g.outputs}

    def log(self, g, sess, data, i, values):
        l, results = values["loss"], values["outputs"]
        return "\n".join(f"{i} {j} {''.join(data.char_set[t] for t in np.argmax(result, 1))} "
                         f"{l!s}" for j, result in enumerate(results))

    def finish(self, g, sess, data):
        # Let's print the last char of each result to check it works
        results = sess.run(g.outputs, feed_dict={g.X: data.dataX})
        return {"text": sentence_of(data.char_set, results)}

    def outputs(self, g, sess, data):
        return {"logits": sess.run(g.outputs, feed_dict={g.X: data.dataX})}


@register
class OneLayer(LongSentence):
    name = "long_sentence"
    deck = "002, lab 12-4: a long sentence, one layer"
    title = "'build a ship' in 170 windows: one BasicLSTMCell(25), outputs as logits (fails)"

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        char_set = data.char_set
        data_dim = len(char_set)  # noqa: F841 (the deck's)
        hidden_size = len(char_set)
        num_classes = len(char_set)
        sequence_length = data.sequence_length  # Any arbitrary number
        learning_rate = self.learning_rate  # the deck's 0.1
        batch_size = len(data.dataX)

        X = tf.placeholder(tf.int32, [None, sequence_length])
        Y = tf.placeholder(tf.int32, [None, sequence_length])

        # One-hot encoding
        X_one_hot = tf.one_hot(X, num_classes, dtype=f)

        cell = tf.contrib.rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
        initial_state = cell.zero_state(batch_size, f)
        outputs, _states = tf.nn.dynamic_rnn(
            cell, X_one_hot, initial_state=initial_state, dtype=f)

        weights = tf.ones([batch_size, sequence_length], dtype=f)
        sequence_loss = tf.contrib.seq2seq.sequence_loss(
            logits=outputs, targets=Y, weights=weights)
        mean_loss = tf.reduce_mean(sequence_loss)
        train_op = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(mean_loss)
        return types.SimpleNamespace(X=X, Y=Y, outputs=outputs, mean_loss=mean_loss,
                                     train_op=train_op)
