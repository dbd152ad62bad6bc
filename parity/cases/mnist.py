"""The MNIST lectures (parity/lectures/mnist.py) as parity cases: tolerances and initial weights.

    mnist_softmax: lab 7, softmax regression 784-10 from zeros, GradientDescentOptimizer(0.5)
    mnist_cnn:     deck 000, conv 5x5 1->8 SAME + bias, relu, max_pool 2x2/2; conv 5x5 8->16;
                   dense 64 relu; dense 10; RMSPropOptimizer(0.001); summaries every step

The model is the lecture's TF1 program, run by each engine's Session, batch 100 on the same
batches. What stays here is written once more on purpose: the TF2 reference (tf.function /
eager), a peer for the benchmarks, not a parity side.
"""
import numpy as np

import minigrad as mg
from parity.harness import LectureCase, Tolerance, Trainer, register_case
from parity.lectures import mnist as lectures
from parity.tf_env import import_tf


class Tf2Mnist(Trainer):
    """The benchmarks' tf_function / tf_eager modes (TF2 code: no TF1 program to share):
    tf.Variables under the lecture's names, tf.GradientTape, the lecture's TF1 optimizer."""

    def __init__(self, logits, cost, optimizer, weights, data, eager=False):
        tf = self.tf = import_tf()
        self.data = data
        self.params = {n: tf.Variable(w, name=n.replace("/", "_")) for n, w in weights.items()}
        variables = list(self.params.values())

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = cost(tf, logits(tf, self.params, x), y)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self._step = step if eager else tf.function(step)

    def step(self, i):
        x, y = self.data.batch(i)
        return self._step(self.tf.constant(x), self.tf.constant(y)).numpy()

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}


def _softmax_logits(tf, p, x):
    return tf.matmul(x, p["Variable"]) + p["Variable_1"]


def _softmax_cost(tf, logits, y):
    return tf.reduce_mean(-tf.reduce_sum(y * tf.math.log(tf.nn.softmax(logits)), axis=1))


def _cnn_logits(tf, p, x):
    h = tf.reshape(x, [-1, 28, 28, 1])
    for s in ("conv1", "conv2"):
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, p[f"{s}/W"], strides=[1, 1, 1, 1],
                                                   padding="SAME"), p[f"{s}/b"]))
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 16]), p["fc1/W"]) + p["fc1/b"])
    return tf.matmul(h, p["fc2/W"]) + p["fc2/b"]


def _cnn_cost(tf, logits, y):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


@register_case
class MnistSoftmax(LectureCase):
    lecture = lectures.MnistSoftmax
    ci_steps = 5
    needs = "mnist"
    learning_rate = 0.5

    def init_weights(self, rng, dtype):
        """The lecture's tf.zeros, under its (unnamed) variables' names."""
        return {"Variable": np.zeros((784, 10)), "Variable_1": np.zeros(10)}

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9, "float64: same formulas, summation order "
                                                      "only")
        return Tolerance(5e-5, None, 1e-3, 1e-4,
                         "float32: BLAS and Eigen sum the 784-term dot products in different "
                         "orders; GradientDescent(0.5) carries the last-bit differences on. "
                         "Measured over 550 steps: 4.9e-7 on the real MNIST, 1.8e-5 on the "
                         "generated digits (learned to a loss of 0.03, where the same absolute "
                         "difference is a larger relative one)")

    def build_tf2(self, weights, data, dtype, eager=False):
        opt = import_tf().compat.v1.train.GradientDescentOptimizer(self.learning_rate)
        return Tf2Mnist(_softmax_logits, _softmax_cost, opt, weights, data, eager)


class _QuietCnn(lectures.MnistCnn):
    """The lecture, its event files in a temporary directory removed after the run."""
    keep_logs = False


@register_case
class MnistCnn(LectureCase):
    lecture = _QuietCnn
    steps = 200
    ci_steps = 3
    needs = "mnist"
    learning_rate = 0.001
    shapes = {"conv1/W": (5, 5, 1, 8), "conv1/b": (8,), "conv2/W": (5, 5, 8, 16),
              "conv2/b": (16,), "fc1/W": (7 * 7 * 16, 64), "fc1/b": (64,), "fc2/W": (64, 10),
              "fc2/b": (10,)}

    def init_weights(self, rng, dtype):
        """The lecture's truncated_normal(stddev=0.01) kernels and zero biases, drawn with
        numpy under its variable names (the benchmarks' peers start from them too)."""
        return {n: (np.zeros(s) if n.endswith("/b") else
                    mg.random.truncated_normal_array(s, stddev=0.01, rng=rng, dtype=np.float64))
                for n, s in self.shapes.items()}

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-6, 1e-9,
                             "float64: same formulas; conv and matmul sums in another order")
        return Tolerance(1e-5, 50, None, None,
                         "float32: first 50 steps at 1e-5; RMSProp's 1/sqrt(ms) amplifies "
                         "last-bit differences later, so the drift is reported, not judged")

    def build_tf2(self, weights, data, dtype, eager=False):
        opt = import_tf().compat.v1.train.RMSPropOptimizer(self.learning_rate)
        return Tf2Mnist(_cnn_logits, _cnn_cost, opt, weights, data, eager)
