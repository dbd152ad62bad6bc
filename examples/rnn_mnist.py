"""MNIST with an RNN, in minigrad: each 28x28 image is read as 28 steps of 28 pixels.

    X [batch, 28, 28] -> BasicRNNCell(31) (--layers 3: MultiRNNCell of three) -> dynamic_rnn
    (--static: static_rnn over the 28 unstacked rows) -> the last output -> dense 10
    cost = mean sparse softmax cross-entropy; AdamOptimizer(0.001); batch 128; 10 epochs

Test accuracy after 10 epochs on the real MNIST: about 0.89 (one layer), about 0.91 (three).
The network is the lecture's (parity/lectures/mnist_rnn.py) written with minigrad's own API,
from the parity cases' `rnn_mnist` / `rnn_mnist_stacked` initial weights; batches are taken in
the training set's order, as in the parity run.

    python examples/rnn_mnist.py --data-dir ../shared/data              # real MNIST, 10 epochs
    python examples/rnn_mnist.py --layers 3 --static --epochs 1         # generated digits
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                                                   # noqa: E402
from minigrad.data import DataError, resolve_data_dir                    # noqa: E402
from parity.cases.rnn_common import make_cell, mg_copy, under           # noqa: E402
from parity.cases.rnn_mnist import MnistCase, accuracy, mnist_rows      # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)

CELLS = {"rnn": "BasicRNNCell", "lstm": "BasicLSTMCell"}
N_STEP, N_CLASS = 28, 10


class MnistRNN:
    """`kind` cells of sizes `layers` over the 28 rows (dynamic_rnn, or static_rnn over the
    unstacked rows), the last output -> dense 10, mean sparse softmax cross-entropy, Adam."""

    def __init__(self, kind, layers, weights, data, dtype=np.float32, learning_rate=0.001,
                 static=False, compiled=False):
        self.data, self.dtype, self.static = data, dtype, static
        self.cell = make_cell(mg.nn.rnn_cell, kind, layers)
        self.dense = mg.layers.Dense(N_CLASS)
        self.logits(data.train_x[:1])                   # creates the variables
        self.params = mg_copy("cell", self.cell.weights, under(weights, "rnn")) + \
            mg_copy("dense", self.dense.weights, under(weights, "dense"))
        self.optimizer = mg.train.AdamOptimizer(learning_rate)
        self.train = mg.function(self.train_step) if compiled else self.train_step

    def logits(self, x):
        X = mg.convert_to_tensor(x)
        if self.static:
            outputs, _states = mg.nn.static_rnn(self.cell, mg.unstack(X, N_STEP, 1),
                                                dtype=self.dtype)
            last = outputs[-1]
        else:
            outputs, _states = mg.nn.dynamic_rnn(self.cell, X, dtype=self.dtype)
            last = outputs[:, -1]
        return self.dense(last)

    def train_step(self, x, y):
        cost = lambda: mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(  # noqa
            labels=y, logits=self.logits(x)))
        return self.optimizer.minimize(cost, self.params)

    def step(self, i):
        return self.train(*self.data.batch(i))

    def test_accuracy(self):
        return accuracy(lambda x: self.logits(x).numpy(), self.data.test_x, self.data.test_y)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding mnist/ (default: $MINIGRAD_DATA_DIR, else "
                        "generated digits)")
    p.add_argument("--layers", type=int, choices=[1, 3], default=1,
                   help="BasicRNNCell(31) layers (1)")
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


def initial_weights(kind, layers, seed):
    """The parity cases' initial weights (glorot kernels, zero biases) for `layers` cells: the
    same as rnn_mnist's, rnn_mnist_stacked's or lstm_mnist's for their stacks."""
    case = MnistCase()
    case.kind, case.layers = kind, [31] * layers
    return case.init_weights(np.random.default_rng(seed), np.float32), case.layers


def main(argv=None):
    return run(parse_args(argv), "rnn")


def run(args, kind):
    """Train `kind` cells ("rnn" or "lstm") as `args` say; print and return test accuracy."""
    data_dir = resolve_data_dir(args.data_dir)
    data = mnist_rows(data_dir, np.float32, args.batch_size)
    print(f"{'MNIST' if data_dir else 'generated digits'}: {len(data.train_x)} training, "
          f"{len(data.test_x)} test images; {args.layers} x {CELLS[kind]}(31), "
          f"{'static_rnn' if args.static else 'dynamic_rnn'}")
    weights, layers = initial_weights(kind, args.layers, args.seed)
    model = MnistRNN(kind, layers, weights, data, np.float32, args.learning_rate,
                     static=args.static, compiled=not args.eager)

    total_batch = min(data.batches_per_epoch, args.steps or data.batches_per_epoch)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        total_cost = 0.0
        batches = range(epoch * data.batches_per_epoch,
                        epoch * data.batches_per_epoch + total_batch)
        for i in progress(batches, f"epoch {epoch + 1}", args.no_progress):
            total_cost += float(model.step(i))
        log(f"Epoch: {epoch + 1:04d} Avg. cost = {total_cost / total_batch:.3f}")
    seconds = time.perf_counter() - t0
    accuracy = model.test_accuracy()
    print(f"Test accuracy: {accuracy:.4f}  ({args.epochs * total_batch} steps in "
          f"{seconds:.1f} s)")
    return accuracy


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
