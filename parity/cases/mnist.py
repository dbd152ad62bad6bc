"""The MNIST lectures: softmax regression and the two-layer CNN, batch 100.

    mnist_softmax: 784 -> 10, zero weights, cost = reduce_mean(-reduce_sum(Y*log(softmax), 1)),
                   GradientDescentOptimizer(0.5)
    mnist_cnn:     conv 5x5 1->8 SAME + bias, relu, max_pool 2x2/2 SAME; conv 5x5 8->16 SAME +
                   bias, relu, max_pool 2x2/2 SAME; reshape 7*7*16; dense 64 relu; dense 10;
                   mean softmax cross-entropy; RMSPropOptimizer(0.001); weights
                   truncated_normal(stddev=0.01), biases 0

Data: the real MNIST from <data_dir>/mnist when a data directory is given (the 55,000 training
images of input_data.read_data_sets), else minigrad.data.mnist.synthetic. Batch i is the same
array for both engines: epochs are fixed permutations drawn from a seeded generator.
"""
from types import SimpleNamespace

import numpy as np

import minigrad as mg
from minigrad.data import mnist
from parity.harness import Case, Tolerance, Trainer, register_case
from parity.tf_env import import_tf, tf1_api

BATCH = 100


class MnistData:
    """Training images [n, 784] in [0, 1], one-hot labels, and a fixed evaluation batch."""

    def __init__(self, data_dir, dtype, seed=0, synthetic_n=10000):
        if data_dir is not None:
            sets = mnist.load(data_dir, one_hot=True, dtype=dtype)
            self.x, self.y = sets.train.images, sets.train.labels.astype(dtype)
            self.test_x, self.test_y = sets.test.images, sets.test.labels.astype(dtype)
        else:
            imgs, labels = mnist.synthetic(synthetic_n + 2000, seed=seed)
            x = (imgs.reshape(len(imgs), 784).astype(dtype) * dtype(1.0 / 255.0))
            y = np.eye(10, dtype=dtype)[labels]
            self.x, self.y = x[:synthetic_n], y[:synthetic_n]
            self.test_x, self.test_y = x[synthetic_n:], y[synthetic_n:]
        self._rng = np.random.RandomState(seed)
        self._order = np.zeros(0, np.int64)

    def batch(self, i):
        """Batch i: the i-th run of BATCH indices through concatenated seeded permutations."""
        while len(self._order) < (i + 1) * BATCH:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.x))])
        idx = self._order[i * BATCH:(i + 1) * BATCH]
        return self.x[idx], self.y[idx]

    def eval_batch(self):
        return self.test_x[:BATCH], self.test_y[:BATCH]


def _accuracy(logits, y):
    return float(np.mean(np.argmax(logits, 1) == np.argmax(y, 1)))


# --- the models, written once per engine as the lectures write them ---------------------------
def cnn_logits(nn, ops, p, x):
    """The lecture's CNN on [batch, 784] images, in either engine (`nn` = mg.nn or tf.nn)."""
    h = ops.reshape(x, [-1, 28, 28, 1])
    for k in (1, 2):
        h = nn.relu(nn.bias_add(nn.conv2d(h, p[f"W{k}"], strides=[1, 1, 1, 1], padding="SAME"),
                                p[f"b{k}"]))
        h = nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = ops.reshape(h, [-1, 7 * 7 * 16])
    h = nn.relu(ops.matmul(h, p["W3"]) + p["b3"])
    return ops.matmul(h, p["W4"]) + p["b4"]


