"""Deck 002, lab 12-5: stock prices. An LSTM reads 7 days of (Open, High, Low, Volume, Close)
and predicts the next day's Close.

    min-max scaled rows, oldest first; windows of 7 days -> the next Close; the first 70% of
    the windows train, the last 30% test; BasicLSTMCell(10, tanh), dynamic_rnn, fully_connected
    1 on the last output, loss = sum of squared errors, AdamOptimizer(0.01), 500 steps on the
    whole training split; the test RMSE (about 0.026 on the deck's CSV), and the plot of the
    test prices against the predictions

Data: <data_dir>/stock-daily/data-02-stock_daily.csv (GOOG, the deck's file), else a generated
series of the same size (minigrad.data.stock.synthetic_stock). The plot is written when the
caller gives `plot_path` and matplotlib is installed (the deck calls plt.show()).
"""
import types

import numpy as np

from minigrad.data import stock
from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf

# train Parameters
seq_length = 7
data_dim = 5
hidden_dim = 10
output_dim = 1
learning_rate = 0.01
iterations = 500


def stock_data(data_dir, dtype, seq_length=seq_length, scale="whole"):
    """The deck's data: trainX [n, 7, 5], trainY [n, 1], testX, testY.

    scale="whole" (the deck's version whose RMSE of about 0.026 it reports,
    hunkim/DeepLearningZeroToAll@17a3964): min-max scale every row, make every window of
    `seq_length` days and the next Close, split the windows 70/30 in time. scale="split" (the
    deck's later version, no test statistics in training): split the rows 70/30 (the test part
    starts `seq_length` rows early), scale each part on its own."""
    # Open, High, Low, Volume, Close, oldest first (the file is newest first: the deck's
    # xy[::-1]); a data_dir without the CSV raises DataError naming it
    xy = stock.load_stock_csv(data_dir) if data_dir is not None else stock.synthetic_stock()
    if scale == "whole":
        x, y = stock.make_windows(stock.min_max_scale(xy), seq_length)
        train_size = int(len(y) * 0.7)
        parts = x[:train_size], y[:train_size], x[train_size:], y[train_size:]
    elif scale == "split":
        train_set, test_set = stock.train_test_split(xy, 0.7, seq_length)
        parts = (stock.make_windows(stock.min_max_scale(train_set), seq_length) +
                 stock.make_windows(stock.min_max_scale(test_set), seq_length))
    else:
        raise ValueError(f"scale must be 'whole' or 'split', not {scale!r}")
    trainX, trainY, testX, testY = (np.ascontiguousarray(a, dtype) for a in parts)
    return types.SimpleNamespace(trainX=trainX, trainY=trainY, testX=testX, testY=testY)


def plot(testY, test_predict, path):
    """The deck's figure (test prices and predictions over time) into `path` (PNG); None when
    matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(8, 4))
    plt.plot(testY, label="testY")
    plt.plot(test_predict, label="test_predict")
    plt.legend(loc="upper left")
    plt.xlabel("Time Period")
    plt.ylabel("Stock Price")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@register
class Stock(Lecture):
    name = "stock_lstm"
    deck = "002, lab 12-5: stock prediction"
    title = "7 days x 5 -> next Close: BasicLSTMCell(10), fully_connected, sum of squares, Adam"
    needs = "stock-daily"
    steps = iterations
    loss = "loss"
    learning_rate = learning_rate

    def __init__(self, scale="whole", plot_path=None):
        self.scale = scale              # see stock_data
        self.plot_path = plot_path      # where finish writes the plot (None: no plot)

    def data(self, data_dir, dtype):
        return stock_data(data_dir, dtype, scale=self.scale)

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        # input place holders
        X = tf.placeholder(f, [None, seq_length, data_dim])
        Y = tf.placeholder(f, [None, 1])

        # build a LSTM network
        cell = tf.contrib.rnn.BasicLSTMCell(
            num_units=hidden_dim, state_is_tuple=True, activation=tf.tanh)
        outputs, _states = tf.nn.dynamic_rnn(cell, X, dtype=f)
        Y_pred = tf.contrib.layers.fully_connected(
            outputs[:, -1], output_dim, activation_fn=None)  # We use the last cell's output

        # cost/loss
        loss = tf.reduce_sum(tf.square(Y_pred - Y))  # sum of the squares
        # optimizer
        optimizer = tf.train.AdamOptimizer(self.learning_rate)  # the deck's 0.01
        train = optimizer.minimize(loss)

        # RMSE
        targets = tf.placeholder(f, [None, 1])
        predictions = tf.placeholder(f, [None, 1])
        rmse = tf.sqrt(tf.reduce_mean(tf.square(targets - predictions)))
        return types.SimpleNamespace(X=X, Y=Y, Y_pred=Y_pred, loss=loss, train=train,
                                     targets=targets, predictions=predictions, rmse=rmse)

    def feed(self, g, data, i):
        return {g.X: data.trainX, g.Y: data.trainY}

    def fetches(self, g):
        return {"train": g.train, "loss": g.loss}

    def line(self, i, values):
        return "[step: {}] loss: {!s}".format(i, values["loss"])

    def finish(self, g, sess, data):
        # Test step
        test_predict = sess.run(g.Y_pred, feed_dict={g.X: data.testX})
        rmse_val = sess.run(g.rmse, feed_dict={g.targets: data.testY,
                                               g.predictions: test_predict})
        out = {"RMSE": float(rmse_val)}
        if self.plot_path is not None:
            out["plot"] = plot(data.testY, test_predict, self.plot_path)
        return out

    def outputs(self, g, sess, data):
        return {"test_predict": sess.run(g.Y_pred, feed_dict={g.X: data.testX})}
