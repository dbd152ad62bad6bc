"""The stock-prediction lecture (lab 12-5), in minigrad: an LSTM reads 7 days of prices and
predicts the next day's close.

    rows Open, High, Low, Volume, Close, oldest first, min-max scaled; windows of 7 days x 5
    features -> the next Close; the first 70% of the windows train, the last 30% test
    BasicLSTMCell(10, activation=tanh), dynamic_rnn, fully connected 1 on the last output,
    loss = sum of squared errors, AdamOptimizer(0.01), 500 steps on the whole training split

Prints the loss every 50 steps and the test RMSE (about 0.026 on the lecture's CSV), and saves
a plot of the test prices against the predictions as stock_lstm.png in --out. The network is
the parity case `stock_lstm`'s minigrad program (parity/cases/rnn_stock.py, StockLSTM), from
its initial weights.

    python examples/stock_lstm.py --data-dir ../shared/data     # the real GOOG CSV
    python examples/stock_lstm.py                               # a generated price series
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, resolve_data_dir                   # noqa: E402
from parity.cases.rnn_stock import StockLSTM, StockLstmCase, rmse, stock_data  # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding stock-daily/data-02-stock_daily.csv (default: "
                        "$MINIGRAD_DATA_DIR, else a generated series)")
    p.add_argument("--steps", type=int, default=500, help="training steps (500)")
    p.add_argument("--scale", choices=["whole", "split"], default="whole",
                   help="whole: scale the whole series, then split (the lecture's version "
                        "with RMSE ~0.026); split: split the rows first, scale each part "
                        "(the lecture's later version; its test RMSE reads ~0.05)")
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--out", default=None, help="where stock_lstm.png goes (default: a new "
                                               "temporary directory)")
    p.add_argument("--eager", action="store_true",
                   help="run each step eagerly instead of through mg.function")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    data = stock_data(data_dir, np.float32, scale=args.scale)
    print(f"{'real CSV' if data_dir else 'generated series'}: {len(data.trainX)} training and "
          f"{len(data.testX)} test windows of {data.trainX.shape[1]} days")
    weights = StockLstmCase().init_weights(np.random.default_rng(args.seed), np.float32)
    model = StockLSTM(data, weights, np.float32, args.learning_rate, compiled=not args.eager)

    t0 = time.perf_counter()
    for i in progress(range(args.steps), "stock_lstm", args.no_progress):
        step_loss = float(model.step(i))
        if i % 50 == 0 or i == args.steps - 1:
            log(f"[step: {i}] loss: {step_loss:.6f}")
    seconds = time.perf_counter() - t0

    test_predict = model.test_predict()
    rmse_val = rmse(data.testY, test_predict)
    print(f"RMSE: {rmse_val:.6f}  ({args.steps} steps in {seconds:.1f} s)")
    print(f"plot: {plot(data.testY, test_predict, args.out)}")
    return rmse_val


def plot(test_y, test_predict, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = out or tempfile.mkdtemp(prefix="stock_lstm_")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "stock_lstm.png")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(test_y, label="test close (scaled)")
    ax.plot(test_predict, label="predicted")
    ax.set_xlabel("Time Period")
    ax.set_ylabel("Stock Price")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
