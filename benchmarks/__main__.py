"""`python -m benchmarks`: minigrad's training step against TensorFlow's modes, model by model.

    python -m benchmarks                          # every parity case, every mode
    python -m benchmarks --model xor --repeat 20  # one model
    python -m benchmarks --report .               # + micro, start-up; BENCHMARKS.md and chart
    python -m benchmarks --quick --model xor --micro dispatch --json out.json   # CI

Every measurement runs in worker processes with --threads threads for every pool (BLAS, OpenMP,
numba, TensorFlow's intra/inter-op); see benchmarks/models.py for the interleaving.
"""
import argparse
import datetime
import json
import shlex
import sys
from pathlib import Path

import parity.cases  # noqa: F401  (registers the cases)
from parity.harness import CASES

from benchmarks import micro as micro_mod
from benchmarks import report, startup
from benchmarks.env import load_average, machine_info, worker_env
from benchmarks.models import MODES, Worker, WorkerError, bench_model, model_kind

# pause_s: the gap between two workers' repetitions. OpenBLAS's worker threads spin about
# 2**28 cycles (~0.1 s) after a call before they sleep; without the gap they bill the next
# worker on a 2-core machine.
# settle_s: untimed steps at the start of each repetition. After the gap's idle 0.15 s, a
# virtual CPU on these machines wakes slowly for a while (the hypervisor's halt polling
# shrinks while it sleeps): mnist_cnn's first 7 steps on 2 threads then run at one thread's
# speed (8 against 5 ms), and a 0.2 s repetition would bill ~10% of it to whichever engine
# hands work between threads the most. With the neighbour keeping the CPUs busy instead, the
# first step is already at full speed. Every engine gets the same settling time.
QUICK = dict(repeat=3, rep_s=0.02, warmup_s=0.05, warmup_steps=2, min_steps=1, pause_s=0.0,
             settle_s=0.0)
FULL = dict(repeat=15, rep_s=0.2, warmup_s=1.0, warmup_steps=10, min_steps=1, pause_s=0.15,
            settle_s=0.06)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", help="model (a parity case; repeatable)")
    p.add_argument("--mode", action="append", choices=list(MODES),
                   help="mode to measure (repeatable; default all)")
    p.add_argument("--no-models", action="store_true",
                   help="skip the training-step timing (start-up still uses --model)")
    p.add_argument("--repeat", type=int, help="interleaved repetitions per mode "
                                              "(default 15; 3 with --quick)")
    p.add_argument("--quick", action="store_true", help="few, short repetitions (CI)")
    p.add_argument("--threads", type=int, default=2, help="threads for both engines (2)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--micro", nargs="?", const="all", metavar="NAMES",
                   help="micro-benchmarks: all, or a comma list of "
                        f"{','.join(list(micro_mod.SUITE) + ['profile'])}")
    p.add_argument("--startup", action="store_true", help="import time, first step, per model")
    p.add_argument("--json", metavar="PATH", help="write every number as JSON")
    p.add_argument("--report", metavar="DIR", help="write DIR/BENCHMARKS.md and the chart "
                                                   "(implies --micro and --startup)")
    p.add_argument("--render", metavar="JSON", help="only rewrite the --report from a saved "
                                                    "--json (its command stays at the top)")
    p.add_argument("--list", action="store_true", help="list the models and modes, then exit")
    return p.parse_args(argv)


def settings(args):
    s = dict(QUICK if args.quick else FULL)
    if args.repeat:
        s["repeat"] = args.repeat
    s.update(threads=args.threads, dtype=args.dtype, quick=args.quick)
    return argparse.Namespace(**s)


def select_models(args):
    names = args.model or sorted(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise SystemExit(f"benchmarks: unknown model {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(sorted(CASES))}")
    return names


def run_micro(names, opts, log):
    out = {}
    for engine in ("minigrad", "tf"):
        spec = {"kind": "micro", "engine": engine, "names": names, "quick": opts.quick,
                "threads": opts.threads}
        w = Worker(spec, worker_env(opts.threads))
        try:
            out[engine] = w.recv()["result"]
        except WorkerError as e:
            out[engine] = {"status": f"error: {e}"}
        finally:
            w.close()
        log(f"  micro {engine}: done")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.list:
        for name in sorted(CASES):
            print(f"{name:20s} {CASES[name].description}")
        print("modes:", ", ".join(MODES))
        return 0
    if args.render:
        result = json.loads(Path(args.render).read_text())
        for rec in result["models"]:        # classification may have improved since the run
            if rec["model"] in CASES:
                rec["kind"] = model_kind(CASES[rec["model"]]())
        result["targets"] = report.targets(result)
        print(f"wrote {report.write(result, Path(args.report or '.'))}")
        return 0
    opts = settings(args)
    models = select_models(args)
    modes = args.mode or list(MODES)
    log = lambda s: print(s, flush=True)   # noqa: E731
    result = {"command": "python -m benchmarks " + shlex.join(argv),
              "date": datetime.datetime.now().isoformat(timespec="seconds"),
              "machine": machine_info(opts.threads), "settings": vars(opts), "models": []}
    log(f"benchmarks: {opts.threads} threads, {opts.dtype}, {opts.repeat} repetitions; "
        f"{result['machine']['cpu']}")
    for name in [] if args.no_models else models:
        log(f"{name}:")
        result["models"].append(bench_model(name, modes, opts, log))
    micro_names = args.micro or ("all" if args.report else None)
    if micro_names:
        log("micro-benchmarks:")
        sel = [] if micro_names == "all" else micro_names.split(",")
        result["micro"] = run_micro(sel, opts, log)
    if args.startup or args.report:
        log("start-up:")
        best = {r["model"]: r.get("minigrad_mode") for r in result["models"]}
        result["startup"] = startup.run(models, opts.dtype, opts.threads, opts.quick, log,
                                        best_modes={k: v for k, v in best.items() if v})
    result["machine"]["load_at_end"] = load_average()
    result["targets"] = report.targets(result)
    print()
    print(report.models_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=float))
    if args.report:
        path = report.write(result, Path(args.report))
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
