"""Daily stock prices for the RNN stock-prediction lecture (hunkim/DeepLearningZeroToAll lab 12-5).

    xy = stock.load_stock_csv()         # [732, 5] Open,High,Low,Volume,Close, oldest first
    train, test = stock.train_test_split(xy)                # 70/30 in time order
    x, y = stock.make_windows(stock.min_max_scale(train))   # x [n, 7, 5], y [n, 1] next close
"""
import os

import numpy as np

from minigrad.data import DataError, find_file, resolve_data_dir

FILE = "data-02-stock_daily.csv"
COLUMNS = ("Open", "High", "Low", "Volume", "Close")
HOW_TO_GET = f"get {FILE} from hunkim/DeepLearningZeroToAll (GOOG daily history, Yahoo Finance)"


def load_stock_csv(path=None, seed=0):
    """[n, 5] float64 rows Open,High,Low,Volume,Close, OLDEST first (the file is newest first
    and the lecture does ``xy[::-1]``). `path` is the CSV or a data directory; with neither a
    path nor a data directory, `synthetic_stock` (``seed``)."""
    if path is None:
        path = resolve_data_dir(None)
        if path is None:
            return synthetic_stock(seed=seed)
    path = os.fspath(path)
    if os.path.isdir(path):
        path = find_file(path, "stock-daily", [FILE], HOW_TO_GET)
    try:
        xy = np.loadtxt(path, delimiter=",", comments="#", ndmin=2)
    except FileNotFoundError:
        raise DataError(f"missing stock CSV {path!r}; {HOW_TO_GET}") from None
    except ValueError as e:
        raise DataError(f"corrupt stock CSV {path!r}: {e}") from None
    if xy.shape[1] != len(COLUMNS) or len(xy) == 0:
        raise DataError(f"{path!r}: {xy.shape[1]} columns, expected {','.join(COLUMNS)}")
    return np.ascontiguousarray(xy[::-1])


def min_max_scale(data):
    """Per column to [0, 1), exactly the lecture's MinMaxScaler (1e-7 avoids 0/0)."""
    numerator = data - np.min(data, 0)
    denominator = np.max(data, 0) - np.min(data, 0)
    return numerator / (denominator + 1e-7)


def make_windows(data, seq_length=7):
    """(x [n - seq_length, seq_length, d], y [n - seq_length, 1]): each window of rows and
    the next row's last column (Close), as the lecture's build_dataset."""
    data = np.asarray(data)
    n = len(data) - seq_length
    if n <= 0:
        return data[:0, None].repeat(seq_length, 1), data[:0, -1:]
    x = np.lib.stride_tricks.sliding_window_view(data[:-1], seq_length, axis=0)
    return np.ascontiguousarray(x.transpose(0, 2, 1)), data[seq_length:, -1:].copy()


def train_test_split(data, train_fraction=0.7, seq_length=7):
    """(train, test) in time order, as the lecture: ``train = data[:int(n * 0.7)]``, ``test =
    data[train_size - seq_length:]`` so the first test window sees the last training days."""
    train_size = int(len(data) * train_fraction)
    return data[:train_size], data[max(train_size - seq_length, 0):]


def synthetic_stock(n=732, seed=0):
    """[n, 5] generated daily rows (Open,High,Low,Volume,Close, oldest first), deterministic
    in `seed`: a geometric random walk from ~560 with drift and volatility like GOOG 2014-17,
    Open near the previous Close, High/Low around the day, Volume rising with the move."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(4e-4, 0.014, n) + 0.004 * np.sin(np.arange(n) / 23.0)
    close = 560.0 * np.exp(np.cumsum(ret))
    prev = np.concatenate([[close[0] / np.exp(ret[0])], close[:-1]])
    open_ = prev * np.exp(rng.normal(0.0, 0.004, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.006, n)))
    volume = np.round(1.6e6 * np.exp(rng.normal(0.0, 0.3, n) + 12.0 * np.abs(ret)))
    return np.stack([open_, high, low, volume, close], axis=1)
