"""The stock-prediction lecture (deck 002, lab 12-5): an LSTM reads 7 days of prices and
predicts the next day's close.

    rows Open, High, Low, Volume, Close, oldest first, min-max scaled; windows of 7 days x 5
    features -> the next Close; the first 70% of the windows train, the last 30% test
    BasicLSTMCell(10, activation=tanh), dynamic_rnn, fully connected 1 on the last output,
    loss = sum of squared errors, AdamOptimizer(0.01), 500 steps on the whole training split

The program is the deck's TF1 code, written once in parity/lectures/stock.py and run here by
minigrad.compat.v1 (--engine tensorflow: by TensorFlow); the same as
`python -m parity.lectures stock_lstm`. Prints the deck's loss line every --print-every steps
and the test RMSE (about 0.026 on the deck's CSV), and saves the deck's plot of the test prices
against the predictions as stock_lstm.png in --out.

    python examples/stock_lstm.py --data-dir ../shared/data     # the real GOOG CSV
    python examples/stock_lstm.py                               # a generated price series
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, resolve_data_dir          # noqa: E402
from parity.lectures import LectureTrainer                       # noqa: E402
from parity.lectures.stock import Stock                          # noqa: E402
from parity.tf_env import tf1_api                                # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding stock-daily/data-02-stock_daily.csv (default: "
                        "$MINIGRAD_DATA_DIR, else a generated series)")
    p.add_argument("--steps", type=int, default=Stock.steps, help="training steps (500)")
    p.add_argument("--scale", choices=["whole", "split"], default="whole",
                   help="whole: scale the whole series, then split (the deck's version "
                        "with RMSE ~0.026); split: split the rows first, scale each part "
                        "(the deck's later version; its test RMSE reads ~0.05)")
    p.add_argument("--learning-rate", type=float, default=Stock.learning_rate)
    p.add_argument("--print-every", type=int, default=50,
                   help="print the deck's loss line every N steps (the deck: every step)")
    p.add_argument("--out", default=None, help="where stock_lstm.png goes (default: a new "
                                               "temporary directory)")
    p.add_argument("--engine", choices=["minigrad", "tensorflow"], default="minigrad")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    out = args.out or tempfile.mkdtemp(prefix="stock_lstm_")
    os.makedirs(out, exist_ok=True)
    lecture = Stock(scale=args.scale, plot_path=os.path.join(out, "stock_lstm.png"))
    lecture.learning_rate = args.learning_rate
    data = lecture.data(data_dir, "float32")
    print(f"{'real CSV' if data_dir else 'generated series'}: {len(data.trainX)} training and "
          f"{len(data.testX)} test windows of {data.trainX.shape[1]} days")
    _, tf, placement = tf1_api("cpu", args.engine)
    trainer = LectureTrainer(lecture, tf, "float32", data, placement=placement)
    for i in range(args.steps):
        trainer.step(i)
        if i % args.print_every == 0 or i == args.steps - 1:
            print(trainer.line(i))
    result = trainer.extra()
    print(f"RMSE: {result['RMSE']:.6f}")
    print(f"plot: {result['plot']}")
    return result["RMSE"]


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
