"""The XOR lecture: a sigmoid network trained by gradient descent on the four XOR rows.

    xor:      2-2-1                  xor_wide: 2-10-10-10-1
    cost = -reduce_mean(Y*log(h) + (1-Y)*log(1-h)); GradientDescentOptimizer(0.1); 10001 steps
"""
import time

import numpy as np

import minigrad as mg
from parity.harness import Case, Run, Tolerance, register_case
from parity.tf_env import import_tf, tf_device_name

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [0]])


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

    def _names(self):
        return [n for i in range(1, len(self.layers)) for n in (f"W{i}", f"b{i}")]

    def run_minigrad(self, weights, data, steps, dtype, tick):
        x, y = mg.constant(data[0]), mg.constant(data[1])
        params = {n: mg.Variable(weights[n], name=n) for n in self._names()}
        opt = mg.train.GradientDescentOptimizer(self.learning_rate)

        def hypothesis():
            h = x
            for i in range(1, len(self.layers)):
                h = mg.sigmoid(mg.matmul(h, params[f"W{i}"]) + params[f"b{i}"])
            return h

        def cost():
            h = hypothesis()
            return -mg.reduce_mean(y * mg.log(h) + (1 - y) * mg.log(1 - h))

        losses, t0 = [], time.perf_counter()
        for _ in range(steps):
            losses.append(float(opt.minimize(cost, list(params.values()))))
            tick()
        seconds = time.perf_counter() - t0
        h = hypothesis().numpy()
        acc = float(np.mean((h > 0.5) == (data[1] > 0.5)))
        return Run(losses, {"hypothesis": h}, {n: v.numpy() for n, v in params.items()},
                   seconds, {"accuracy": acc})

    def run_tf(self, weights, data, steps, dtype, tick, device="cpu"):
        tf = import_tf(device)
        v1 = tf.compat.v1
        graph = tf.Graph()
        with graph.as_default(), tf.device(tf_device_name(device)):
            X_ = v1.placeholder(dtype, [None, 2])
            Y_ = v1.placeholder(dtype, [None, 1])
            params = {n: tf.Variable(weights[n], name=n) for n in self._names()}
            h = X_
            for i in range(1, len(self.layers)):
                h = tf.sigmoid(tf.matmul(h, params[f"W{i}"]) + params[f"b{i}"])
            cost = -tf.reduce_mean(Y_ * tf.math.log(h) + (1 - Y_) * tf.math.log(1 - h))
            train = v1.train.GradientDescentOptimizer(self.learning_rate).minimize(cost)
            init = v1.global_variables_initializer()
        feed = {X_: data[0], Y_: data[1]}
        with v1.Session(graph=graph) as sess:
            sess.run(init)
            losses, t0 = [], time.perf_counter()
            for _ in range(steps):
                c, _ = sess.run([cost, train], feed_dict=feed)
                losses.append(float(c))
                tick()
            seconds = time.perf_counter() - t0
            hv, wv = sess.run([h, params], feed_dict=feed)
        acc = float(np.mean((hv > 0.5) == (data[1] > 0.5)))
        return Run(losses, {"hypothesis": hv}, wv, seconds, {"accuracy": acc})


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