def cnn_cost(nn, ops, logits, y):
    return ops.reduce_mean(nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


def softmax_logits(nn, ops, p, x):
    return ops.matmul(x, p["W"]) + p["b"]


def softmax_cost(nn, ops, logits, y):
    hypothesis = nn.softmax(logits)
    return ops.reduce_mean(-ops.reduce_sum(y * ops.log(hypothesis), axis=1))


class _Model:
    """What a trainer needs to know of a model: logits, cost and the optimizer."""

    def __init__(self, logits, cost, optimizer, lr):
        self.logits, self.cost, self.optimizer, self.lr = logits, cost, optimizer, lr


def _ops(lib):
    """The top-level math the model functions use, from `mg` or `tf` (tf.log is tf.math.log)."""
    return SimpleNamespace(reshape=lib.reshape, matmul=lib.matmul, reduce_mean=lib.reduce_mean,
                           reduce_sum=lib.reduce_sum, log=lib.math.log)


# --- trainers ---------------------------------------------------------------------------------
class MinigradMnist(Trainer):
    def __init__(self, model, weights, data, compiled=False):
        self.model, self.data = model, data
        self.params = {n: mg.Variable(w, name=n) for n, w in weights.items()}
        self.var_list = list(self.params.values())
        self.opt = getattr(mg.train, model.optimizer)(model.lr)
        # compiled: the same step traced once by mg.function and replayed
        self._train = mg.function(self._train_step) if compiled else self._train_step

    def _logits(self, x):
        return self.model.logits(mg.nn, _ops(mg), self.params, mg.convert_to_tensor(x))

    def _train_step(self, x, y):
        cost = lambda: self.model.cost(mg.nn, _ops(mg), self._logits(x), y)   # noqa: E731
        return self.opt.minimize(cost, self.var_list)

    def step(self, i):
        x, y = self.data.batch(i)
        return self._train(mg.constant(x), mg.constant(y)).numpy()

    def outputs(self):
        return {"logits": self._logits(self.data.eval_batch()[0]).numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}

    def extra(self):
        return {"accuracy": _accuracy(self._logits(self.data.test_x).numpy(), self.data.test_y)}


class SessionMnist(Trainer):
    """The lecture's TF1 program: placeholders, Session.run([cost, train], feed_dict), run by
    TensorFlow or, with engine="minigrad", by minigrad.compat.v1."""

    def __init__(self, model, weights, data, dtype, device, engine="tensorflow"):
        _, v1, placement = tf1_api(device, engine)
        self.data, self.graph = data, v1.Graph()
        with self.graph.as_default(), placement:
            self.X = v1.placeholder(dtype, [None, 784])
            self.Y = v1.placeholder(dtype, [None, 10])
            self.params = {n: v1.Variable(w, name=n) for n, w in weights.items()}
            self.logits = model.logits(v1.nn, _ops(v1), self.params, self.X)
            self.cost = model.cost(v1.nn, _ops(v1), self.logits, self.Y)
            self.train = getattr(v1.train, model.optimizer)(model.lr).minimize(self.cost)
            init = v1.global_variables_initializer()
        self.sess = v1.Session(graph=self.graph)
        self.sess.run(init)

    def step(self, i):
        x, y = self.data.batch(i)
        return self.sess.run([self.cost, self.train], feed_dict={self.X: x, self.Y: y})[0]

    def outputs(self):
        return {"logits": self.sess.run(self.logits, {self.X: self.data.eval_batch()[0]})}

    def weights(self):
        return self.sess.run(self.params)

    def extra(self):
        return {"accuracy": _accuracy(self.sess.run(self.logits, {self.X: self.data.test_x}),
                                      self.data.test_y)}


class Tf2Mnist(Trainer):
    """The same model in TF2 style: tf.Variables, tf.GradientTape, a tf.function step."""

    def __init__(self, model, weights, data, eager=False):
        tf = self.tf = import_tf()
        self.model, self.data = model, data
        self.params = {n: tf.Variable(w, name=n) for n, w in weights.items()}
        variables = list(self.params.values())
        opt = getattr(tf.compat.v1.train, model.optimizer)(model.lr)

        def step(x, y):
            with tf.GradientTape() as tape:
                ops = _ops(tf)
                cost = model.cost(tf.nn, ops, model.logits(tf.nn, ops, self.params, x), y)
            opt.apply_gradients(zip(tape.gradient(cost, variables), variables))
            return cost
        self._step = step if eager else tf.function(step)

    def step(self, i):
        x, y = self.data.batch(i)
        return self._step(self.tf.constant(x), self.tf.constant(y)).numpy()

    def outputs(self):
        x = self.tf.constant(self.data.eval_batch()[0])
        logits = self.model.logits(self.tf.nn, _ops(self.tf), self.params, x)
        return {"logits": logits.numpy()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}


# --- the cases --------------------------------------------------------------------------------
class _MnistCase(Case):
    needs = "mnist"
    model = None

    def data(self, data_dir, dtype):
        return MnistData(data_dir, np.dtype(dtype).type)

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MinigradMnist(self.model, weights, data, compiled)

    def build_tf(self, weights, data, dtype, device="cpu", engine="tensorflow"):
        return SessionMnist(self.model, weights, data, dtype, device, engine)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2Mnist(self.model, weights, data, eager)


@register_case
class MnistSoftmax(_MnistCase):
    name = "mnist_softmax"
    steps = 550
    ci_steps = 5
    description = "MNIST softmax regression 784-10, GradientDescent(0.5), batch 100"
    model = _Model(softmax_logits, softmax_cost, "GradientDescentOptimizer", 0.5)

    def init_weights(self, rng, dtype):
        return {"W": np.zeros((784, 10)), "b": np.zeros(10)}      # the lecture: tf.zeros

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return super().tolerance(dtype)
        return Tolerance(5e-5, None, 1e-3, 1e-4,
                         "float32: BLAS and Eigen sum the 784-term dot products in different "
                         "orders; GradientDescent(0.5) carries the last-bit differences on. "
                         "Measured over 550 steps: 4.9e-7 on the real MNIST, 1.8e-5 on the "
                         "generated digits (learned to a loss of 0.03, where the same absolute "
                         "difference is a larger relative one)")


@register_case
class MnistCnn(_MnistCase):
    name = "mnist_cnn"
    steps = 200
    ci_steps = 3
    description = ("MNIST CNN conv5x5x8-pool-conv5x5x16-pool-64-10, RMSProp(0.001), "
                   "batch 100")
    model = _Model(cnn_logits, cnn_cost, "RMSPropOptimizer", 0.001)
    shapes = {"W1": (5, 5, 1, 8), "b1": (8,), "W2": (5, 5, 8, 16), "b2": (16,),
              "W3": (7 * 7 * 16, 64), "b3": (64,), "W4": (64, 10), "b4": (10,)}

    def init_weights(self, rng, dtype):
        return {n: (np.zeros(s) if n[0] == "b" else
                    mg.random.truncated_normal_array(s, stddev=0.01, rng=rng, dtype=np.float64))
                for n, s in self.shapes.items()}

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-6, 1e-9,
                             "float64: same formulas; conv and matmul sums in another order")
        return Tolerance(1e-5, 50, None, None,
                         "float32: first 50 steps at 1e-5; RMSProp's 1/sqrt(ms) amplifies "
                         "last-bit differences later, so the drift is reported, not judged")
