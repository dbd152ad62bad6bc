"""MNIST read row by row (decks 000 and 004): each 28x28 image is a sequence of 28 steps of 28
pixels, the RNN's last output goes to a dense layer of 10, mean sparse softmax cross-entropy,
AdamOptimizer(0.001), batches of 128, 10 epochs.

    rnn_mnist                      BasicRNNCell(31), dynamic_rnn                     (deck 004)
    rnn_mnist_stacked              MultiRNNCell of 3 x BasicRNNCell(31), dynamic_rnn (deck 004)
    rnn_mnist_static[_stacked]     the same cells through static_rnn over the rows   (deck 004)
    rnn_mnist_time_major[_stacked] dynamic_rnn on [28, batch, 28] with sequence_length (deck 004)
    lstm_mnist                     MultiRNNCell of 2 x BasicLSTMCell(31), dynamic_rnn (deck 000)

The three RNN forms name their variables alike (scope "rnn"), so one set of initial weights
starts any of them. Data: the real MNIST under <data_dir>/mnist (the 55,000 training images of
read_data_sets), else 55,000 + 10,000 generated digits; batch i is the i-th batch of the
training set in file order (no shuffling), wrapping around each epoch.
"""
import functools
import types
from dataclasses import dataclass

import numpy as np

from minigrad.data import mnist
from parity.lectures import Lecture, register

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
    `data_dir`, else generated digits (55000 / 10000 unless `n_train` / `n_test` say). The
    arrays are made once per argument set and shared (nothing writes to them)."""
    return _rows(data_dir, np.dtype(dtype).name, batch_size, n_train, n_test)


@functools.lru_cache(maxsize=8)
def _rows(data_dir, dtype, batch_size, n_train, n_test):
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
    out = MnistRows(rows(tr_x), tr_y.astype(np.int64), rows(te_x), te_y.astype(np.int64),
                    batch_size)
    for a in (out.train_x, out.train_y, out.test_x, out.test_y):
        a.flags.writeable = False
    return out


class _MnistRows(Lecture):
    needs = "mnist"
    kind = "rnn"                        # BasicRNNCell
    n_layers = 1
    n_hidden = 31
    learning_rate = 0.001
    total_epoch = 10
    steps = total_epoch * (55000 // 128)

    def data(self, data_dir, dtype):
        return mnist_rows(data_dir, dtype)

    def cell(self, tf):
        """One cell, or a MultiRNNCell of `n_layers` of them."""
        Cell = (tf.nn.rnn_cell.BasicLSTMCell if self.kind == "lstm" else
                tf.nn.rnn_cell.BasicRNNCell)
        if self.n_layers == 1:
            return Cell(self.n_hidden)
        return tf.nn.rnn_cell.MultiRNNCell([Cell(self.n_hidden) for _ in range(self.n_layers)],
                                           state_is_tuple=True)

    def rnn(self, tf, f, cell, X, g):
        """dynamic_rnn over [batch, 28, 28]; the output of the last row."""
        outputs, states = tf.nn.dynamic_rnn(cell, X, dtype=f)
        return outputs[:, -1]

    def build(self, tf, dtype, data):
        self._total_batch = data.batches_per_epoch
        f = getattr(tf, dtype)
        g = types.SimpleNamespace()
        g.X = X = tf.placeholder(f, [None, N_STEP, N_INPUT])
        g.Y = Y = tf.placeholder(tf.int64, [None])
        cell = self.cell(tf)
        last = self.rnn(tf, f, cell, X, g)
        g.model = model = tf.layers.dense(last, N_CLASS)
        g.cost = cost = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=Y, logits=model))
        g.train = tf.train.AdamOptimizer(self.learning_rate).minimize(cost)
        is_correct = tf.equal(tf.argmax(model, 1), Y)
        g.accuracy = tf.reduce_mean(tf.cast(is_correct, f))
        return g

    def feed(self, g, data, i):
        batch_xs, batch_ys = data.batch(i)
        return {g.X: batch_xs, g.Y: batch_ys}

    def line(self, i, values):
        total_batch = self._total_batch
        if i % total_batch == 0:
            self._total_cost = 0.0
        self._total_cost += values["cost"]
        if (i + 1) % total_batch == 0:
            return (f"Epoch: {(i + 1) // total_batch:04d} Avg. cost = "
                    f"{self._total_cost / total_batch:.3f}")
        return None

    def finish(self, g, sess, data):
        test_xs, test_ys = data.test_x, data.test_y
        return {"Accuracy": float(sess.run(g.accuracy, {g.X: test_xs, g.Y: test_ys}))}

    def outputs(self, g, sess, data):
        return {"test_logits[:256]": sess.run(g.model, {g.X: data.test_x[:256]})}


class _Static(_MnistRows):
    def rnn(self, tf, f, cell, X, g):
        """static_rnn over the 28 rows, unstacked: a list of [batch, 28]; the last output."""
        x = tf.unstack(X, N_STEP, 1)
        outputs, states = tf.nn.static_rnn(cell, x, dtype=f)
        return outputs[-1]


class _TimeMajor(_MnistRows):
    def rnn(self, tf, f, cell, X, g):
        """dynamic_rnn on time-major rows [28, batch, 28] with every sequence's length fed;
        outputs [28, batch, n_hidden], the last step's."""
        g.seq_len = tf.placeholder(tf.int32, [None])
        x = tf.transpose(X, [1, 0, 2])
        outputs, states = tf.nn.dynamic_rnn(cell, x, sequence_length=g.seq_len,
                                            time_major=True, dtype=f)
        return outputs[-1]

    def feed(self, g, data, i):
        batch_xs, batch_ys = data.batch(i)
        return {g.X: batch_xs, g.Y: batch_ys, g.seq_len: [N_STEP] * len(batch_xs)}

    def _all_rows(self, g, feed):
        return {**feed, g.seq_len: [N_STEP] * len(feed[g.X])}

    def finish(self, g, sess, data):
        feed = self._all_rows(g, {g.X: data.test_x, g.Y: data.test_y})
        return {"Accuracy": float(sess.run(g.accuracy, feed))}

    def outputs(self, g, sess, data):
        feed = self._all_rows(g, {g.X: data.test_x[:256]})
        return {"test_logits[:256]": sess.run(g.model, feed)}


