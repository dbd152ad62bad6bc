"""The stock-prediction lecture (parity/lectures/stock.py, deck 002, lab 12-5) as a parity case:
7 days x 5 features (Open, High, Low, Volume, Close; min-max scaled) -> BasicLSTMCell(10, tanh)
-> fully_connected 1 on the last output = the next day's Close; loss = sum of squared errors,
AdamOptimizer(0.01), 500 steps on the whole 70% training split; RMSE on the 30% test split
(scaled units; about 0.026 on the real CSV with the lecture's whole-series scaling).

The real CSV is <data_dir>/stock-daily/data-02-stock_daily.csv; without a data directory, a
generated series of the same size. Written once more here on purpose: the TF2 reference (a Keras
LSTM cell in a tf.function step), a benchmark peer, not a parity side.
"""
import numpy as np

from parity.cases.rnn_common import (import_keras, keras_rnn, keras_stack_weights,
                                     lecture_weights, tf_for, under)
from parity.harness import LectureCase, Tolerance, Trainer, register_case
from parity.lectures import stock as lectures

DATA_DIM, HIDDEN_DIM, OUTPUT_DIM = lectures.data_dim, lectures.hidden_dim, lectures.output_dim


def rmse(targets, predictions):
    return float(np.sqrt(np.mean(np.square(targets - predictions))))


class Tf2StockLSTM(Trainer):
    """Modern TensorFlow: keras.layers.RNN(LSTMCell) + Dense with the TF1 weights converted,
    a tf.function step with tf.GradientTape and the lecture's AdamOptimizer."""

    def __init__(self, data, weights, dtype, learning_rate=0.01, eager=False):
        tf, keras = tf_for(), import_keras()
        self.data = data
        rnn = keras_rnn(keras, "lstm", [HIDDEN_DIM], dtype)
        fc = keras.layers.Dense(OUTPUT_DIM, dtype=np.dtype(dtype).name)
        x, y = tf.constant(data.trainX), tf.constant(data.trainY)
        self.predict = lambda x: fc(rnn(x))
        self.predict(x)
        rnn.set_weights(keras_stack_weights("lstm", weights, DATA_DIM, [HIDDEN_DIM]))
        fc.set_weights(under(weights, "fully_connected"))
        opt = tf.compat.v1.train.AdamOptimizer(learning_rate)
        variables = [v.value for v in rnn.trainable_variables + fc.trainable_variables]

        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(self.predict(x) - y))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self._step = step if eager else tf.function(step)

    def step(self, i):
        return self._step().numpy()

    def outputs(self):
        return {"test_predict": self.predict(self.data.testX).numpy()}

    def extra(self):
        return {"RMSE": rmse(self.data.testY, self.outputs()["test_predict"])}


@register_case
class StockLstmCase(LectureCase):
    lecture = lectures.Stock
    ci_steps = 5
    needs = "stock-daily"

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9,
                             "float64: the same formulas; only summation order and libm's last "
                             "bit differ; full-batch Adam(0.01) on a smooth regression")
        return Tolerance(1e-5, 50, None, None,
                         "float32: first 50 steps at 1e-5 (TF's assertAllClose scale); the sum "
                         "over ~500 windows and Adam's normalised steps let last-bit "
                         "differences grow later; the drift is reported")

    def init_weights(self, rng, dtype):
        """TF1's default initial values (glorot kernels, zero biases) under the lecture's
        variable names."""
        return lecture_weights(self.lecture(), rng, dtype)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2StockLSTM(data, weights, dtype, eager=eager)
