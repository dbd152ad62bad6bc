"""Deck 002, lab 12-4: the long sentence made to work, "wide & deep": two stacked
BasicLSTMCells (MultiRNNCell) and a fully connected layer on every output.

    170 windows of 10 characters of the "build a ship" sentence (one batch), one-hot in the
    graph, MultiRNNCell of 2 x BasicLSTMCell(25), dynamic_rnn, fully_connected 25,
    sequence_loss, AdamOptimizer(0.1), 500 steps; the windows' predictions rebuild the sentence
"""
import types

from parity.lectures import register
from parity.lectures._contrib import contrib_tf
from parity.lectures.long_sentence import LongSentence


@register
class CharStacked(LongSentence):
    name = "char_stacked"
    deck = "002, lab 12-4: a long sentence, stacked RNN"
    title = "'build a ship' in 170 windows: MultiRNNCell 2 x BasicLSTMCell(25), fully_connected"

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        rnn = tf.contrib.rnn    # the deck: from tensorflow.contrib import rnn
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

        # Make a lstm cell with hidden_size (each unit output vector size)
        def lstm_cell():
            cell = rnn.BasicLSTMCell(hidden_size, state_is_tuple=True)
            return cell

        multi_cells = rnn.MultiRNNCell([lstm_cell() for _ in range(2)], state_is_tuple=True)

        # outputs: unfolding size x hidden size, state = hidden size
        outputs, _states = tf.nn.dynamic_rnn(multi_cells, X_one_hot, dtype=f)

        # FC layer
        X_for_fc = tf.reshape(outputs, [-1, hidden_size])
        outputs = tf.contrib.layers.fully_connected(X_for_fc, num_classes, activation_fn=None)

        # reshape out for sequence_loss
        outputs = tf.reshape(outputs, [batch_size, sequence_length, num_classes])

        # All weights are 1 (equal weights)
        weights = tf.ones([batch_size, sequence_length], dtype=f)

        sequence_loss = tf.contrib.seq2seq.sequence_loss(
            logits=outputs, targets=Y, weights=weights)
        mean_loss = tf.reduce_mean(sequence_loss)
        train_op = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(mean_loss)
        return types.SimpleNamespace(X=X, Y=Y, outputs=outputs, mean_loss=mean_loss,
                                     train_op=train_op)
