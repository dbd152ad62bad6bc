"""The char-seq lecture (lab 12-2), in minigrad: an LSTM learns one sentence, character by
character.

    sample = " if you want you";  x = sample[:-1], y = sample[1:] as ids (one-hot in the graph)
    BasicLSTMCell(hidden = 10 distinct characters), dynamic_rnn, fully connected 10,
    sequence_loss with weights of ones, AdamOptimizer(0.1), 50 steps

NOTE: the lecture's `list(set(sample))` orders the characters differently on every run; here
they are sorted (minigrad.data.chars.char_sequence). The network is the parity case
`char_seq`'s minigrad program (parity/cases/rnn_chars.py, CharRNN) from its initial weights.
Prints the loss and the predicted string every step; the last one is "if you want you".

    python examples/char_seq.py
    python examples/char_seq.py --sample " if you want me"
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, chars, resolve_data_dir      # noqa: E402
from parity.cases.rnn_chars import CharRNN, CharSeq                 # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the sample is embedded")
    p.add_argument("--sample", default=" if you want you")
    p.add_argument("--steps", type=int, default=50, help="training steps (50)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    return p.parse_args(argv)


class _Sample(CharSeq):
    """The case's initial weights, for any sample."""

    def __init__(self, sample):
        self.sample = sample

    def load(self):
        return chars.char_sequence(self.sample)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    case = _Sample(args.sample)
    data = case.load()
    weights = case.init_weights(np.random.default_rng(args.seed), np.float32)
    model = CharRNN(data, case.hidden(data), weights, np.float32, args.learning_rate)

    for i in range(args.steps):
        loss = model.step(i)
        result = model.prediction()
        text = "".join(data.idx2char[c] for c in np.squeeze(result))
        print(i, "loss:", f"{float(loss):.6f}", "Prediction:", text)
    text = "".join(data.idx2char[c] for c in np.squeeze(model.prediction()))
    print(f"\n{args.sample!r} -> {text!r}")
    return text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
