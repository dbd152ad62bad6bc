"""Wide and deep XOR (lab 9-3) with TensorBoard logging (lab 9-4), in minigrad.

    2-10-10-10-1 sigmoid network, each layer in a name scope (Layer1 .. Layer4);
    cost = -reduce_mean(Y log(h) + (1 - Y) log(1 - h));  GradientDescentOptimizer(0.1); 10001 steps

The lecture's five TensorBoard steps, in TF2 style (no TensorFlow needed, only `tensorboard`):
  1. choose what to log: histograms of every weight, bias and layer output, scalars cost and
     accuracy, each under its layer's name scope (`summaries` below);
  2. merge them: one function writes them all;
  3. make a writer: `mg.summary.create_file_writer(logdir)`; the graph of the first training
     step (kept by `mg.graph.capture()`) goes in with `mg.summary.graph`;
  4. run: call the summaries at each logged step;
  5. launch: `tensorboard --logdir logs`.

    python examples/xor_wide.py                        # logs to ./logs/xor_wide
    python examples/xor_wide.py --steps 3 --logdir /tmp/xw
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                                        # noqa: E402
from minigrad.data import DataError, resolve_data_dir       # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)

X_DATA = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
Y_DATA = np.array([[0], [1], [1], [0]], np.float32)
SIZES = [2, 10, 10, 10, 1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: XOR's four rows are embedded")
    p.add_argument("--steps", type=int, default=10001, help="training steps (10001)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--logdir", default=os.path.join("logs", "xor_wide"),
                   help="TensorBoard log directory (default ./logs/xor_wide)")
    p.add_argument("--log-every", type=int, default=10,
                   help="write the summaries every N steps (the lecture: every step)")
    p.add_argument("--print-every", type=int, default=1000)
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


class WideXor:
    """The network: layer k is sigmoid(layer_{k-1} W_k + b_k), in name scope 'Layer<k>'."""

    def __init__(self, rng):
        self.params = []
        for k, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1):   # W1, b1, W2, b2, ...
            W = mg.Variable(rng.standard_normal((a, b)).astype(np.float32), name=f"weight{k}")
            bias = mg.Variable(rng.standard_normal((b,)).astype(np.float32), name=f"bias{k}")
            self.params += [W, bias]

    def layers(self, X):
        """Every layer's output; the last is the hypothesis."""
        outputs, h = [], X
        for k in range(len(SIZES) - 1):
            with mg.name_scope(f"Layer{k + 1}"):
                W, b = self.params[2 * k], self.params[2 * k + 1]
                h = mg.sigmoid(mg.matmul(h, W) + b)
            outputs.append(h)
        return outputs


def cost_and_accuracy(h, Y):
    with mg.name_scope("Cost"):
        cost = -mg.reduce_mean(Y * mg.log(h) + (1 - Y) * mg.log(1 - h))
    with mg.name_scope("Accuracy"):
        predicted = mg.cast(h > 0.5, mg.float32)
        accuracy = mg.reduce_mean(mg.cast(mg.equal(predicted, Y), mg.float32))
    return cost, accuracy, predicted


def summaries(model, outputs, cost, accuracy, step):
    """Steps 1 and 2: everything the lecture logs, written in one call."""
    for k, h in enumerate(outputs, 1):
        with mg.name_scope(f"Layer{k}"):
            mg.summary.histogram(f"W{k}", model.params[2 * k - 2], step=step)
            mg.summary.histogram(f"b{k}", model.params[2 * k - 1], step=step)
            mg.summary.histogram(f"Layer{k}", h, step=step)
    mg.summary.scalar("Cost", cost, step=step)
    mg.summary.scalar("accuracy", accuracy, step=step)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    X, Y = mg.constant(X_DATA), mg.constant(Y_DATA)
    model = WideXor(np.random.default_rng(args.seed))
    optimizer = mg.train.GradientDescentOptimizer(learning_rate=args.learning_rate)
    writer = mg.summary.create_file_writer(args.logdir)          # step 3

    def train_step():
        with mg.GradientTape() as tape:
            outputs = model.layers(X)
            cost, accuracy, _ = cost_and_accuracy(outputs[-1], Y)
        grads = tape.gradient(cost, model.params)
        return outputs, cost, accuracy, grads

    t0 = time.perf_counter()
    with writer.as_default():
        for step in progress(range(args.steps), "xor_wide", args.no_progress):
            if step == 0:
                with mg.graph.capture() as cap:      # keep the first step's graph for TensorBoard
                    outputs, cost, accuracy, grads = train_step()
                mg.summary.graph(cap.tape)
            else:
                outputs, cost, accuracy, grads = train_step()
            if step % args.log_every == 0:                       # step 4 (values before update)
                summaries(model, outputs, cost, accuracy, step)
            optimizer.apply_gradients(zip(grads, model.params))
            if step % args.print_every == 0:
                log(f"{step:5d} cost {float(cost):.9f} accuracy {float(accuracy):.2f}")
    writer.close()
    seconds = time.perf_counter() - t0

    h = model.layers(X)[-1]
    _, accuracy, predicted = cost_and_accuracy(h, Y)
    print(f"\nHypothesis:\n{h.numpy()}\nPredicted:\n{predicted.numpy()}\n"
          f"Accuracy: {float(accuracy)}")
    print(f"({args.steps} steps in {seconds:.1f} s; TensorBoard logs in {args.logdir}: "
          f"tensorboard --logdir {os.path.dirname(args.logdir) or args.logdir})")
    return float(accuracy)


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
