"""MNIST read row by row: each 28x28 image is a sequence of 28 steps of 28 pixels, the RNN's last
output goes to a dense layer of 10, sparse softmax cross-entropy (mean), AdamOptimizer(0.001),
batches of 128 (batch i of the training set, in file order: no shuffling, so both engines see
the same batches).

    rnn_mnist          BasicRNNCell(31)
    rnn_mnist_stacked  MultiRNNCell of 3 x BasicRNNCell(31)
    lstm_mnist         MultiRNNCell of 2 x BasicLSTMCell(31)

Real MNIST from <data_dir>/mnist; without a data directory, `minigrad.data.mnist.synthetic`.
"""
from dataclasses import dataclass

import numpy as np

import minigrad as mg
from minigrad.data import mnist
from parity.cases.rnn_common import (SessionTrainer, dense_weights, import_keras, keras_rnn,
                                     keras_stack_weights, make_cell, mg_copy, stack_weights,
                                     tf_copy_ops, tf_for, under)
from parity.harness import Case, Tolerance, Trainer, register_case

N_STEP, N_INPUT, N_CLASS = 28, 28, 10


@dataclass
class MnistRows:
    """Images as [n, 28, 28] rows in [0, 1], int64 labels, cut into batches by index."""
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    batch_size: int = 128

    @property
    def batches_per_epoch(self):
        return max(1, len(self.train_x) // self.batch_size)

    def batch(self, i):
        """Batch i, wrapping around each epoch (the last partial batch is skipped)."""
        j = (i % self.batches_per_epoch) * self.batch_size
        return self.train_x[j:j + self.batch_size], self.train_y[j:j + self.batch_size]


def mnist_rows(data_dir=None, dtype=np.float32, batch_size=128, n_train=None, n_test=None):
    """Real MNIST (train = the 55000 after the 5000 validation images, as read_data_sets) from
    `data_dir`, else generated digits (55000 / 10000 unless `n_train` / `n_test` say)."""
    if data_dir:
        d = mnist.load(data_dir, dtype=dtype)
        tr_x, tr_y, te_x, te_y = d.train.images, d.train.labels, d.test.images, d.test.labels
    else:
        tr_x, tr_y = mnist.synthetic(n_train or 55000, seed=0)
        te_x, te_y = mnist.synthetic(n_test or 10000, seed=1)
        scale = np.dtype(dtype).type(1.0 / 255.0)      # as TF: x * (1/255)
        tr_x, te_x = (x.astype(dtype) * scale for x in (tr_x, te_x))
    tr_x, tr_y, te_x, te_y = tr_x[:n_train], tr_y[:n_train], te_x[:n_test], te_y[:n_test]
    rows = lambda x: np.ascontiguousarray(x.reshape(-1, N_STEP, N_INPUT), dtype)  # noqa: E731
    return MnistRows(rows(tr_x), tr_y.astype(np.int64), rows(te_x), te_y.astype(np.int64),
                     batch_size)


def accuracy(logits_fn, x, y, chunk=2000):
    hits = sum(int(np.sum(np.argmax(logits_fn(x[i:i + chunk]), 1) == y[i:i + chunk]))
               for i in range(0, len(x), chunk))
    return hits / max(1, len(x))


class MnistRNN(Trainer):
    """The minigrad program (examples/rnn_mnist.py and lstm_mnist.py run it too).
    `static=True` unrolls with static_rnn over the 28 rows instead of dynamic_rnn."""

    def __init__(self, kind, layers, weights, data, dtype=np.float32, learning_rate=0.001,
                 static=False, compiled=False):
        self.data, self.dtype, self.static = data, dtype, static
        self.cell = make_cell(mg.nn.rnn_cell, kind, layers)
        self.dense = mg.layers.Dense(N_CLASS)
        self.logits(data.train_x[:1])                   # creates the variables
        self.params = dict(zip(weights, mg_copy("cell", self.cell.weights, under(weights, "rnn")) +
                               mg_copy("dense", self.dense.weights, under(weights, "dense"))))
        self.optimizer = mg.train.AdamOptimizer(learning_rate)
        self.train = mg.function(self.train_step) if compiled else self.train_step

    def logits(self, x):
        X = mg.convert_to_tensor(x)
        if self.static:
            outputs, _states = mg.nn.static_rnn(self.cell, mg.unstack(X, N_STEP, 1),
                                                dtype=self.dtype)
            last = outputs[-1]
        else:
            outputs, _states = mg.nn.dynamic_rnn(self.cell, X, dtype=self.dtype)
            last = outputs[:, -1]
        return self.dense(last)

    def cost(self, x, y):
        return mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=self.logits(x)))

    def train_step(self, x, y):
        return self.optimizer.minimize(lambda: self.cost(x, y), list(self.params.values()))

    def step(self, i):
        return self.train(*self.data.batch(i))

    def test_accuracy(self):
        return accuracy(lambda x: self.logits(x).numpy(), self.data.test_x, self.data.test_y)

    def outputs(self):
        return {"test_logits[:256]": self.logits(self.data.test_x[:256]).numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}

    def extra(self):
        return {"test_accuracy": self.test_accuracy()}


