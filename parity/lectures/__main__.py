"""`python -m parity.lectures NAME`: run one lecture program as the deck does, printing its lines.

    python -m parity.lectures --list
    python -m parity.lectures xor                        # minigrad, generated or embedded data
    python -m parity.lectures xor --engine tensorflow --steps 2001
    python -m parity.lectures mnist_cnn --data-dir ../shared/data
    python -m parity.lectures --report reports/lectures --data-dir ../shared/data  # all, both
"""
import argparse
import os
import sys
import time

from parity.lectures import LECTURES, LectureTrainer, load_all


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m parity.lectures", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", help="the lecture program (see --list)")
    p.add_argument("--list", action="store_true", help="list the lecture programs and exit")
    p.add_argument("--engine", choices=["minigrad", "tensorflow"], default="minigrad")
    p.add_argument("--steps", type=int, help="training steps (default: the deck's)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA_DIR"),
                   help="real data laid out as ../shared/data (default: generated data)")
    p.add_argument("--report", metavar="DIR", help="run every lecture (or NAME) under both "
                   "engines from the same start; write DIR/LECTURES.md (parity/lectures/report.py)")
    p.add_argument("--steps-scale", type=float, default=1.0,
                   help="with --report: the deck's steps times this (long lectures are capped)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    lectures = load_all()
    if args.list or not args.name:
        width = max(map(len, lectures))
        deck = max(len(lec.deck) for lec in lectures.values())
        for name in sorted(lectures):
            lec = lectures[name]
            print(f"{name:{width}s}  deck {lec.deck:{deck}s}  {lec.title}")
        return 0
    if args.report:
        from parity.lectures.report import report
        report(args.report, [args.name] if args.name else None, args.data_dir, args.dtype,
               args.steps, args.steps_scale, "python -m parity.lectures " + " ".join(
                   sys.argv[1:] if argv is None else argv))
        return 0
    if args.name not in lectures:
        raise SystemExit(f"parity.lectures: unknown lecture {args.name!r}; known: "
                         f"{', '.join(sorted(lectures))}")
    run(LECTURES[args.name](), args)
    return 0


def run(lecture, args):
    from parity.tf_env import tf1_api
    _, tf, placement = tf1_api("cpu", args.engine)
    data = lecture.data(args.data_dir, args.dtype)
    trainer = LectureTrainer(lecture, tf, args.dtype, data, placement=placement)
    steps = lecture.steps if args.steps is None else args.steps
    t0 = time.perf_counter()
    for i in range(steps):
        trainer.step(i)
        line = trainer.line(i)
        if line is not None:
            print(line, flush=True)
    for key, value in trainer.extra().items():
        print(f"{key}: {value}")
    print(f"[{lecture.name} on {args.engine}: {steps} steps in "
          f"{time.perf_counter() - t0:.1f} s]", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
