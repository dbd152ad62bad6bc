"""The MNIST-rows sequence classifier of rnn_mnist.py written for TF2: a Keras LSTM / GRU layer
(31 units, Keras's layout: kernel, recurrent_kernel, bias; GRU reset_after=True), Dense 10,
sparse categorical cross-entropy from logits, Keras Adam(0.001), batches of 128 in file order.

    keras_lstm   keras.layers.LSTM(31)     vs mg.keras.layers.LSTM(31)
    keras_gru    keras.layers.GRU(31)      vs mg.keras.layers.GRU(31)

The reference is Keras 3 on TensorFlow (`tf.keras` is tf-keras 2 here, see parity.tf_env): a
tf.function step with tf.GradientTape (build_tf), or `model.train_on_batch` (build_tf2).

Written in each engine's own API, not as a lecture: these are Keras models, and
minigrad.compat.v1 (TF1 graph mode) has no Keras.
"""
import numpy as np

import minigrad as mg
from parity.cases.rnn_common import glorot_uniform, import_keras, tf_for
from parity.tf_env import tf_device_name
from parity.cases.rnn_mnist import N_CLASS, N_INPUT, N_STEP, MnistCase, accuracy
from parity.harness import Trainer, register_case

UNITS = 31
GATES = {"lstm": 4, "gru": 3}


def orthogonal(rng, shape):
    """Keras's `orthogonal` initializer: Q of a normal matrix's QR, signs fixed by R's diagonal."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q.T if rows < cols else q


def keras_weights(rng, kind, units=UNITS, input_size=N_INPUT):
    """Keras-layout initial weights: glorot kernel, orthogonal recurrent kernel, zero bias with
    the LSTM's forget block at 1 (unit_forget_bias); GRU reset_after: bias (2, 3H)."""
    g = GATES[kind] * units
    bias = np.zeros(g) if kind == "lstm" else np.zeros((2, g))
    if kind == "lstm":
        bias[units:2 * units] = 1.0
    return {f"{kind}/kernel": glorot_uniform(rng, (input_size, g)),
            f"{kind}/recurrent_kernel": orthogonal(rng, (units, g)),
            f"{kind}/bias": bias,
            "dense/kernel": glorot_uniform(rng, (units, N_CLASS)),
            "dense/bias": np.zeros(N_CLASS)}


class MinigradKerasRNN(Trainer):
    """mg.keras.layers.LSTM/GRU -> Dense(10); mg.optimizers.Adam (Keras's)."""

    def __init__(self, kind, weights, data, dtype, learning_rate=0.001, compiled=False):
        self.data = data
        layer = {"lstm": mg.keras.layers.LSTM, "gru": mg.keras.layers.GRU}[kind]
        dt = np.dtype(dtype).name
        self.rnn, self.dense = layer(UNITS, dtype=dt), mg.keras.layers.Dense(N_CLASS, dtype=dt)
        self.logits(data.train_x[:1])                   # builds the layers
        self.rnn.set_weights(list(weights.values())[:3])
        self.dense.set_weights(list(weights.values())[3:])
        self.params = dict(zip(weights, self.rnn.weights + self.dense.weights))
        self.optimizer = mg.optimizers.Adam(learning_rate)
        self.train = mg.function(self.train_step) if compiled else self.train_step

    def logits(self, x):
        return self.dense(self.rnn(mg.convert_to_tensor(x)))

    def loss(self, x, y):
        return mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=self.logits(x)))

    def train_step(self, x, y):
        return self.optimizer.minimize(lambda: self.loss(x, y), list(self.params.values()))

    def step(self, i):
        return self.train(*self.data.batch(i))

    def outputs(self):
        return {"test_logits[:256]": self.logits(self.data.test_x[:256]).numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}

    def extra(self):
        return {"test_accuracy": accuracy(lambda x: self.logits(x).numpy(), self.data.test_x,
                                          self.data.test_y)}


class KerasRNN(Trainer):
    """Keras 3: Sequential([Input, LSTM/GRU, Dense]); `mode` "function" steps with a
    tf.function + tf.GradientTape, "train_on_batch" with the compiled Keras model."""

    def __init__(self, kind, weights, data, dtype, learning_rate=0.001, mode="function",
                 device="cpu"):
        tf, keras = tf_for(device), import_keras()
        self.data, dt = data, np.dtype(dtype).name
        self.device = tf.device(tf_device_name(device))
        layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[kind]
        with self.device:
            model = keras.Sequential([keras.Input((N_STEP, N_INPUT), dtype=dt),
                                      layer(UNITS, dtype=dt),
                                      keras.layers.Dense(N_CLASS, dtype=dt)])
        model.set_weights(list(weights.values()))
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dt)
        optimizer = keras.optimizers.Adam(learning_rate)
        if mode == "train_on_batch":
            model.compile(optimizer=optimizer, loss=loss_fn, jit_compile=False)
            self._step = lambda x, y: model.train_on_batch(x, y)
        else:
            variables = model.trainable_variables

            @tf.function
            def step(x, y):
                with tf.GradientTape() as tape:
                    loss = loss_fn(y, model(x, training=True))
                optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
                return loss
            self._step = lambda x, y: step(x, y).numpy()
        self.model, self.names = model, list(weights)

    def step(self, i):
        with self.device:
            return self._step(*self.data.batch(i))

    def logits(self, x):
        return np.asarray(self.model(x))

    def outputs(self):
        return {"test_logits[:256]": self.logits(self.data.test_x[:256])}

    def weights(self):
        return dict(zip(self.names, self.model.get_weights()))

    def extra(self):
        return {"test_accuracy": accuracy(self.logits, self.data.test_x, self.data.test_y)}


class KerasCase(MnistCase):
    kind = None
    steps = 55000 // 128                 # one epoch

    def init_weights(self, rng, dtype):
        return keras_weights(rng, self.kind)

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MinigradKerasRNN(self.kind, weights, data, dtype, self.learning_rate, compiled)

    def build_tf(self, weights, data, dtype, device="cpu"):
        return KerasRNN(self.kind, weights, data, dtype, self.learning_rate, "function", device)

    def build_tf2(self, weights, data, dtype, eager=False):
        return KerasRNN(self.kind, weights, data, dtype, self.learning_rate, "train_on_batch")


@register_case
class KerasLstm(KerasCase):
    name = "keras_lstm"
    kind = "lstm"
    description = "MNIST rows: keras.layers.LSTM(31) -> Dense 10, Keras Adam(0.001), one epoch"


@register_case
class KerasGru(KerasCase):
    name = "keras_gru"
    kind = "gru"
    description = "MNIST rows: keras.layers.GRU(31) (reset_after) -> Dense 10, Keras Adam(0.001)"