class SessionMnistRNN(SessionTrainer):
    """The TF1 program, as the lecture writes it."""

    def __init__(self, kind, layers, weights, data, dtype, device, learning_rate=0.001,
                 static=False, engine="tensorflow"):
        self.kind, self.layers, self.init, self.data = kind, layers, weights, data
        self.learning_rate, self.static = learning_rate, static
        super().__init__(dtype, device, engine)

    def build(self, tf, v1):
        self.X = v1.placeholder(self.dtype, [None, N_STEP, N_INPUT])
        self.Y = v1.placeholder(tf.int64, [None])
        cell = make_cell(v1.nn.rnn_cell, self.kind, self.layers)
        if self.static:
            outputs, _states = v1.nn.static_rnn(cell, tf.unstack(self.X, N_STEP, 1),
                                                dtype=self.dtype)
            last = outputs[-1]
        else:
            outputs, _states = v1.nn.dynamic_rnn(cell, self.X, dtype=self.dtype)
            last = outputs[:, -1]
        dense = v1.layers.Dense(N_CLASS, name="dense")
        self.model = dense(last)
        self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=self.Y, logits=self.model))
        self.train = v1.train.AdamOptimizer(self.learning_rate).minimize(self.loss)
        self.params = dict(zip(self.init, list(cell.weights) + list(dense.weights)))
        return (tf_copy_ops("cell", cell.weights, under(self.init, "rnn")) +
                tf_copy_ops("dense", dense.weights, under(self.init, "dense")))

    def feed(self, i):
        x, y = self.data.batch(i)
        return {self.X: x, self.Y: y}

    def logits(self, x):
        return self.sess.run(self.model, feed_dict={self.X: x})

    def outputs(self):
        return {"test_logits[:256]": self.logits(self.data.test_x[:256])}

    def weights(self):
        return self.sess.run(self.params)

    def extra(self):
        return {"test_accuracy": accuracy(self.logits, self.data.test_x, self.data.test_y)}


class Tf2MnistRNN(Trainer):
    """Modern TensorFlow: keras.layers.RNN of Keras cells (TF1 weights converted) + Dense, a
    tf.function step with tf.GradientTape and the lecture's AdamOptimizer."""

    def __init__(self, kind, layers, weights, data, dtype, learning_rate=0.001, eager=False):
        tf, keras = tf_for(), import_keras()
        self.data = data
        rnn = keras_rnn(keras, kind, layers, dtype)
        dense = keras.layers.Dense(N_CLASS, dtype=np.dtype(dtype).name)
        self.model = lambda x: dense(rnn(x))
        self.model(data.train_x[:1])
        rnn.set_weights(keras_stack_weights(kind, weights, N_INPUT, layers))
        dense.set_weights(under(weights, "dense"))
        opt = tf.compat.v1.train.AdamOptimizer(learning_rate)
        variables = [v.value for v in rnn.trainable_variables + dense.trainable_variables]

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=self.model(x)))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self._step = step if eager else tf.function(step)

    def step(self, i):
        return self._step(*self.data.batch(i)).numpy()

    def logits(self, x):
        return self.model(x).numpy()

    def outputs(self):
        return {"test_logits[:256]": self.logits(self.data.test_x[:256])}

    def extra(self):
        return {"test_accuracy": accuracy(self.logits, self.data.test_x, self.data.test_y)}


