"""The char-RNN lectures (hunkim/DeepLearningZeroToAll lab 12-1, 12-2, 12-4): one-hot characters
through BasicLSTMCell (a 2-layer MultiRNNCell for the long sentence), dynamic_rnn, a fully
connected layer (no activation) on every output, contrib's sequence_loss with weights of ones,
AdamOptimizer(0.1).

    hihello       "hihell" -> "ihello", BasicLSTMCell(5), 50 steps
    char_seq      " if you want you" shifted by one; hidden = 10 distinct characters; 50 steps
    char_stacked  the "build a ship" sentence in 170 windows of 10 (one batch), 2 x
                  BasicLSTMCell(25), 500 steps; the windows' predictions rebuild the sentence
"""
import numpy as np

import minigrad as mg
from minigrad.data import chars
from parity.cases.rnn_common import (SessionTrainer, dense_weights, import_keras, keras_rnn,
                                     keras_stack_weights, make_cell, mg_copy, stack_weights,
                                     tf_copy_ops, tf_for, tf_sequence_loss, under)
from parity.harness import Case, Tolerance, Trainer, register_case


def decode(idx2char, prediction):
    """Prediction ids [batch, seq] as text: the first window whole, then each later window's
    last character (what lab 12-4 prints; for one window, just that window)."""
    prediction = np.asarray(prediction)
    text = [idx2char[c] for c in prediction[0]]
    text += [idx2char[row[-1]] for row in prediction[1:]]
    return "".join(text)


class CharRNN(Trainer):
    """The minigrad program; examples/hihello.py, char_seq.py and char_stacked.py run it too.

    `data` is a `minigrad.data.chars.CharData`; `layers` the LSTM sizes (one: a single
    BasicLSTMCell with an explicit zero initial state, as lab 12-1/12-2; several: a
    MultiRNNCell, as lab 12-4); `weights` the initial values from `CharCase.init_weights`.
    """

    def __init__(self, data, layers, weights, dtype=np.float32, learning_rate=0.1,
                 compiled=False):
        self.data, self.dtype = data, dtype
        self.batch_size, self.sequence_length = data.x.shape
        self.num_classes, self.hidden_size = data.num_classes, layers[-1]
        self.X, self.Y = mg.constant(data.x), mg.constant(data.y)
        self.cell = make_cell(mg.nn.rnn_cell, "lstm", layers, state_is_tuple=True)
        self.fc = mg.layers.Dense(self.num_classes)     # fully_connected(activation_fn=None)
        self.logits()                                   # creates the variables
        self.params = dict(zip(weights, mg_copy("cell", self.cell.weights, under(weights, "rnn")) +
                               mg_copy("fc", self.fc.weights, under(weights, "fully_connected"))))
        self.optimizer = mg.train.AdamOptimizer(learning_rate=learning_rate)
        self.train = mg.function(self.train_step) if compiled else self.train_step

    def logits(self):
        x_one_hot = mg.one_hot(self.X, self.num_classes, dtype=self.dtype)
        if isinstance(self.cell, mg.nn.rnn_cell.MultiRNNCell):
            outputs, _states = mg.nn.dynamic_rnn(self.cell, x_one_hot, dtype=self.dtype)
        else:
            initial_state = self.cell.zero_state(self.batch_size, self.dtype)
            outputs, _states = mg.nn.dynamic_rnn(self.cell, x_one_hot,
                                                 initial_state=initial_state, dtype=self.dtype)
        x_for_fc = mg.reshape(outputs, [-1, self.hidden_size])
        outputs = self.fc(x_for_fc)
        return mg.reshape(outputs, [self.batch_size, self.sequence_length, self.num_classes])

    def loss(self):
        weights = mg.ones([self.batch_size, self.sequence_length], dtype=self.dtype)
        sequence_loss = mg.seq2seq.sequence_loss(logits=self.logits(), targets=self.Y,
                                                 weights=weights)
        return mg.reduce_mean(sequence_loss)

    def train_step(self):
        return self.optimizer.minimize(self.loss, var_list=list(self.params.values()))

    def step(self, i):
        return self.train()

    def prediction(self):
        return mg.argmax(self.logits(), axis=2).numpy()

    def outputs(self):
        return {"logits": self.logits().numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}

    def extra(self):
        return {"text": decode(self.data.idx2char, self.prediction())}


