"""The char-RNN lectures of deck 002 (parity/lectures: hihello.py, char_seq.py,
char_stacked.py) as parity cases, with their tolerances and initial weights.

    hihello       "hihell" -> "ihello", BasicLSTMCell(5), 50 steps
    char_seq      " if you want you" shifted by one; hidden = 10 distinct characters; 50 steps
    char_stacked  the "build a ship" sentence in 170 windows of 10 (one batch), 2 x
                  BasicLSTMCell(25), 500 steps; the windows' predictions rebuild the sentence

One-hot characters, dynamic_rnn, contrib's fully_connected on every output, sequence_loss with
weights of ones, AdamOptimizer(0.1). The model is the lecture's TF1 program, run by each
engine's Session. Written once more here on purpose: the TF2 reference (Keras cells in a
tf.function step), a benchmark peer, not a parity side.
"""
import types

import numpy as np

from minigrad.data import chars
from parity.cases.rnn_common import (import_keras, keras_rnn, keras_stack_weights,
                                     lecture_weights, tf_for, under)
from parity.harness import LectureCase, Tolerance, Trainer, register_case
from parity.lectures import char_seq as char_seq_lecture
from parity.lectures import char_stacked as char_stacked_lecture
from parity.lectures import hihello as hihello_lecture
from parity.lectures._contrib import sequence_loss


def decode(idx2char, prediction):
    """Prediction ids [batch, seq] as text: the first window whole, then each later window's
    last character (what lab 12-4 prints; for one window, just that window)."""
    prediction = np.asarray(prediction)
    text = [idx2char[c] for c in prediction[0]]
    text += [idx2char[row[-1]] for row in prediction[1:]]
    return "".join(text)


def lecture_data(lecture, data, dtype):
    """A `minigrad.data.chars.CharData` (x, y ids and the sorted characters, as the lectures
    sort them) in the form `lecture`'s program takes it."""
    x, y = np.asarray(data.x, np.int32), np.asarray(data.y, np.int32)
    if isinstance(lecture, hihello_lecture.HiHello):
        return types.SimpleNamespace(x_one_hot=data.one_hot(x).astype(dtype), y_data=y,
                                     idx2char=list(data.idx2char))
    if isinstance(lecture, char_seq_lecture.CharSeq):
        lecture.sample = "".join(data.idx2char[c] for c in x[0]) + data.idx2char[y[0, -1]]
        return lecture.data(None, dtype)
    return types.SimpleNamespace(char_set=list(data.idx2char), char_dic=data.char2idx,
                                 sequence_length=x.shape[1], dataX=x, dataY=y)


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
                loss = tf.reduce_mean(sequence_loss(tf, logits(), y, seq_weights))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self.logits, self._step = logits, (step if eager else tf.function(step))

    def step(self, i):
        return self._step().numpy()

    def outputs(self):
        return {"logits": self.logits().numpy()}

    def extra(self):
        return {"text": decode(self.data.idx2char, np.argmax(self.logits().numpy(), axis=2))}


class CharCase(LectureCase):
    lecture = hihello_lecture.HiHello   # (LectureCase wants one; each case below sets its own)
    num_layers = 1          # BasicLSTMCells of hidden = number of characters
    learning_rate = 0.1
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
        """The lecture's characters as a `minigrad.data.chars.CharData` (examples/*.py)."""
        raise NotImplementedError

    def hidden(self, data):
        return [data.num_classes] * self.num_layers

    def init_weights(self, rng, dtype):
        """TF1's default initial values (glorot kernels, zero biases) under the lecture's
        variable names, for the characters of `load()`."""
        lecture = self.lecture()
        data = lecture_data(lecture, self.load(), np.dtype(dtype).name)
        return lecture_weights(lecture, rng, dtype, data)

    def build_tf2(self, weights, data, dtype, eager=False):
        data = self.load()
        return Tf2CharRNN(data, self.hidden(data), weights, dtype, self.learning_rate, eager)


@register_case
class HiHello(CharCase):
    lecture = hihello_lecture.HiHello
    ci_steps = 5

    def load(self):
        return chars.hihello()


@register_case
class CharSeq(CharCase):
    lecture = char_seq_lecture.CharSeq
    ci_steps = 5
    f32_steps = 20

    def load(self):
        return chars.char_sequence(self.lecture.sample)


@register_case
class CharStacked(CharCase):
    lecture = char_stacked_lecture.CharStacked
    ci_steps = 3
    num_layers = 2
    f32_steps, f64_steps = 15, 75

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