class MnistCase(Case):
    kind, layers = "rnn", [31]
    needs = "mnist"
    steps = 10 * (55000 // 128)        # the lecture's 10 epochs of batch 128
    ci_steps = 3
    learning_rate = 0.001

    def __init__(self, batch_size=128, n_train=None, n_test=None, static=False):
        """Smaller `batch_size`, `n_train`, `n_test` keep CI short; `static` uses static_rnn."""
        self.batch_size, self.n_train, self.n_test = batch_size, n_train, n_test
        self.static = static

    f64_steps = None        # float64 judged over these first steps; None: all (see chaos)
    chaos = ""              # where and how the training turns chaotic, if it does

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            if self.f64_steps is None:
                return Tolerance(1e-9, None, 1e-7, 1e-9,
                                 "float64: the same formulas; only summation order and libm's "
                                 "last bit differ, and this training is not chaotic")
            return Tolerance(1e-9, self.f64_steps, None, None,
                             f"float64: first {self.f64_steps} steps, then chaos: "
                             f"{self.chaos}; TensorFlow's Session and its Keras-cell "
                             f"tf.function (the same math, another summation order) part the "
                             f"same way; the whole-run drift is reported")
        return Tolerance(1e-5, 50, None, None,
                         "float32: first 50 steps at 1e-5 (TF's assertAllClose scale); each "
                         "step's loss is on a new batch and Adam normalises the last-bit "
                         "gradient differences into weight differences; drift reported")

    def data(self, data_dir, dtype):
        return mnist_rows(data_dir, dtype, self.batch_size, self.n_train, self.n_test)

    def init_weights(self, rng, dtype):
        w = stack_weights(rng, self.kind, N_INPUT, self.layers)
        w.update(dense_weights(rng, self.layers[-1], N_CLASS, name="dense"))
        return w

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MnistRNN(self.kind, self.layers, weights, data, dtype, self.learning_rate,
                        self.static, compiled)

    def build_tf(self, weights, data, dtype, device="cpu", engine="tensorflow"):
        return SessionMnistRNN(self.kind, self.layers, weights, data, dtype, device,
                               self.learning_rate, self.static, engine)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2MnistRNN(self.kind, self.layers, weights, data, dtype, self.learning_rate,
                           eager)


@register_case
class RnnMnist(MnistCase):
    name = "rnn_mnist"
    f64_steps = 300
    chaos = ("the difference stays ~1e-15 until step ~330 on the generated digits (~1400 on "
             "real MNIST), then grows tenfold every ~30 steps (1e-9 near step 460; real "
             "MNIST: near 2000, 1e-4 after 10 epochs, equal test accuracy)")
    description = "MNIST rows: BasicRNNCell(31), last output -> dense 10, Adam(0.001), 10 epochs"


@register_case
class RnnMnistStacked(MnistCase):
    name = "rnn_mnist_stacked"
    layers = [31, 31, 31]
    f64_steps = 120
    chaos = ("the difference stays ~1e-15 until step ~130 on the generated digits (~450 on "
             "real MNIST), then grows tenfold every ~15 steps (1e-9 near step 260; real "
             "MNIST: near 1150, test accuracy 0.954 in both after 10 epochs)")
    description = "MNIST rows: MultiRNNCell of 3 x BasicRNNCell(31) -> dense 10, Adam(0.001)"


@register_case
class LstmMnist(MnistCase):
    name = "lstm_mnist"
    kind, layers = "lstm", [31, 31]
    description = "MNIST rows: MultiRNNCell of 2 x BasicLSTMCell(31) -> dense 10, Adam(0.001)"
