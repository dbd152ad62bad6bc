"""The long-sentence lecture (lab 12-4), in minigrad: a 2-layer LSTM learns a whole sentence
from its windows, then the windows' predictions rebuild it.

    "if you want to build a ship, don't drum up people together to collect wood and don't
    assign them tasks and work, but rather teach them to long for the endless immensity of
    the sea."  cut into windows of 10 (x = s[i:i+10], y = s[i+1:i+11]): 170 windows, one batch
    MultiRNNCell([BasicLSTMCell(25)] * 2) (25 distinct characters), dynamic_rnn, a softmax
    (fully connected 25) layer, sequence_loss, AdamOptimizer(0.1), 500 steps

The loss falls from about 3.2 to about 0.23 (the lecture's numbers). The first window's
prediction is printed whole, then each later window's last character: the sentence again from
its second letter; the first printed letter is the net's guess at what follows a lone "i" (an
"f", "p", "m", "t" or "l" follows an "i" somewhere in the sentence, so it varies). The network
is the parity case `char_stacked`'s minigrad program (parity/cases/rnn_chars.py, CharRNN),
from its initial weights.

    python examples/char_stacked.py
    python examples/char_stacked.py --steps 3
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, chars, resolve_data_dir      # noqa: E402
from parity.cases.rnn_chars import CharRNN, CharStacked, decode     # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the sentence is embedded")
    p.add_argument("--steps", type=int, default=500, help="training steps (500)")
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--print-every", type=int, default=50)
    p.add_argument("--eager", action="store_true",
                   help="run each step eagerly instead of through mg.function")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    case = CharStacked()
    data = chars.sentence_windows(chars.SHIP_SENTENCE, seq_length=10)
    print(f"{len(data.x)} windows of {data.x.shape[1]}, {data.num_classes} characters")
    weights = case.init_weights(np.random.default_rng(args.seed), np.float32)
    model = CharRNN(data, case.hidden(data), weights, np.float32, args.learning_rate,
                    compiled=not args.eager)

    losses, t0 = [], time.perf_counter()
    for i in progress(range(args.steps), "char_stacked", args.no_progress):
        losses.append(float(model.step(i)))
        if i % args.print_every == 0 or i == args.steps - 1:
            log(f"{i:4d} loss {losses[-1]:.6f}  {decode(data.idx2char, model.prediction())[:60]}")
    seconds = time.perf_counter() - t0

    text = decode(data.idx2char, model.prediction())
    print(f"\nloss: {losses[0]:.4f} at the start, {losses[-1]:.4f} after {len(losses)} steps "
          f"({seconds:.1f} s)")
    print(text)
    return losses, text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