class SessionCharRNN(SessionTrainer):
    """The lecture's TF1 program (tf.contrib.rnn is tf.compat.v1.nn.rnn_cell now, and
    contrib.layers.fully_connected a layers.Dense with the same variables)."""

    def __init__(self, data, layers, weights, dtype, device, learning_rate=0.1,
                 feed_one_hot=False):
        self.data, self.layers, self.init = data, layers, weights
        self.learning_rate, self.feed_one_hot = learning_rate, feed_one_hot
        super().__init__(dtype, device)

    def build(self, tf, v1):
        dtype, data = self.dtype, self.data
        batch_size, sequence_length = data.x.shape
        num_classes, hidden_size = data.num_classes, self.layers[-1]
        if self.feed_one_hot:       # lab 12-1 feeds numpy one-hot rows
            self.X = v1.placeholder(dtype, [None, sequence_length, num_classes])
            x_one_hot = self.X
        else:                       # lab 12-2 and 12-4 feed ids and one-hot them in the graph
            self.X = v1.placeholder(tf.int32, [None, sequence_length])
            x_one_hot = tf.one_hot(self.X, num_classes, dtype=dtype)
        self.Y = v1.placeholder(tf.int32, [None, sequence_length])
        cell = make_cell(v1.nn.rnn_cell, "lstm", self.layers, state_is_tuple=True)
        if len(self.layers) == 1:
            initial_state = cell.zero_state(batch_size, dtype)
            outputs, _states = v1.nn.dynamic_rnn(cell, x_one_hot, initial_state=initial_state,
                                                 dtype=dtype)
        else:
            outputs, _states = v1.nn.dynamic_rnn(cell, x_one_hot, dtype=dtype)
        x_for_fc = tf.reshape(outputs, [-1, hidden_size])
        fc = v1.layers.Dense(num_classes, activation=None, name="fully_connected")
        outputs = tf.reshape(fc(x_for_fc), [batch_size, sequence_length, num_classes])
        weights = tf.ones([batch_size, sequence_length], dtype=dtype)
        sequence_loss = tf_sequence_loss(tf, logits=outputs, targets=self.Y, weights=weights)
        self.loss = tf.reduce_mean(sequence_loss)
        self.train = v1.train.AdamOptimizer(learning_rate=self.learning_rate).minimize(self.loss)
        self.logits, self.prediction = outputs, tf.argmax(outputs, axis=2)
        self.params = dict(zip(self.init, list(cell.weights) + list(fc.weights)))
        return (tf_copy_ops("cell", cell.weights, under(self.init, "rnn")) +
                tf_copy_ops("fc", fc.weights, under(self.init, "fully_connected")))

    def feed(self, i):
        x = self.data.x
        x = np.eye(self.data.num_classes, dtype=self.dtype)[x] if self.feed_one_hot else x
        return {self.X: x, self.Y: self.data.y}

    def outputs(self):
        return {"logits": self.sess.run(self.logits, self.feed(0))}

    def weights(self):
        return self.sess.run(self.params)

    def extra(self):
        return {"text": decode(self.data.idx2char, self.sess.run(self.prediction, self.feed(0)))}


class Tf2CharRNN(Trainer):
    """Modern TensorFlow: Keras 3 LSTM cells in a Keras RNN layer (TF1 weights converted to
    Keras's layout), a Keras Dense, a tf.function step with tf.GradientTape and the lecture's
    optimizer. NOTE: not Keras's Adam, which rounds beta1/beta2 to float32 in its bias
    correction (`tf.cast(0.999, float64)` goes through float32): 7e-6 off TF1 in float64."""

    def __init__(self, data, layers, weights, dtype, learning_rate=0.1, eager=False):
        tf, keras = tf_for(), import_keras()
        self.data = data
        b, s = data.x.shape
        n = data.num_classes
        rnn = keras_rnn(keras, "lstm", layers, dtype, return_sequences=True)
        fc = keras.layers.Dense(n, dtype=np.dtype(dtype).name)
        x = tf.one_hot(tf.constant(data.x), n, dtype=dtype)
        y = tf.constant(data.y)
        seq_weights = tf.ones([b, s], dtype=dtype)

        def logits():
            return tf.reshape(fc(tf.reshape(rnn(x), [-1, layers[-1]])), [b, s, n])
        logits()
        rnn.set_weights(keras_stack_weights("lstm", weights, n, layers))
        fc.set_weights(under(weights, "fully_connected"))
        opt = tf.compat.v1.train.AdamOptimizer(learning_rate)
        variables = [v.value for v in rnn.trainable_variables + fc.trainable_variables]

        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf_sequence_loss(tf, logits(), y, seq_weights))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self.logits, self._step = logits, (step if eager else tf.function(step))
        self.rnn, self.fc, self.names = rnn, fc, list(weights)

    def step(self, i):
        return self._step().numpy()

    def outputs(self):
        return {"logits": self.logits().numpy()}

    def extra(self):
        return {"text": decode(self.data.idx2char, np.argmax(self.logits().numpy(), axis=2))}


