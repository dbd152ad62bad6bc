"""The "hihello" lecture (lab 12-1), in minigrad: an LSTM learns to say "ihello" after "hihell".

    idx2char = ['h', 'i', 'e', 'l', 'o'];  x "hihell" (one-hot) -> y "ihello"
    BasicLSTMCell(5), dynamic_rnn from a zero state, fully connected 5 on every output,
    sequence_loss with weights of ones, AdamOptimizer(0.1), 50 steps

The network is the parity case `hihello`'s minigrad program (parity/cases/rnn_chars.py, class
CharRNN), started from that case's initial weights (numpy, seed 0), so these numbers are the
ones `python -m parity --case hihello` compares with TensorFlow. Prints each step's loss and
prediction, then the final prediction: "ihello".

    python examples/hihello.py
    python examples/hihello.py --steps 3        # a smoke run
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, chars, resolve_data_dir      # noqa: E402
from parity.cases.rnn_chars import CharRNN, HiHello                 # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the six characters are embedded")
    p.add_argument("--steps", type=int, default=50, help="training steps (50)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)          # a named directory must exist, as elsewhere
    data = chars.hihello()
    idx2char = data.idx2char
    weights = HiHello().init_weights(np.random.default_rng(args.seed), np.float32)
    model = CharRNN(data, [5], weights, np.float32, args.learning_rate)

    for i in range(args.steps):
        loss = model.step(i)
        result = model.prediction()
        print(i, "loss:", f"{float(loss):.6f}", "prediction:", result, "true Y:", data.y)
        print("\tPrediction str:", "".join(idx2char[c] for c in np.squeeze(result)))
    text = "".join(idx2char[c] for c in np.squeeze(model.prediction()))
    print(f"\nhihell -> {text}")
    return text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
