"""The char-seq lecture (deck 002, lab 12-2): an LSTM learns one sentence, character by
character.

    sample = " if you want you";  x = sample[:-1], y = sample[1:] as ids (one-hot in the graph)
    BasicLSTMCell(hidden = 10 distinct characters), dynamic_rnn, fully connected 10,
    sequence_loss with weights of ones, AdamOptimizer(0.1), 50 steps

The program is the deck's TF1 code, written once in parity/lectures/char_seq.py and run here by
minigrad.compat.v1 (--engine tensorflow: by TensorFlow); the same as
`python -m parity.lectures char_seq`. NOTE: the deck's `list(set(sample))` orders the
characters differently on every run; the lecture sorts them. Prints the deck's lines (loss and
predicted string every step); the last prediction is "if you want you".

    python examples/char_seq.py
    python examples/char_seq.py --sample " if you want me"
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad.data import DataError, resolve_data_dir          # noqa: E402
from parity.lectures import LectureTrainer                       # noqa: E402
from parity.lectures.char_seq import CharSeq                     # noqa: E402
from parity.tf_env import tf1_api                                # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the sample is embedded")
    p.add_argument("--sample", default=CharSeq.sample)
    p.add_argument("--steps", type=int, default=CharSeq.steps, help="training steps (50)")
    p.add_argument("--learning-rate", type=float, default=CharSeq.learning_rate)
    p.add_argument("--engine", choices=["minigrad", "tensorflow"], default="minigrad")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    lecture = CharSeq()
    lecture.sample, lecture.learning_rate = args.sample, args.learning_rate
    _, tf, placement = tf1_api("cpu", args.engine)
    trainer = LectureTrainer(lecture, tf, "float32", lecture.data(None, "float32"),
                             placement=placement)
    for i in range(args.steps):
        trainer.step(i)
        print(trainer.line(i))
    text = trainer.extra()["text"]
    print(f"\n{args.sample!r} -> {text!r}")
    return text


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
