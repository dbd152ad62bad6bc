"""The "CNN for text classification" lecture on the movie-review polarity sentences.

    ids [batch, seq] -> embedding_lookup (uniform(-1, 1)) -> expand_dims -> [batch, seq, emb, 1]
    for fs in (2, 3, 4): conv2d VALID [fs, emb, 1, n] + bias, relu, max_pool over time
    concat -> reshape [batch, 3n] -> dropout(rate 0.5) -> dense 2 -> sparse softmax xent (mean)
    AdamOptimizer(0.001, beta1=0.5); batch 64

Data: <data_dir>/rt-polarity (5331 + 5331 sentences) when a data directory is given, else
minigrad.data.text.synthetic_polarity; the lecture's clean_str tokens with <START>/<END>,
<PAD> to the longest sentence, a 90/10 split with seed 10.

Dropout: both engines drop the same units. minigrad runs `mg.nn.dropout(h, rate, seed=step
seed)`; TensorFlow gets that call's mask (`minigrad.nn.dropout.keep_mask`, same seed) fed to a
placeholder and applies TF's own dropout formula to it, `where(mask, h * (1 / (1 - rate)), 0)`
(nn_ops._dropout with its uniform sampler replaced by the fed mask).
"""
import numpy as np

import minigrad as mg
from minigrad.data import text
from minigrad.nn.dropout import keep_mask
from parity.harness import Case, Tolerance, Trainer, register_case
from parity.tf_env import import_tf, tf_device_name

FILTER_SIZES = (2, 3, 4)
RATE = 0.5
MASK_SEED = 1000        # step i drops with seed MASK_SEED + i


class TextData:
    """Token ids [n, seq] (int32), sparse labels (1 = positive), split 90/10, seeded batches."""

    def __init__(self, data_dir, batch_size=64, seed=0):
        sentences, labels = (text.load_polarity(data_dir, one_hot=False) if data_dir else
                             text.synthetic_polarity(seed=seed, one_hot=False))
        self.vocab = text.Vocabulary().build(sentences)
        ids, _ = self.vocab.encode(sentences, add_start_end=True)
        ids = ids.astype(np.int32)
        self.x, self.test_x, self.y, self.test_y = text.train_test_split(ids, labels.astype(
            np.int32), 0.1, seed=10)
        self.seq_len, self.batch_size = ids.shape[1], batch_size
        self._rng, self._order = np.random.RandomState(seed), np.zeros(0, np.int64)

    def batch(self, i):
        b = self.batch_size
        while len(self._order) < (i + 1) * b:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.x))])
        idx = self._order[i * b:(i + 1) * b]
        return self.x[idx], self.y[idx]


def init_weights(rng, vocab_size, seq_len, emb=128, n=128):
    """The lecture's initializers, drawn in numpy: embedding U(-1, 1), conv kernels
    truncated_normal(0.1) with bias 0.1, dense kernel xavier (glorot uniform) with bias 0.1."""
    w = {"embedding": rng.uniform(-1.0, 1.0, (vocab_size, emb))}
    for fs in FILTER_SIZES:
        w[f"conv{fs}/W"] = mg.random.truncated_normal_array((fs, emb, 1, n), stddev=0.1, rng=rng,
                                                            dtype=np.float64)
        w[f"conv{fs}/b"] = np.full(n, 0.1)
    limit = np.sqrt(6.0 / (n * len(FILTER_SIZES) + 2))
    w["output/W"] = rng.uniform(-limit, limit, (n * len(FILTER_SIZES), 2))
    w["output/b"] = np.full(2, 0.1)
    return w


