"""The XOR lecture: a sigmoid network trained by gradient descent on the four XOR rows.

    xor:      2-2-1                  xor_wide: 2-10-10-10-1
    cost = -reduce_mean(Y*log(h) + (1-Y)*log(1-h)); GradientDescentOptimizer(0.1); 10001 steps
"""
import numpy as np

import minigrad as mg
from parity.harness import Case, Tolerance, Trainer, register_case
from parity.tf_env import import_tf, tf1_api

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [0]])


def _accuracy(h, y):
    return float(np.mean((h > 0.5) == (y > 0.5)))


class MinigradXor(Trainer):
    def __init__(self, layers, weights, data, lr, compiled=False):
        self.x, self.y = mg.constant(data[0]), mg.constant(data[1])
        self.layers = layers
        self.params = {n: mg.Variable(w, name=n) for n, w in weights.items()}
        self.var_list = list(self.params.values())
        self.opt = mg.train.GradientDescentOptimizer(lr)
        # compiled: the same step traced once by mg.function and replayed (it takes no
        # argument: a Python value such as the step number would be traced once per value)
        self._train = mg.function(self._train_step) if compiled else self._train_step

    def hypothesis(self):
        h = self.x
        for i in range(1, len(self.layers)):
            h = mg.sigmoid(mg.matmul(h, self.params[f"W{i}"]) + self.params[f"b{i}"])
        return h

    def cost(self):
        h, y = self.hypothesis(), self.y
        return -mg.reduce_mean(y * mg.log(h) + (1 - y) * mg.log(1 - h))

    def _train_step(self):
        return self.opt.minimize(self.cost, self.var_list)

    def step(self, i):
        return self._train()

    def outputs(self):
        return {"hypothesis": self.hypothesis().numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}

    def extra(self):
        return {"accuracy": _accuracy(self.outputs()["hypothesis"], self.y.numpy())}


class SessionXor(Trainer):
    """The lecture's TF1 program: placeholders, Session.run([cost, train], feed_dict), run by
    TensorFlow or, with engine="minigrad", by minigrad.compat.v1."""

    def __init__(self, layers, weights, data, lr, dtype, device, engine="tensorflow"):
        _, v1, placement = tf1_api(device, engine)
        self.graph = v1.Graph()
        with self.graph.as_default(), placement:
            self.X = v1.placeholder(dtype, [None, 2])
            self.Y = v1.placeholder(dtype, [None, 1])
            self.params = {n: v1.Variable(w, name=n) for n, w in weights.items()}
            h = self.X
            for i in range(1, len(layers)):
                h = v1.sigmoid(v1.matmul(h, self.params[f"W{i}"]) + self.params[f"b{i}"])
            self.h = h
            self.cost = -v1.reduce_mean(self.Y * v1.log(h) + (1 - self.Y) * v1.log(1 - h))
            self.train = v1.train.GradientDescentOptimizer(lr).minimize(self.cost)
            init = v1.global_variables_initializer()
        self.feed = {self.X: data[0], self.Y: data[1]}
        self.sess = v1.Session(graph=self.graph)
        self.sess.run(init)

    def step(self, i):
        return self.sess.run([self.cost, self.train], feed_dict=self.feed)[0]

    def outputs(self):
        return {"hypothesis": self.sess.run(self.h, feed_dict=self.feed)}

    def weights(self):
        return self.sess.run(self.params)

    def extra(self):
        return {"accuracy": _accuracy(self.outputs()["hypothesis"], self.feed[self.Y])}


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
                h = tf.sigmoid(tf.matmul(h, self.params[f"W{i}"]) + self.params[f"b{i}"])
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


class _XorCase(Case):
    layers = None
    steps = 10001
    learning_rate = 0.1

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9,
                             "float64: same formulas; only libm's last bit and summation order")
        return Tolerance(1e-5, 100, None, None,
                         "float32: first 100 steps at 1e-5 (TF's assertAllClose scale); the "
                         "drift over the whole run is reported, not judged")

    def data(self, data_dir, dtype):
        return X.astype(dtype), Y.astype(dtype)

    def init_weights(self, rng, dtype):
        # the lecture: tf.random_normal for every weight and bias
        w = {}
        for i, (a, b) in enumerate(zip(self.layers[:-1], self.layers[1:]), 1):
            w[f"W{i}"] = rng.standard_normal((a, b))
            w[f"b{i}"] = rng.standard_normal((b,))
        return w

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MinigradXor(self.layers, weights, data, self.learning_rate, compiled)

    def build_tf(self, weights, data, dtype, device="cpu", engine="tensorflow"):
        return SessionXor(self.layers, weights, data, self.learning_rate, dtype, device, engine)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2Xor(self.layers, weights, data, self.learning_rate, dtype, eager)


@register_case
class Xor(_XorCase):
    name = "xor"
    layers = [2, 2, 1]
    description = "XOR, 2-2-1 sigmoid network, GradientDescent(0.1)"


@register_case
class XorWide(_XorCase):
    name = "xor_wide"
    layers = [2, 10, 10, 10, 1]
    description = "XOR, 2-10-10-10-1 sigmoid network, GradientDescent(0.1)"
