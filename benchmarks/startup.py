"""Start-up costs: `import minigrad` (and `import tensorflow` beside it), and the time from
launching a fresh process to its first finished training step, with minigrad's caches empty
and then warm: numba's compiled kernels, the whole-step compiler's and the generated data
sets, all pointed at one new directory, which the first launch fills.

Python's bytecode is as a user's install has it: written beside the sources (__pycache__,
ignored by git) even where PYTHONDONTWRITEBYTECODE is set, and present before any timed
import (site-packages have theirs from pip)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.env import ROOT, worker_env
from benchmarks.models import MODES, Worker, WorkerError, model_spec, start_worker, unavailable

# the minigrad mode a start-up measures when the run gives none: the first that can run the
# model (a lecture program runs as a Session plan; another case's fastest is mg.function's)
MG_PREFERENCE = ("minigrad_session", "minigrad_compiled", "minigrad", "minigrad_jit")

_IMPORT = ("import time; t = time.perf_counter(); import {mod}; "
           "print(time.perf_counter() - t)")


def import_time(module, runs, threads):
    """Median, min and max seconds of `import module` in fresh interpreters, and the median
    share of its heaviest dependencies (from python -X importtime)."""
    code = _IMPORT.format(mod=module)
    env = worker_env(threads)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times, parts = [], []
    for i in range(runs + 1):           # the first run writes any bytecode missing: untimed
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True)
        if i:
            times.append(float(out.stdout.strip().splitlines()[-1]))
            parts.append(_import_parts(out.stderr, module))
    keys = parts[0].keys()
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": runs,
            "parts_s": {k: statistics.median(p.get(k, 0.0) for p in parts) for k in keys}}


def _import_parts(importtime_log, module):
    """Cumulative seconds of `module` and of numpy / numba / tensorflow inside it."""
    cumulative = {}
    for line in importtime_log.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[1].strip().isdigit():
            name = fields[2].strip()
            if name in (module, "numpy", "numba", "scipy", "tensorflow", "keras", "tf_keras"):
                cumulative.setdefault(name, int(fields[1]) / 1e6)
    return cumulative


def caches_env(threads, cache):
    """A minigrad worker's environment with every cache of minigrad's under `cache`."""
    env = worker_env(threads, numba_cache_dir=os.path.join(cache, "numba"))
    env["MINIGRAD_JIT_CACHE_DIR"] = os.path.join(cache, "jit")
    env["MINIGRAD_DATA_CACHE_DIR"] = os.path.join(cache, "data")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def first_step(worker):
    """Seconds from the worker's launch until its first training step has finished, and the
    split the worker measured (its clock starts once the interpreter runs its module)."""
    try:
        msg = worker.recv()
        wall = time.perf_counter() - worker.t0
    except WorkerError as e:
        return {"status": f"error: {e}"}
    finally:
        worker.close()
    return {"status": "ok", "mode": worker.spec["mode"], "launch_to_first_step_s": wall,
            "python_s": wall - msg["since_start_s"], "import_s": msg["import_s"],
            "build_s": msg["build_s"], "data_s": msg.get("data_s", 0.0),
            "first_step_s": msg["first_step_s"]}


def minigrad_mode(case, best=None):
    """`best` (minigrad's fastest mode in the timing table) when it can run the case, else the
    first of MG_PREFERENCE that can."""
    for mode in ((best,) if best else ()) + MG_PREFERENCE:
        if mode in MODES and not unavailable(case, mode):
            return mode
    return None


def first_steps(name, dtype, threads, best=None, tf_modes=("tf_session", "tf_function")):
    """minigrad with its caches empty, then warm; TensorFlow's modes beside it."""
    from parity.harness import CASES
    case = CASES[name]()
    mode = minigrad_mode(case, best)
    cache = tempfile.mkdtemp(prefix="minigrad-caches-")
    spec = model_spec(name, mode, dtype, threads)
    try:
        out = {"minigrad_cold_cache": first_step(Worker(spec, caches_env(threads, cache))),
               "minigrad_warm_cache": first_step(Worker(spec, caches_env(threads, cache)))}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    for tf_mode in tf_modes:
        if tf_mode in MODES and not unavailable(case, tf_mode):
            out[tf_mode] = first_step(start_worker(name, tf_mode, dtype, threads))
    return out


def run(models, dtype, threads, quick, log=print, best_modes=None):
    """Import times, then each model's first steps; `best_modes`: model -> minigrad's fastest
    mode in this run's timing table (the start-up measures that mode)."""
    runs = 2 if quick else 5
    res = {"import_minigrad": import_time("minigrad", runs, threads)}
    log(f"  import minigrad: {res['import_minigrad']['median_s']:.3f} s (median of {runs})")
    res["import_tensorflow"] = import_time("tensorflow", 1 if quick else 3, threads)
    log(f"  import tensorflow: {res['import_tensorflow']['median_s']:.3f} s")
    res["first_step"] = {}
    for name in models:
        res["first_step"][name] = fs = first_steps(name, dtype, threads,
                                                   (best_modes or {}).get(name))
        log(f"  {name}: first step " + ", ".join(
            f"{k} {v['launch_to_first_step_s']:.2f} s" if v["status"] == "ok" else
            f"{k} {v['status']}" for k, v in fs.items()))
    return res