@register
class RnnMnist(_MnistRows):
    name = "rnn_mnist"
    deck = "004: RNN-MNIST, dynamic_rnn"
    title = "MNIST rows: BasicRNNCell(31), last output -> dense 10, Adam(0.001), 10 epochs"


@register
class RnnMnistStacked(_MnistRows):
    name = "rnn_mnist_stacked"
    deck = "004: RNN-MNIST, dynamic_rnn, 3 layers"
    title = "MNIST rows: MultiRNNCell of 3 x BasicRNNCell(31) -> dense 10, Adam(0.001)"
    n_layers = 3


@register
class RnnMnistStatic(_Static):
    name = "rnn_mnist_static"
    deck = "004: RNN-MNIST, static_rnn"
    title = "MNIST rows: BasicRNNCell(31) through static_rnn -> dense 10, Adam(0.001)"


@register
class RnnMnistStaticStacked(_Static):
    name = "rnn_mnist_static_stacked"
    deck = "004: RNN-MNIST, static_rnn, 3 layers"
    title = "MNIST rows: MultiRNNCell of 3 x BasicRNNCell(31) through static_rnn -> dense 10"
    n_layers = 3


@register
class RnnMnistTimeMajor(_TimeMajor):
    name = "rnn_mnist_time_major"
    deck = "004: RNN-MNIST, dynamic_rnn time_major"
    title = "MNIST rows time-major, sequence_length fed: BasicRNNCell(31) -> dense 10"


@register
class RnnMnistTimeMajorStacked(_TimeMajor):
    name = "rnn_mnist_time_major_stacked"
    deck = "004: RNN-MNIST, time_major, 3 layers"
    title = "MNIST rows time-major, sequence_length fed: 3 x BasicRNNCell(31) -> dense 10"
    n_layers = 3


@register
class LstmMnist(_MnistRows):
    name = "lstm_mnist"
    deck = "000: LSTM-MNIST"
    title = "MNIST rows: MultiRNNCell of 2 x BasicLSTMCell(31) -> dense 10, Adam(0.001)"
    kind = "lstm"
    n_layers = 2
