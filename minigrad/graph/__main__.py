"""`python -m minigrad.graph explore SCRIPT [-o OUT.html] [--tape N] [-- SCRIPT ARGS]`

Runs a Python script unchanged inside `mg.graph.capture()`, which keeps the graph of every
GradientTape the script records, then writes the backward pass of one of them as an explorer
page (mg.graph.explore): by default the tape with the most nodes (the first of equals), whose
target is its last float output that nothing consumed (a training step's loss). The script's
own output is printed as usual; arguments after `--` go to the script.

    python -m minigrad.graph explore examples/sigmoid_two_ways.py -o sigmoid.html
    python -m minigrad.graph explore examples/xor_wide.py -o xor.html -- --steps 1 --logdir /tmp/l

A training script keeps every step's graph while it runs under capture: give it one step.
"""
import argparse
import os
import runpy
import sys

from minigrad.graph.capture import capture
from minigrad.graph.explore import explore


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigrad.graph", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("explore", help="run a script and write its backward pass as a page")
    e.add_argument("script", help="a Python script that records on a GradientTape")
    e.add_argument("-o", "--out", default="backprop.html", help="the page (backprop.html)")
    e.add_argument("--tape", type=int, default=None,
                   help="which captured tape, 1-based in recording order (default: the one "
                        "with the most nodes)")
    e.add_argument("--layout", choices=("auto", "dot", "layered"), default="auto",
                   help="Graphviz where `dot` is installed (auto), or the built-in layers")
    e.add_argument("--scope", default=None, help="draw only this name scope's nodes")
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = p.parse_args(argv[:cut])
    args.script_args = argv[cut + 1:]               # after --: the script's own arguments
    return args


def run_script(path, args):
    """Run `path` as __main__ with `args`, under capture; returns the capture."""
    if not os.path.isfile(path):
        raise SystemExit(f"explore: no script at {path}")
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with capture() as cap:
            try:
                runpy.run_path(path, run_name="__main__")
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    raise SystemExit(f"explore: {path} exited with {stop.code}") from None
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return cap


def pick(cap, which, script):
    tapes = [t for t in cap.tapes if t.nodes]
    if not tapes:
        raise SystemExit(f"explore: {script} recorded no graph: it made no GradientTape that "
                         f"recorded a node (compute on Variables inside `with "
                         f"mg.GradientTape() as tape:`)")
    if which is None:
        k = max(range(len(tapes)), key=lambda i: (len(tapes[i].nodes), -i))
    elif 1 <= which <= len(tapes):
        k = which - 1
    else:
        raise SystemExit(f"explore: --tape {which}: the script recorded {len(tapes)} tape(s)")
    return tapes, k


def main(argv=None):
    args = parse_args(argv)
    cap = run_script(args.script, args.script_args)
    tapes, k = pick(cap, args.tape, args.script)
    name = os.path.basename(args.script)
    try:
        path = explore(tapes[k], args.out, layout=args.layout, scope=args.scope,
                       title=f"{name}: backward pass of tape {k + 1} of {len(tapes)}")
    except (ValueError, TypeError, RuntimeError) as e:
        raise SystemExit(str(e)) from None
    print(f"\ncaptured {len(tapes)} tape(s) with nodes: "
          + ", ".join(f"[{i + 1}] {len(t.nodes)} nodes" for i, t in enumerate(tapes)))
    others = " (--tape N for another)" if len(tapes) > 1 else ""
    print(f"wrote {path}: tape {k + 1}{others}; open it in a browser, step with the arrow keys")
    return path


if __name__ == "__main__":
    main()
