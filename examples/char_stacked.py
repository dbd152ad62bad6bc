"""The long-sentence lecture (deck 002, lab 12-4): a 2-layer LSTM learns a whole sentence from
its windows, then the windows' predictions rebuild it.

    "if you want to build a ship, don't drum up people together to collect wood and don't
    assign them tasks and work, but rather teach them to long for the endless immensity of
    the sea."  cut into windows of 10 (x = s[i:i+10], y = s[i+1:i+11]): 170 windows, one batch
    MultiRNNCell([BasicLSTMCell(25)] * 2) (25 distinct characters), dynamic_rnn, a softmax
    (fully connected 25) layer, sequence_loss, AdamOptimizer(0.1), 500 steps

The program is the deck's TF1 code, written once in parity/lectures/char_stacked.py and run
here by minigrad.compat.v1 (--engine tensorflow: by TensorFlow); the same as
`python -m parity.lectures char_stacked`, which prints every step. The loss falls from about
3.2 to about 0.23 (the deck's numbers). Every --print-every steps the deck's lines (each
window's prediction); at the end the first window's prediction whole, then each later
window's last character: the sentence again from its second letter.

    python examples/char_stacked.py
    python examples/char_stacked.py --steps 3
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, resolve_data_dir          # noqa: E402
from parity.lectures import LectureTrainer                       # noqa: E402
from parity.lectures.char_stacked import CharStacked             # noqa: E402
from parity.tf_env import tf1_api                                # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the sentence is embedded")
    p.add_argument("--steps", type=int, default=CharStacked.steps, help="training steps (500)")
    p.add_argument("--learning-rate", type=float, default=CharStacked.learning_rate)
    p.add_argument("--print-every", type=int, default=50,
                   help="print the deck's lines every N steps (the deck: every step)")
    p.add_argument("--engine", choices=["minigrad", "tensorflow"], default="minigrad")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    lecture = CharStacked()
    lecture.learning_rate = args.learning_rate
    _, tf, placement = tf1_api("cpu", args.engine)
    trainer = LectureTrainer(lecture, tf, "float32", lecture.data(None, "float32"),
                             placement=placement)
    losses = []
    for i in range(args.steps):
        losses.append(float(trainer.step(i)))
        if i % args.print_every == 0 or i == args.steps - 1:
            print(trainer.line(i))
    text = trainer.extra()["text"]
    print(f"\nloss: {losses[0]:.4f} at the start, {losses[-1]:.4f} after {len(losses)} steps")
    print(text)
    return losses, text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
