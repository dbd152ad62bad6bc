"""The XOR lectures (parity/lectures/xor.py), with their tolerances and initial weights.

    xor:      2-2-1                  xor_wide: 2-10-10-10-1
    cost = -reduce_mean(Y*log(h) + (1-Y)*log(1-h)); GradientDescentOptimizer(0.1); 10001 steps

The model is the lecture's TF1 program, run by each engine's Session. What stays here is
written once more on purpose: the TF2 reference (tf.function / eager), a peer for the
benchmarks, not a parity side.
"""
import numpy as np

from parity.harness import LectureCase, Tolerance, Trainer, register_case
from parity.lectures import xor as lectures
from parity.tf_env import import_tf


class Tf2Xor(Trainer):
    """The same network in TF2 style: variables, tf.GradientTape, a tf.function step."""

    def __init__(self, layers, weights, data, lr, dtype, eager=False):
        tf = import_tf()
        self.tf = tf
        self.x, self.y = tf.constant(data[0]), tf.constant(data[1])
        self.params = {n: tf.Variable(w, name=n) for n, w in weights.items()}
        self.layers = layers
        opt = tf.compat.v1.train.GradientDescentOptimizer(lr)
        variables = list(self.params.values())

        def hypothesis():
            h = self.x
            for i in range(1, len(layers)):
                h = tf.sigmoid(tf.matmul(h, self.params[f"weight{i}"]) +
                               self.params[f"bias{i}"])
            return h

        def step():
            with tf.GradientTape() as tape:
                h = hypothesis()
                cost = -tf.reduce_mean(self.y * tf.math.log(h) +
                                       (1 - self.y) * tf.math.log(1 - h))
            opt.apply_gradients(zip(tape.gradient(cost, variables), variables))
            return cost
        self.hypothesis = hypothesis
        self._step = step if eager else tf.function(step)

    def step(self, i):
        return self._step().numpy()

    def outputs(self):
        return {"hypothesis": self.hypothesis().numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}


class _XorCase(LectureCase):
    lecture = lectures.Xor
    learning_rate = 0.1

    @property
    def layers(self):
        return self.lecture.widths

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9,
                             "float64: same formulas; only libm's last bit and summation order")
        return Tolerance(1e-5, 100, None, None,
                         "float32: first 100 steps at 1e-5 (TF's assertAllClose scale); the "
                         "drift over the whole run is reported, not judged")

    def init_weights(self, rng, dtype):
        """The lecture's tf.random_normal draws, made with numpy under its variable names, so
        every benchmark mode (the TF2 reference and the peers too) starts alike."""
        w = {}
        for i, (a, b) in enumerate(zip(self.layers[:-1], self.layers[1:]), 1):
            w[f"weight{i}"] = rng.standard_normal((a, b))
            w[f"bias{i}"] = rng.standard_normal((b,))
        return w

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2Xor(self.layers, weights, data, self.learning_rate, dtype, eager)


@register_case
class Xor(_XorCase):
    lecture = lectures.Xor


@register_case
class XorWide(_XorCase):
    lecture = lectures.XorWide
