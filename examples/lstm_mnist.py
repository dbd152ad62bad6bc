"""MNIST with an LSTM, in minigrad: examples/rnn_mnist.py with BasicLSTMCell(31) cells.

    X [batch, 28, 28] -> MultiRNNCell of 2 x BasicLSTMCell(31) (--layers) -> dynamic_rnn
    (--static: static_rnn) -> the last output -> dense 10; mean sparse softmax cross-entropy,
    AdamOptimizer(0.001), batch 128, 10 epochs

The network is the `lstm_mnist` lecture's (parity/lectures/mnist_rnn.py) in minigrad's own API
(rnn_mnist.py's MnistRNN), from the parity case's initial weights; the loop is rnn_mnist.py's.

    python examples/lstm_mnist.py --data-dir ../shared/data
    python examples/lstm_mnist.py --layers 1 --epochs 1 --steps 50
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnn_mnist import run                  # noqa: E402
from minigrad.data import DataError      # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding mnist/ (default: $MINIGRAD_DATA_DIR, else "
                        "generated digits)")
    p.add_argument("--layers", type=int, default=2, help="BasicLSTMCell(31) layers (2)")
    p.add_argument("--static", action="store_true", help="static_rnn instead of dynamic_rnn")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps", type=int, default=None, help="cap the steps per epoch")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=0.001)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--eager", action="store_true",
                   help="run each step eagerly instead of through mg.function")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


def main(argv=None):
    return run(parse_args(argv), "lstm")


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
