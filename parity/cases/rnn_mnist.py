"""The MNIST-rows lectures (parity/lectures/mnist_rnn.py) as parity cases: tolerances and
initial weights.

    rnn_mnist[_static|_time_major]           BasicRNNCell(31)
    rnn_mnist_stacked, ..._static_stacked,   MultiRNNCell of 3 x BasicRNNCell(31)
      ..._time_major_stacked
    lstm_mnist                               MultiRNNCell of 2 x BasicLSTMCell(31)

The model is the lecture's TF1 program, run by each engine's Session, batches of 128 in file
order. `MnistCase` holds what the MNIST-rows cases share (data sizes, tolerances, TF1-layout
initial weights); the Keras cases (rnn_keras.py) build on it too. What stays here is written
once more on purpose: the TF2 reference (Keras cells in a tf.function), a benchmark peer.
"""
import numpy as np

from parity.cases.rnn_common import (dense_weights, import_keras, keras_rnn,
                                     keras_stack_weights, stack_weights, tf_for, under)
from parity.harness import Case, LectureCase, Tolerance, Trainer, register_case
from parity.lectures import mnist_rnn as lectures
from parity.lectures.mnist_rnn import N_CLASS, N_INPUT, N_STEP, mnist_rows  # noqa: F401


def accuracy(logits_fn, x, y, chunk=2000):
    hits = sum(int(np.sum(np.argmax(logits_fn(x[i:i + chunk]), 1) == y[i:i + chunk]))
               for i in range(0, len(x), chunk))
    return hits / max(1, len(x))


class Tf2MnistRNN(Trainer):
    """The benchmarks' tf_function / tf_eager modes (TF2 code: no TF1 program to share):
    keras.layers.RNN of Keras cells (TF1 weights converted) + Dense, a tf.function step with
    tf.GradientTape and the lecture's AdamOptimizer."""

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
    """MNIST rows: the data (smaller with `batch_size`, `n_train`, `n_test`, for CI), the
    tolerances, and TF1-layout initial weights for `kind` cells of sizes `layers`."""
    kind, layers = "rnn", [31]
    needs = "mnist"
    steps = 10 * (55000 // 128)        # the lecture's 10 epochs of batch 128
    ci_steps = 3
    learning_rate = 0.001
    f64_steps = None        # float64 judged over these first steps; None: all (see chaos)
    chaos = ""              # where and how the training turns chaotic, if it does

    def __init__(self, batch_size=128, n_train=None, n_test=None):
        self.batch_size, self.n_train, self.n_test = batch_size, n_train, n_test

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


class _RowsLectureCase(LectureCase, MnistCase):
    """A lecture of parity/lectures/mnist_rnn.py; `static=True` runs its static_rnn form (the
    same variables, so the same initial weights)."""
    lecture = lectures.RnnMnist
    static_lecture = lectures.RnnMnistStatic

    def __init__(self, batch_size=128, n_train=None, n_test=None, static=False):
        MnistCase.__init__(self, batch_size, n_train, n_test)
        if static and self.static_lecture is None:
            raise ValueError(f"{self.name} has no static_rnn form")
        if static:
            self.lecture = self.static_lecture

    kind = property(lambda self: self.lecture.kind)
    layers = property(lambda self: [self.lecture.n_hidden] * self.lecture.n_layers)
    data = MnistCase.data
    init_weights = MnistCase.init_weights

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2MnistRNN(self.kind, self.layers, weights, data, dtype, self.learning_rate,
                           eager)


_RNN_CHAOS = ("the difference stays ~1e-15 until step ~330 on the generated digits (~1400 on "
              "real MNIST), then grows tenfold every ~30 steps (1e-9 near step 460; real "
              "MNIST: near 2000, 1e-4 after 10 epochs, equal test accuracy)")
_STACKED_CHAOS = ("the difference stays ~1e-15 until step ~130 on the generated digits (~450 "
                  "on real MNIST), then grows tenfold every ~15 steps (1e-9 near step 260; "
                  "real MNIST: near 1150, test accuracy 0.954 in both after 10 epochs)")


@register_case
class RnnMnist(_RowsLectureCase):
    f64_steps, chaos = 300, _RNN_CHAOS


@register_case
class RnnMnistStacked(_RowsLectureCase):
    lecture = lectures.RnnMnistStacked
    static_lecture = lectures.RnnMnistStaticStacked
    f64_steps, chaos = 120, _STACKED_CHAOS


@register_case
class RnnMnistStatic(_RowsLectureCase):
    lecture = static_lecture = lectures.RnnMnistStatic
    f64_steps, chaos = 300, "as rnn_mnist's (the same math): " + _RNN_CHAOS


@register_case
class RnnMnistStaticStacked(_RowsLectureCase):
    lecture = static_lecture = lectures.RnnMnistStaticStacked
    f64_steps, chaos = 120, "as rnn_mnist_stacked's (the same math): " + _STACKED_CHAOS


@register_case
class RnnMnistTimeMajor(_RowsLectureCase):
    lecture = lectures.RnnMnistTimeMajor
    f64_steps, chaos = 300, "as rnn_mnist's (the same math): " + _RNN_CHAOS


@register_case
class RnnMnistTimeMajorStacked(_RowsLectureCase):
    lecture = lectures.RnnMnistTimeMajorStacked
    static_lecture = lectures.RnnMnistStaticStacked
    f64_steps, chaos = 120, "as rnn_mnist_stacked's (the same math): " + _STACKED_CHAOS


@register_case
class LstmMnist(_RowsLectureCase):
    lecture = lectures.LstmMnist
    static_lecture = None
