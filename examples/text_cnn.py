"""The "CNN for text classification" lecture, in minigrad, with TensorFlow beside it.

Both engines start from the same initial weights and drop the same units (minigrad's dropout
masks are fed to TensorFlow), train on the same batches, and print their test accuracies.

    ids -> embedding (uniform(-1, 1)) -> [batch, seq, emb, 1]
    conv2d VALID [fs, emb, 1, n] + bias, relu, max-pool over time, for fs in 2, 3, 4
    concat -> dropout(0.5) -> dense 2 -> sparse softmax cross-entropy, Adam(0.001, beta1=0.5)

    python examples/text_cnn.py --data-dir ../shared/data        # the movie-review sentences
    python examples/text_cnn.py                                   # generated sentences
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)      # parity.tf_env: TensorFlow with parity's settings
import minigrad as mg                                           # noqa: E402
from minigrad.data import resolve_data_dir, text                # noqa: E402
from minigrad.nn.dropout import keep_mask                       # noqa: E402

FILTER_SIZES = (2, 3, 4)


class Data:
    """The lecture's preprocessing: clean_str tokens, <START>/<END>, <PAD> to the longest
    sentence, a 90/10 split (seed 10); batches from seeded permutations, one per epoch."""

    def __init__(self, data_dir, batch_size):
        sentences, labels = text.load_polarity(data_dir, one_hot=False)
        self.vocab = text.Vocabulary().build(sentences)
        ids = self.vocab.encode(sentences, add_start_end=True)[0].astype(np.int32)
        self.x, self.test_x, self.y, self.test_y = text.train_test_split(
            ids, labels.astype(np.int32), 0.1, seed=10)
        self.seq_len, self.batch_size = ids.shape[1], batch_size
        self._rng, self._order = np.random.RandomState(0), np.zeros(0, np.int64)

    def batch(self, i):
        b = self.batch_size
        while len(self._order) < (i + 1) * b:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.x))])
        idx = self._order[i * b:(i + 1) * b]
        return self.x[idx], self.y[idx]


def initial_weights(rng, vocab_size, emb, n):
    """Embedding U(-1, 1); conv kernels truncated_normal(0.1), bias 0.1; output kernel xavier
    (glorot uniform), bias 0.1. float32, shared by both engines."""
    w = {"embedding": rng.uniform(-1.0, 1.0, (vocab_size, emb))}
    for fs in FILTER_SIZES:
        w[f"conv{fs}/W"] = mg.random.truncated_normal_array((fs, emb, 1, n), stddev=0.1,
                                                            rng=rng, dtype=np.float64)
        w[f"conv{fs}/b"] = np.full(n, 0.1)
    limit = np.sqrt(6.0 / (n * len(FILTER_SIZES) + 2))
    w["output/W"] = rng.uniform(-limit, limit, (n * len(FILTER_SIZES), 2))
    w["output/b"] = np.full(2, 0.1)
    return {k: v.astype(np.float32) for k, v in w.items()}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding rt-polarity/ (default: $MINIGRAD_DATA_DIR, else "
                        "generated sentences)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--steps", type=int, default=None, help="cap the steps per epoch")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--embedding", type=int, default=128)
    p.add_argument("--filters", type=int, default=128)
    p.add_argument("--rate", type=float, default=0.5, help="dropout rate")
    p.add_argument("--no-tf", action="store_true", help="train minigrad only")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


# --- minigrad, as the lecture writes it ---------------------------------------------------------
class MinigradTextCNN:
    def __init__(self, weights, seq_len):
        self.seq_len = seq_len
        self.p = {k: mg.Variable(v, name=k) for k, v in weights.items()}
        self.opt = mg.train.AdamOptimizer(0.001, beta1=0.5)

    def features(self, ids):
        h = mg.expand_dims(mg.nn.embedding_lookup(self.p["embedding"], ids), -1)
        pooled = []
        for fs in FILTER_SIZES:
            conv = mg.nn.conv2d(h, self.p[f"conv{fs}/W"], strides=[1, 1, 1, 1], padding="VALID")
            c = mg.nn.relu(mg.nn.bias_add(conv, self.p[f"conv{fs}/b"]))
            pooled.append(mg.nn.max_pool(c, ksize=[1, self.seq_len - fs + 1, 1, 1],
                                         strides=[1, 1, 1, 1], padding="VALID"))
        h = mg.concat(pooled, 3)
        return mg.reshape(h, [-1, h.shape[-1]])

    def scores(self, h):
        return mg.matmul(h, self.p["output/W"]) + self.p["output/b"]

    def train_step(self, ids, labels, rate, seed):
        def loss():
            h = mg.nn.dropout(self.features(ids), rate=rate, seed=seed)
            return mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=self.scores(h)))
        return float(self.opt.minimize(loss, list(self.p.values())))

    def predict(self, ids):
        return np.argmax(self.scores(self.features(ids)).numpy(), 1)


# --- TensorFlow 1, as the lecture writes it, with the dropout mask fed ------------------------
class SessionTextCNN:
    def __init__(self, weights, seq_len):
        from parity.tf_env import import_tf
        tf = import_tf()
        v1 = tf.compat.v1
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = v1.placeholder(tf.int32, [None, seq_len])
            self.y = v1.placeholder(tf.int32, [None])
            self.keep = v1.placeholder(tf.bool, [None, None])
            self.rate = v1.placeholder(tf.float32, [])
            p = {k: tf.Variable(v, name=k.replace("/", "_")) for k, v in weights.items()}
            h = tf.expand_dims(tf.nn.embedding_lookup(p["embedding"], self.x), -1)
            pooled = []
            for fs in FILTER_SIZES:
                conv = tf.nn.conv2d(h, p[f"conv{fs}/W"], strides=[1, 1, 1, 1], padding="VALID")
                c = tf.nn.relu(tf.nn.bias_add(conv, p[f"conv{fs}/b"]))
                pooled.append(tf.nn.max_pool(c, ksize=[1, seq_len - fs + 1, 1, 1],
                                             strides=[1, 1, 1, 1], padding="VALID"))
            h = tf.concat(pooled, 3)
            h = tf.reshape(h, [-1, h.shape[-1]])
            self.pred = tf.argmax(tf.matmul(h, p["output/W"]) + p["output/b"], 1)
            scale = tf.cast(1 / (1 - self.rate), h.dtype)        # tf.nn.dropout's own formula
            h_drop = tf.where(self.keep, h * scale, tf.zeros_like(h))
            logits = tf.matmul(h_drop, p["output/W"]) + p["output/b"]
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=self.y, logits=logits))
            self.train = v1.train.AdamOptimizer(0.001, beta1=0.5).minimize(self.loss)
            init = v1.global_variables_initializer()
        self.sess = v1.Session(graph=self.graph)
        self.sess.run(init)

    def train_step(self, ids, labels, mask, rate):
        feed = {self.x: ids, self.y: labels, self.keep: mask, self.rate: rate}
        return float(self.sess.run([self.loss, self.train], feed)[0])

    def predict(self, ids):
        return self.sess.run(self.pred, {self.x: ids})


def accuracy(model, ids, labels, batch=500):
    return float(np.mean(np.concatenate([model.predict(ids[i:i + batch])
                                         for i in range(0, len(ids), batch)]) == labels))


def main(argv=None):
    args = parse_args(argv)
    data = Data(args.data_dir, args.batch_size)
    where = resolve_data_dir(args.data_dir)
    print(f"{len(data.x)} training and {len(data.test_x)} test sentences "
          f"({'from ' + where if where else 'generated'}), vocabulary {len(data.vocab)}, "
          f"sequence length {data.seq_len}")
    weights = initial_weights(np.random.default_rng(0), len(data.vocab), args.embedding,
                              args.filters)
    engines = {"minigrad": MinigradTextCNN(weights, data.seq_len)}
    if not args.no_tf:
        engines["tensorflow"] = SessionTextCNN(weights, data.seq_len)
    steps = len(data.x) // args.batch_size
    steps = min(steps, args.steps) if args.steps else steps
    seconds = {name: 0.0 for name in engines}
    for epoch in range(args.epochs):
        losses = {name: 0.0 for name in engines}
        for s in _progress(range(steps), f"epoch {epoch + 1}", args.no_progress):
            i = epoch * steps + s
            ids, labels = data.batch(i)
            for name, model in engines.items():
                t0 = time.perf_counter()
                if name == "minigrad":
                    loss = model.train_step(mg.constant(ids), mg.constant(labels), args.rate,
                                            seed=i)
                else:
                    mask = keep_mask((len(ids), args.filters * len(FILTER_SIZES)), args.rate,
                                     seed=i, dtype=np.float32)
                    loss = model.train_step(ids, labels, mask, args.rate)
                seconds[name] += time.perf_counter() - t0
                losses[name] += loss / steps
        print(f"epoch {epoch + 1}: mean loss " + ", ".join(f"{n} {v:.6f}"
                                                          for n, v in losses.items()))
    for name, model in engines.items():
        acc = accuracy(model, data.test_x, data.test_y)
        print(f"{name:10s} test accuracy {acc:.4f}  ({seconds[name]:.1f} s training, "
              f"{1e3 * seconds[name] / max(1, steps * args.epochs):.1f} ms/step)")


def _progress(it, desc, disabled):
    try:
        from tqdm import tqdm
    except ImportError:
        return it
    return tqdm(it, desc=desc, leave=False, disable=disabled, mininterval=0.5)


if __name__ == "__main__":
    main()
