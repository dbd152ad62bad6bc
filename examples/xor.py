"""The XOR lecture (lab 9-1), in minigrad: a 2-2-1 sigmoid network learns XOR.

    X = [[0, 0], [0, 1], [1, 0], [1, 1]], Y = [[0], [1], [1], [0]]
    layer1 = sigmoid(X W1 + b1);  hypothesis = sigmoid(layer1 W2 + b2)
    cost = -reduce_mean(Y log(h) + (1 - Y) log(1 - h));  GradientDescentOptimizer(0.1); 10001 steps

One layer of logistic regression cannot separate XOR; two can. Prints the cost every 1000 steps,
then the hypothesis, the prediction (h > 0.5) and the accuracy (1.0). The weights are drawn
from N(0, 1) with numpy's seeded generator (the lecture's tf.random_normal), in the order
W1, b1, W2, b2, as the parity case `xor` does.

    python examples/xor.py                 # the full 10001 steps
    python examples/xor.py --steps 3       # a smoke run
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                              # noqa: E402
from minigrad.data import DataError, resolve_data_dir        # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)

X_DATA = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
Y_DATA = np.array([[0], [1], [1], [0]], np.float32)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: XOR's four rows are embedded")
    p.add_argument("--steps", type=int, default=10001, help="training steps (10001)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--print-every", type=int, default=1000)
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)          # a named directory must exist, as elsewhere
    rng = np.random.default_rng(args.seed)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)   # noqa: E731
    X, Y = mg.constant(X_DATA), mg.constant(Y_DATA)
    W1 = mg.Variable(normal(2, 2), name="weight1")
    b1 = mg.Variable(normal(2), name="bias1")
    W2 = mg.Variable(normal(2, 1), name="weight2")
    b2 = mg.Variable(normal(1), name="bias2")

    def hypothesis():
        layer1 = mg.sigmoid(mg.matmul(X, W1) + b1)
        return mg.sigmoid(mg.matmul(layer1, W2) + b2)

    def cost():
        h = hypothesis()
        return -mg.reduce_mean(Y * mg.log(h) + (1 - Y) * mg.log(1 - h))

    train = mg.train.GradientDescentOptimizer(learning_rate=args.learning_rate)
    t0 = time.perf_counter()
    for step in progress(range(args.steps), "xor", args.no_progress):
        cost_val = train.minimize(cost, var_list=[W1, b1, W2, b2])
        if step % args.print_every == 0:
            log(f"{step:5d} cost {float(cost_val):.9f}")
    seconds = time.perf_counter() - t0

    h = hypothesis()
    predicted = mg.cast(h > 0.5, mg.float32)
    accuracy = float(mg.reduce_mean(mg.cast(mg.equal(predicted, Y), mg.float32)))
    print(f"\nHypothesis:\n{h.numpy()}\nPredicted:\n{predicted.numpy()}\nAccuracy: {accuracy}")
    print(f"({args.steps} steps in {seconds:.1f} s)")
    return accuracy


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
