"""The "hihello" lecture (deck 002, lab 12-1): an LSTM learns to say "ihello" after "hihell".

    idx2char = ['h', 'i', 'e', 'l', 'o'];  x "hihell" (one-hot) -> y "ihello"
    BasicLSTMCell(5), dynamic_rnn from a zero state, fully connected 5 on every output,
    sequence_loss with weights of ones, AdamOptimizer(0.1), 50 steps

The program is the deck's TF1 code, written once in parity/lectures/hihello.py and run here by
minigrad.compat.v1 (--engine tensorflow: by TensorFlow); the same as
`python -m parity.lectures hihello`. Prints the deck's lines (each step's loss and prediction),
then the final prediction: "ihello".

    python examples/hihello.py
    python examples/hihello.py --steps 3        # a smoke run
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, resolve_data_dir          # noqa: E402
from parity.lectures import LectureTrainer                       # noqa: E402
from parity.lectures.hihello import HiHello                      # noqa: E402
from parity.tf_env import tf1_api                                # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the six characters are embedded")
    p.add_argument("--steps", type=int, default=HiHello.steps, help="training steps (50)")
    p.add_argument("--learning-rate", type=float, default=HiHello.learning_rate)
    p.add_argument("--engine", choices=["minigrad", "tensorflow"], default="minigrad")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)          # a named directory must exist, as elsewhere
    lecture = HiHello()
    lecture.learning_rate = args.learning_rate
    _, tf, placement = tf1_api("cpu", args.engine)
    trainer = LectureTrainer(lecture, tf, "float32", lecture.data(None, "float32"),
                             placement=placement)
    for i in range(args.steps):
        trainer.step(i)
        print(trainer.line(i))
    text = trainer.extra()["text"]
    print(f"\nhihell -> {text}")
    return text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
