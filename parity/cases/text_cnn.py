"""The text-CNN lecture (parity/lectures/text_cnn.py) as a parity case: tolerance and initial
weights.

    embedding 128 -> conv 2/3/4 x 128 VALID, relu, max-over-time -> concat -> dropout -> dense 2
    mean sparse softmax cross-entropy; AdamOptimizer(1e-3, beta1=0.5); batch 64

The model is the lecture's TF1 program, run by each engine's Session. Its dropout keep_prob is
fed 1.0 here: the engines draw dropout masks from different random streams. What stays here is
written once more on purpose: the TF2 reference (tf.function / eager), a benchmark peer.
"""
import numpy as np

import minigrad as mg
from parity.harness import LectureCase, Tolerance, Trainer, register_case
from parity.lectures import text_cnn as lectures
from parity.tf_env import import_tf

FILTER_SIZES = lectures.TextCnn.filter_sizes


class _TextCnnParity(lectures.TextCnn):
    """The lecture with dropout_keep_prob fed 1.0 (each engine's masks are its own)."""
    dropout_keep_prob = 1.0


def init_weights(rng, vocab_size, seq_len, emb=128, n=128):
    """The lecture's initializers drawn in numpy, under its variable names: embedding
    U(-1, 1), conv kernels truncated_normal(0.1) with bias 0.1, the output kernel glorot
    uniform (get_variable's "W", outside the name scope) with bias 0.1."""
    w = {"embedding/W": rng.uniform(-1.0, 1.0, (vocab_size, emb))}
    for fs in FILTER_SIZES:
        w[f"conv-maxpool-{fs}/W"] = mg.random.truncated_normal_array(
            (fs, emb, 1, n), stddev=0.1, rng=rng, dtype=np.float64)
        w[f"conv-maxpool-{fs}/b"] = np.full(n, 0.1)
    limit = np.sqrt(6.0 / (n * len(FILTER_SIZES) + 2))
    w["W"] = rng.uniform(-limit, limit, (n * len(FILTER_SIZES), 2))
    w["output/b"] = np.full(2, 0.1)
    return w


class Tf2TextCnn(Trainer):
    """The benchmarks' tf_function / tf_eager modes (TF2 code: no TF1 program to share):
    tf.Variables under the lecture's names, tf.GradientTape, the lecture's TF1 Adam."""

    def __init__(self, weights, data, keep_prob, lr=1e-3, beta1=0.5, eager=False):
        tf = self.tf = import_tf()
        self.data = data
        p = {k: tf.Variable(v, name=k.replace("/", "_")) for k, v in weights.items()}
        self.params, variables = p, list(p.values())
        opt = tf.compat.v1.train.AdamOptimizer(lr, beta1=beta1)

        def step(ids, y):
            with tf.GradientTape() as tape:
                h = tf.expand_dims(tf.nn.embedding_lookup(p["embedding/W"], ids), -1)
                pooled = []
                for fs in FILTER_SIZES:
                    c = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(
                        h, p[f"conv-maxpool-{fs}/W"], strides=[1, 1, 1, 1], padding="VALID"),
                        p[f"conv-maxpool-{fs}/b"]))
                    pooled.append(tf.nn.max_pool(c, ksize=[1, data.seq_len - fs + 1, 1, 1],
                                                 strides=[1, 1, 1, 1], padding="VALID"))
                h = tf.reshape(tf.concat(pooled, 3), [-1, p["W"].shape[0]])
                h = tf.nn.dropout(h, rate=1.0 - keep_prob)
                scores = tf.matmul(h, p["W"]) + p["output/b"]
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=y, logits=scores))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        self._step = step if eager else tf.function(step)

    def step(self, i):
        ids, y = self.data.batch(i)
        return self._step(self.tf.constant(ids), self.tf.constant(y)).numpy()

    def weights(self):
        return {k: v.numpy() for k, v in self.params.items()}


@register_case
class TextCnn(LectureCase):
    lecture = _TextCnnParity
    ci_steps = 3
    needs = "rt-polarity"

    def data(self, data_dir, dtype):
        data = super().data(data_dir, dtype)
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
        return Tolerance(1e-5, 16, None, None,
                         "float32: first 16 steps at 1e-5. On the generated sentences, step "
                         "15's batch has a sentence whose two largest size-3 conv outputs of "
                         "one filter differ by 4.5e-8 relative (float64), under float32's "
                         "resolution: the engines' max-over-time pick different positions, "
                         "the update differs by ~lr in a few weights, and the losses part "
                         "(4e-5 at step 17; TF's float32 run stays within 5e-7 of float64 "
                         "there, minigrad's within 6e-5). The drift is reported, not judged")

    def build_tf2(self, weights, data, dtype, eager=False):
        return Tf2TextCnn(weights, data, self.lecture.dropout_keep_prob, eager=eager)