def features(nn, lib, p, ids, seq_len):
    """Embedding, the three conv + max-over-time branches, concat: [batch, 3n], either engine."""
    h = lib.expand_dims(nn.embedding_lookup(p["embedding"], ids), -1)
    pooled = []
    for fs in FILTER_SIZES:
        c = nn.relu(nn.bias_add(nn.conv2d(h, p[f"conv{fs}/W"], strides=[1, 1, 1, 1],
                                          padding="VALID"), p[f"conv{fs}/b"]))
        pooled.append(nn.max_pool(c, ksize=[1, seq_len - fs + 1, 1, 1], strides=[1, 1, 1, 1],
                                  padding="VALID"))
    n_total = sum(int(q.shape[-1]) for q in pooled)
    return lib.reshape(lib.concat(pooled, 3), [-1, n_total])


def scores(lib, p, h):
    return lib.matmul(h, p["output/W"]) + p["output/b"]


def loss(nn, lib, logits, y):
    return lib.reduce_mean(nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _accuracy(logits, y):
    return float(np.mean(np.argmax(logits, 1) == y))


class MinigradTextCnn(Trainer):
    def __init__(self, weights, data, lr=0.001, beta1=0.5, compiled=False):
        self.data = data
        self.params = {k: mg.Variable(v, name=k) for k, v in weights.items()}
        self.var_list = list(self.params.values())
        self.opt = mg.train.AdamOptimizer(lr, beta1=beta1)
        self.compiled = compiled
        if compiled:    # random ops cannot run inside mg.function: the mask comes in instead
            self._step = mg.function(self._masked_step)

    def _features(self, ids):
        return features(mg.nn, mg, self.params, mg.constant(ids), self.data.seq_len)

    def step(self, i):
        ids, y = self.data.batch(i)
        if self.compiled:
            w_out = self.params["output/W"].numpy()
            mask = keep_mask((len(ids), w_out.shape[0]), RATE, MASK_SEED + i, w_out.dtype)
            return self._step(mg.constant(ids), mg.constant(y), mg.constant(mask)).numpy()

        def cost():
            h = mg.nn.dropout(self._features(ids), rate=RATE, seed=MASK_SEED + i)
            return loss(mg.nn, mg, scores(mg, self.params, h), mg.constant(y))
        return self.opt.minimize(cost, self.var_list).numpy()

    def _masked_step(self, ids, y, mask):
        def cost():
            h = features(mg.nn, mg, self.params, ids, self.data.seq_len)
            h = mg.where(mask, h * (1 / (1 - RATE)), 0.0)
            return loss(mg.nn, mg, scores(mg, self.params, h), y)
        return self.opt.minimize(cost, self.var_list)

    def logits(self, ids):
        return scores(mg, self.params, self._features(ids)).numpy()

    def outputs(self):
        return {"logits": self.logits(self.data.test_x[:100])}

    def weights(self):
        return {k: v.numpy() for k, v in self.params.items()}

    def extra(self):
        return {"accuracy": _accuracy(self.logits(self.data.test_x), self.data.test_y)}


class SessionTextCnn(Trainer):
    """The lecture's TF1 graph; dropout's mask is fed (see the module docstring)."""

    def __init__(self, weights, data, dtype, device, lr=0.001, beta1=0.5):
        tf = import_tf(device)
        v1 = tf.compat.v1
        self.data, self.dtype, self.graph = data, dtype, tf.Graph()
        with self.graph.as_default(), tf.device(tf_device_name(device)):
            self.input_x = v1.placeholder(tf.int32, [None, data.seq_len], name="input_x")
            self.input_y = v1.placeholder(tf.int32, [None], name="input_y")
            self.keep = v1.placeholder(tf.bool, [None, None], name="dropout_keep_mask")
            self.params = {k: tf.Variable(v, name=k.replace("/", "_"))
                           for k, v in weights.items()}
            h = features(tf.nn, tf, self.params, self.input_x, data.seq_len)
            self.logits = scores(tf, self.params, h)
            h_drop = tf.where(self.keep, h * (1 / (1 - RATE)), tf.constant(0, h.dtype))
            self.loss = loss(tf.nn, tf, scores(tf, self.params, h_drop), self.input_y)
            self.train = v1.train.AdamOptimizer(lr, beta1=beta1).minimize(self.loss)
            init = v1.global_variables_initializer()
        self.sess = v1.Session(graph=self.graph)
        self.sess.run(init)

    def step(self, i):
        ids, y = self.data.batch(i)
        mask = keep_mask((len(ids), self.params["output/W"].shape[0]), RATE, MASK_SEED + i,
                         self.dtype)
        return self.sess.run([self.loss, self.train], {self.input_x: ids, self.input_y: y,
                                                       self.keep: mask})[0]

    def logits_of(self, ids):
        return self.sess.run(self.logits, {self.input_x: ids})

    def outputs(self):
        return {"logits": self.logits_of(self.data.test_x[:100])}

    def weights(self):
        return self.sess.run(self.params)

    def extra(self):
        return {"accuracy": _accuracy(self.logits_of(self.data.test_x), self.data.test_y)}


class Tf2TextCnn(Trainer):
    """TF2 style: tf.Variables, tf.GradientTape, a tf.function step, the same fed mask."""

    def __init__(self, weights, data, dtype, lr=0.001, beta1=0.5, eager=False):
        tf = self.tf = import_tf()
        self.data, self.dtype = data, dtype
        self.params = {k: tf.Variable(v, name=k.replace("/", "_")) for k, v in weights.items()}
        variables = list(self.params.values())
        opt = tf.compat.v1.train.AdamOptimizer(lr, beta1=beta1)

        def step(ids, y, mask):
            with tf.GradientTape() as tape:
                h = features(tf.nn, tf, self.params, ids, data.seq_len)
                h = tf.where(mask, h * (1 / (1 - RATE)), tf.constant(0, h.dtype))
                cost = loss(tf.nn, tf, scores(tf, self.params, h), y)
            opt.apply_gradients(zip(tape.gradient(cost, variables), variables))
            return cost
        self._step = step if eager else tf.function(step)

    def step(self, i):
        ids, y = self.data.batch(i)
        mask = keep_mask((len(ids), self.params["output/W"].shape[0]), RATE, MASK_SEED + i,
                         self.dtype)
        return self._step(self.tf.constant(ids), self.tf.constant(y),
                          self.tf.constant(mask)).numpy()

    def outputs(self):
        h = features(self.tf.nn, self.tf, self.params, self.data.test_x[:100], self.data.seq_len)
        return {"logits": scores(self.tf, self.params, h).numpy()}

    def weights(self):
        return {k: v.numpy() for k, v in self.params.items()}


@register_case
class TextCnn(Case):
    name = "text_cnn"
    steps = 100
    ci_steps = 3
    needs = "rt-polarity"
    description = ("CNN for text: embedding 128, conv 2/3/4 x 128 VALID, max-over-time, "
                   "dropout 0.5, dense 2, Adam(0.001, beta1=0.5), batch 64")

    def data(self, data_dir, dtype):
        data = TextData(data_dir)
        self._sizes = len(data.vocab), data.seq_len     # the weights' shapes depend on them
        return data

    def init_weights(self, rng, dtype):
        if not hasattr(self, "_sizes"):      # called before data(): size for the default data
            self.data(None, dtype)
        return init_weights(rng, *self._sizes)

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-6, 1e-9,
                             "float64: same formulas; conv/matmul sums and TF's sparse Adam "
                             "update of the embedding round differently")
        return Tolerance(1e-5, 50, None, None,
                         "float32: first 50 steps at 1e-5; TF updates the embedding with a "
                         "sparse Adam (m*b1 then scatter-add) whose rounding differs, so the "
                         "drift is reported, not judged")

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MinigradTextCnn(weights, data, compiled=compiled)

    def build_tf(self, weights, data, dtype, device="cpu"):
        return SessionTextCnn(weights, data, dtype, device)

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2TextCnn(weights, data, dtype, eager=eager)
