"""The MNIST softmax regression lecture, in minigrad.

    784 -> 10 softmax, zero-initialised; cost = reduce_mean(-reduce_sum(Y * log(softmax), 1));
    GradientDescentOptimizer(0.5); batch 100; prints each epoch's mean cost and the test accuracy.

    python examples/mnist_softmax.py --data-dir ../shared/data      # the real MNIST
    python examples/mnist_softmax.py                                # generated digits
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                     # noqa: E402
from minigrad.data import mnist, resolve_data_dir    # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding mnist/ (default: $MINIGRAD_DATA_DIR, else "
                        "generated digits)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--steps", type=int, default=None, help="cap the steps per epoch")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.5)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data = mnist.load(args.data_dir, one_hot=True)
    where = resolve_data_dir(args.data_dir)
    print(f"{data}: {'MNIST from ' + where if where else 'generated digits'}")
    W = mg.Variable(mg.zeros([784, 10]), name="weight")
    b = mg.Variable(mg.zeros([10]), name="bias")

    def hypothesis(x):
        return mg.nn.softmax(mg.matmul(x, W) + b)

    def cost(x, y):
        return mg.reduce_mean(-mg.reduce_sum(y * mg.log(hypothesis(x)), axis=1))

    opt = mg.train.GradientDescentOptimizer(args.learning_rate)
    steps = data.train.num_examples // args.batch_size
    steps = min(steps, args.steps) if args.steps else steps
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        avg_cost = 0.0
        for _ in _progress(range(steps), f"epoch {epoch + 1}", args.no_progress):
            x, y = data.train.next_batch(args.batch_size)
            x, y = mg.constant(x), mg.constant(y)
            avg_cost += float(opt.minimize(lambda: cost(x, y), [W, b])) / steps
        print(f"Epoch: {epoch + 1:04d} cost = {avg_cost:.9f}")
    seconds = time.perf_counter() - t0
    correct = mg.equal(mg.argmax(hypothesis(mg.constant(data.test.images)), 1),
                       mg.argmax(mg.constant(data.test.labels), 1))
    accuracy = float(mg.reduce_mean(mg.cast(correct, mg.float32)))
    print(f"Accuracy: {accuracy:.4f}  ({seconds:.1f} s training, "
          f"{1e3 * seconds / max(1, steps * args.epochs):.2f} ms/step)")
    return accuracy


def _progress(it, desc, disabled):
    try:
        from tqdm import tqdm
    except ImportError:
        return it
    return tqdm(it, desc=desc, leave=False, disable=disabled, mininterval=0.5)


if __name__ == "__main__":
    main()
