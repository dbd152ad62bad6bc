"""Where one training step's time goes: cProfile, grouped by layer of the engine.

    python -m benchmarks.profile [--model xor] [--steps 3000]
"""
import cProfile
import pstats
import sys
import time

import numpy as np

# (label, test on (filename, function name)), first match wins
LAYERS = [
    ("optimizer (minimize, apply_gradients, update kernel)",
     lambda f, fn: any(p in f for p in ("minigrad/train", "minigrad/optimizers",
                                        "kernels/optim"))),
    ("tape: recording and the backward walk (core/tape.py)",
     lambda f, fn: "minigrad/core/tape.py" in f),
    ("Tensor / Variable objects (core/tensor.py)", lambda f, fn: "minigrad/core/tensor.py" in f),
    ("Op objects (core/op.py)", lambda f, fn: "minigrad/core/op.py" in f),
    ("kernels/: numba loops, and the BLAS matmuls their Python wrappers call",
     lambda f, fn: "minigrad/kernels" in f),
    ("ops: dispatch, conversion, forward/backward bodies (ops/)",
     lambda f, fn: "minigrad/ops" in f),
    ("numpy (C functions and numpy's Python)",
     lambda f, fn: "numpy" in fn or "/numpy/" in f),
    ("the model's own Python (parity case)", lambda f, fn: "/parity/" in f),
    ("Python built-ins (isinstance, len, dict, ...)", lambda f, fn: f == "~"),
]


# phase -> (file, function) whose cumulative time it is
PHASES = {"backward (GradientTape.gradient)": ("core/tape.py", "gradient"),
          "update (Optimizer.apply_gradients)": ("train/optimizer.py", "apply_gradients")}


def _layer(filename, func):
    for label, test in LAYERS:
        if test(filename, func):
            return label
    return "other"


def _short(filename):
    for root in ("/site-packages/", "/minigrad/", "/work/"):
        if root in filename:
            return filename.split(root)[-1]
    return filename


def _trainer(model):
    """(trainer, mode): the model's compiled step (minigrad_jit, the benchmarks' fastest mode
    on most rows), else its plain minigrad step."""
    import parity.cases  # noqa: F401
    from parity.harness import CASES
    from benchmarks.models import build_trainer, unavailable
    case = CASES[model]()
    for mode in ("minigrad_jit", "minigrad"):
        if unavailable(case, mode) is None:
            return build_trainer(case, mode, np.float32), mode
    raise ValueError(f"{model}: no minigrad mode can run it")


def profile_model(model="xor", steps=3000):
    """Unprofiled µs per step, then cProfile's split of the step by engine layer."""
    t, mode = _trainer(model)
    for i in range(min(200, steps)):
        t.step(i)
    t0 = time.perf_counter()
    for i in range(steps):
        t.step(i)
    plain_us = (time.perf_counter() - t0) / steps * 1e6
    prof = cProfile.Profile()
    prof.enable()
    for i in range(steps):
        t.step(i)
    prof.disable()
    stats = pstats.Stats(prof).stats
    layers, funcs, ops, phases = {}, [], 0, {}
    for (f, line, fn), (cc, nc, tt, ct, callers) in stats.items():
        for phase, (file_end, func) in PHASES.items():
            if f.endswith(file_end) and fn == func:
                phases[phase] = phases.get(phase, 0.0) + ct
        layers[_layer(f, fn)] = layers.get(_layer(f, fn), 0.0) + tt
        funcs.append((tt, nc, fn if f == "~" else f"{_short(f)}:{line}({fn})"))
        if f.endswith("core/tape.py") and fn == "apply":
            ops = nc / steps
    total = sum(layers.values())
    phases["forward (the loss function) and the rest"] = total - sum(phases.values())
    return {"model": model, "mode": mode, "steps": steps, "step_us": plain_us,
            "profiled_step_us": total / steps * 1e6, "ops_per_step": ops,
            "us_per_op": plain_us / ops if ops else None,
            "phases": [[k, v / total] for k, v in phases.items()],
            "layers": sorted(([k, v / total] for k, v in layers.items()), key=lambda kv: -kv[1]),
            "top": [[name, tt / total, nc / steps] for tt, nc, name in
                    sorted(funcs, reverse=True)[:15]]}


def format_profile(p):
    ops = (f"{p['ops_per_step']:.0f} ops recorded per step: {p['us_per_op']:.2f} us per op, "
           f"forward+backward+update" if p["ops_per_step"] else
           "a compiled plan: its ops are not recorded one by one")
    lines = [f"{p['model']} ({p.get('mode', 'minigrad')}): {p['step_us']:.1f} µs per training "
             f"step unprofiled ({ops})", ""]
    lines += ["| phase | share of the profiled step |", "|---|---:|"]
    lines += [f"| {k} | {v:.0%} |" for k, v in p.get("phases", [])]
    lines += ["", "| layer (own time of its functions) | share of the profiled step |",
              "|---|---:|"]
    lines += [f"| {k} | {v:.0%} |" for k, v in p["layers"]]
    lines += ["", "| function (top by own time) | share | calls per step |", "|---|---:|---:|"]
    lines += [f"| `{name}` | {share:.1%} | {calls:.0f} |" for name, share, calls in p["top"]]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    ap.add_argument("--model", default="xor")
    ap.add_argument("--steps", type=int, default=3000)
    a = ap.parse_args()
    print(format_profile(profile_model(a.model, a.steps)))
    sys.exit(0)
