"""`python -m parity`: minigrad against TensorFlow, model by model, step by step.

    python -m parity                      # the default cases, both dtypes, embedded data
    python -m parity --all --report out   # every case; PARITY.md, JSON and loss plots in out/
    python -m parity --case xor --dtype float64 --steps 500
    python -m parity --all --jobs 2       # cases in separate processes, two at a time
"""
import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from parity.harness import CASES, run_case
from parity.jobs import job_count, run_jobs
from parity.report import print_table, write_report
import parity.cases  # noqa: F401  (registers the cases)

DEFAULT_CASES = ("xor", "xor_wide")


def _progress_factory(enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None

    def make(desc, total):
        bar = tqdm(total=total, desc=desc, leave=False, mininterval=0.5, file=sys.stderr)
        tick = lambda: bar.update(1)   # noqa: E731
        tick.close = bar.close
        return tick
    return make


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m parity", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", help="case name (repeatable); see --list")
    p.add_argument("--all", action="store_true", help="run every registered case")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    p.add_argument("--steps", type=int, help="override each case's number of steps")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--report", metavar="DIR", help="write PARITY.md, parity.json and plots")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                   help="where TensorFlow runs (minigrad always runs on the CPU)")
    p.add_argument("--data-dir", default=os.environ.get("MINIGRAD_DATA_DIR"),
                   help="real data laid out as ../shared/data (default: embedded/generated; "
                        "env MINIGRAD_DATA_DIR)")
    p.add_argument("--compiled", action="store_true",
                   help="run minigrad's step through mg.function (traced once, replayed)")
    p.add_argument("--jobs", type=int, default=None,
                   help="run each case and dtype in its own process, N at a time (default: "
                        "the number of cores with --all, else 1: a job process spends "
                        "seconds starting TensorFlow, more than a short case's run)")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def select_cases(args):
    if args.all:
        return list(CASES)
    names = args.case or [c for c in DEFAULT_CASES if c in CASES]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise SystemExit(f"parity: unknown case {', '.join(map(repr, unknown))}; known cases: "
                         f"{', '.join(sorted(CASES))}")
    return names


def _run_serial(jobs, args):
    progress = _progress_factory(not args.no_progress and sys.stderr.isatty())
    results = []
    for name, dtype in jobs:
        results.append(run_case(CASES[name](), np.dtype(dtype).type, args.steps, args.data_dir,
                                args.device, progress=progress, compiled=args.compiled))
        print_table([results[-1]], header=len(results) == 1)
    return results


def _run_parallel(jobs, args, workers):
    """The jobs in separate processes; rows printed in the serial order as they complete."""
    options = ([f"--steps={args.steps}"] if args.steps is not None else []) + \
        ([f"--data-dir={args.data_dir}"] if args.data_dir else []) + \
        [f"--device={args.device}"] + (["--compiled"] if args.compiled else [])
    print(f"parity: {len(jobs)} jobs, {workers} at a time", flush=True)
    bar = _progress_factory(not args.no_progress and sys.stderr.isatty())
    tick = bar("parity", len(jobs)) if bar else None
    printed = []

    def done(result):
        print_table([result], header=not printed)
        printed.append(result)
        if tick:
            tick()
    results = run_jobs(jobs, options, workers, on_done=done)
    if tick:
        tick.close()
    return results


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for name in sorted(CASES):
            print(f"{name:20s} {CASES[name].description}")
        return 0
    names = select_cases(args)
    if args.device == "gpu":
        from parity.tf_env import gpu_available
        if not gpu_available():
            print("parity: --device gpu asked for, but TensorFlow sees no GPU here; nothing run.")
            return 0
    if args.data_dir and not Path(args.data_dir).is_dir():
        raise SystemExit(f"parity: --data-dir {args.data_dir} is not a directory")
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    jobs = [(name, dtype) for name in names for dtype in dtypes]
    workers = job_count(args.jobs if args.jobs is not None or args.all else 1, len(jobs))
    if workers > 1:
        results = _run_parallel(jobs, args, workers)
    else:
        results = _run_serial(jobs, args)
    ok = sum(r.passed for r in results)
    for r in results:
        if not r.passed:
            print(f"FAIL {r.case} {r.dtype}: {r.first_failure}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1))
    if args.report:
        write_report(results, Path(args.report), " ".join(["python -m parity"] +
                                                           (sys.argv[1:] if argv is None
                                                            else list(argv))))
    print(f"parity: {ok}/{len(results)} cases within tolerance")
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