class CharCase(Case):
    num_layers = 1          # BasicLSTMCells of hidden = number of characters
    learning_rate = 0.1
    feed_one_hot = False
    f32_steps = 30          # float32 loss judged over these first steps (see tolerance)
    f64_steps = None        # float64: None = every step
    FLOAT32_WHY = ("float32: loss rel <= 1e-5 (TF's assertAllClose scale) while the loss is "
                   "above ~1e-2; the loss then heads to 0 while its float32 rounding stays "
                   "~1e-8 absolute (a log-sum-exp of logits of size ~10 minus the label's), so "
                   "its relative error grows past 1e-5 without any divergence; drift reported")

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9,
                             "float64: the same formulas; only summation order and libm's last "
                             "bit differ")
        return Tolerance(1e-5, self.f32_steps, None, None, self.FLOAT32_WHY)

    def load(self):
        raise NotImplementedError

    def data(self, data_dir, dtype):
        return self.load()

    def hidden(self, data):
        return [data.num_classes] * self.num_layers

    def init_weights(self, rng, dtype):
        data = self.load()
        layers = self.hidden(data)
        w = stack_weights(rng, "lstm", data.num_classes, layers)
        w.update(dense_weights(rng, layers[-1], data.num_classes))
        return w

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return CharRNN(data, self.hidden(data), weights, dtype, self.learning_rate, compiled)

    def build_tf(self, weights, data, dtype, device="cpu"):
        return SessionCharRNN(data, self.hidden(data), weights, dtype, device,
                              self.learning_rate, self.feed_one_hot)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2CharRNN(data, self.hidden(data), weights, dtype, self.learning_rate, eager)


@register_case
class HiHello(CharCase):
    name = "hihello"
    steps = 50
    ci_steps = 5
    feed_one_hot = True
    description = "lab 12-1: 'hihell' -> 'ihello', BasicLSTMCell(5), sequence_loss, Adam(0.1)"

    def load(self):
        return chars.hihello()


@register_case
class CharSeq(CharCase):
    name = "char_seq"
    steps = 50
    ci_steps = 5
    f32_steps = 20
    description = "lab 12-2: ' if you want you' next characters, BasicLSTMCell(10), Adam(0.1)"

    def load(self):
        return chars.char_sequence(" if you want you")


@register_case
class CharStacked(CharCase):
    name = "char_stacked"
    steps = 500
    ci_steps = 3
    num_layers = 2
    f32_steps, f64_steps = 15, 75
    description = ("lab 12-4: 'build a ship' sentence, 170 windows of 10, 2 x BasicLSTMCell(25), "
                   "Adam(0.1), 500 steps")

    def tolerance(self, dtype):
        why = ("chaotic training: Adam(0.1) on this net multiplies a difference by ~10 every "
               "~13 steps (float64: 1e-16 at step 0, 1e-9 near step 95; float32: 1e-7 -> 1e-5 "
               "by step 19), and TensorFlow against itself (Session vs the Keras-cell "
               "tf.function, other summation order) diverges at the same rate; so judged "
               "while the growth stays within bounds, drift (whole run) reported")
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, self.f64_steps, None, None, f"float64: first 75 steps; {why}")
        return Tolerance(1e-5, self.f32_steps, None, None, f"float32: first 15 steps; {why}")

    def load(self):
        return chars.sentence_windows(chars.SHIP_SENTENCE, seq_length=10)
