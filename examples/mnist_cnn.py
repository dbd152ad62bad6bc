"""The MNIST CNN lecture ("CNN with TensorBoard"), in minigrad.

    conv 5x5 1->8 SAME + bias, relu, max_pool 2x2/2 SAME     [100, 14, 14, 8]
    conv 5x5 8->16 SAME + bias, relu, max_pool 2x2/2 SAME    [100, 7, 7, 16]
    reshape 7*7*16, dense 64 relu, dense 10, mean softmax cross-entropy, RMSPropOptimizer(0.001)
    weights truncated_normal(stddev=0.01), biases 0; batch 100

    python examples/mnist_cnn.py --data-dir ../shared/data           # the real MNIST, 5 epochs
    python examples/mnist_cnn.py --epochs 1 --steps 50               # generated digits, short
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                                    # noqa: E402
from minigrad.data import mnist, resolve_data_dir      # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding mnist/ (default: $MINIGRAD_DATA_DIR, else "
                        "generated digits)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=None, help="cap the steps per epoch")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=0.001)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eager", action="store_true",
                   help="run each step eagerly instead of through mg.function")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


class CNN:
    """The lecture's model: its variables and its logits."""

    def __init__(self, seed):
        mg.random.set_seed(seed)
        init = lambda shape: mg.Variable(mg.random.truncated_normal(shape, stddev=0.01))  # noqa
        self.W1, self.b1 = init([5, 5, 1, 8]), mg.Variable(mg.zeros([8]))
        self.W2, self.b2 = init([5, 5, 8, 16]), mg.Variable(mg.zeros([16]))
        self.W3, self.b3 = init([7 * 7 * 16, 64]), mg.Variable(mg.zeros([64]))
        self.W4, self.b4 = init([64, 10]), mg.Variable(mg.zeros([10]))
        self.variables = [self.W1, self.b1, self.W2, self.b2, self.W3, self.b3, self.W4, self.b4]

    def logits(self, x):
        h = mg.reshape(x, [-1, 28, 28, 1])
        for W, b in ((self.W1, self.b1), (self.W2, self.b2)):
            h = mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(h, W, strides=[1, 1, 1, 1],
                                                       padding="SAME"), b))
            h = mg.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        h = mg.reshape(h, [-1, 7 * 7 * 16])
        h = mg.nn.relu(mg.matmul(h, self.W3) + self.b3)
        return mg.matmul(h, self.W4) + self.b4


def accuracy(model, images, labels, batch=1000):
    hits = 0
    for i in range(0, len(images), batch):
        logits = model.logits(mg.constant(images[i:i + batch])).numpy()
        hits += int(np.sum(np.argmax(logits, 1) == np.argmax(labels[i:i + batch], 1)))
    return hits / len(images)


def main(argv=None):
    args = parse_args(argv)
    data = mnist.load(args.data_dir, one_hot=True, seed=args.seed)
    where = resolve_data_dir(args.data_dir)
    print(f"{data}: {'MNIST from ' + where if where else 'generated digits'}")
    model = CNN(args.seed)
    opt = mg.train.RMSPropOptimizer(args.learning_rate)

    def train_step(x, y):
        cost = lambda: mg.reduce_mean(mg.nn.softmax_cross_entropy_with_logits(  # noqa: E731
            labels=y, logits=model.logits(x)))
        return opt.minimize(cost, model.variables)
    step = train_step if args.eager else mg.function(train_step)

    steps = data.train.num_examples // args.batch_size
    steps = min(steps, args.steps) if args.steps else steps
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        avg_cost = 0.0
        bar = _progress(steps, f"epoch {epoch + 1}/{args.epochs}", args.no_progress)
        for _ in range(steps):
            x, y = data.train.next_batch(args.batch_size)
            avg_cost += float(step(mg.constant(x), mg.constant(y))) / steps
            bar.update(1)
        bar.close()
        print(f"Epoch: {epoch + 1:04d} cost = {avg_cost:.9f}")
    seconds = time.perf_counter() - t0
    acc = accuracy(model, data.test.images, data.test.labels)
    print(f"Accuracy: {acc:.4f}  ({seconds:.1f} s training, "
          f"{1e3 * seconds / max(1, steps * args.epochs):.2f} ms/step)")
    return acc


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, desc, disabled):
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, leave=False, disable=disabled, mininterval=0.5)


if __name__ == "__main__":
    main()
