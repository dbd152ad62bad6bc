"""Start-up costs: `import minigrad` (and `import tensorflow` beside it), and the time from
launching a fresh process to its first finished training step, with an empty numba cache
(NUMBA_CACHE_DIR pointed at a new directory) and then with that cache warm."""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.env import ROOT, worker_env
from benchmarks.models import MODES, WorkerError, start_worker, unavailable

_IMPORT = ("import time; t = time.perf_counter(); import {mod}; "
           "print(time.perf_counter() - t)")


def import_time(module, runs, threads):
    """Median, min and max seconds of `import module` in fresh interpreters, and the median
    share of its heaviest dependencies (from python -X importtime)."""
    code = _IMPORT.format(mod=module)
    times, parts = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT,
                             env=worker_env(threads), capture_output=True, text=True,
                             check=True)
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


def first_step(name, mode, dtype, threads, numba_cache_dir=None):
    """Launch a worker; seconds until its first training step has finished, and the split."""
    w = start_worker(name, mode, dtype, threads, numba_cache_dir)
    try:
        msg = w.recv()
        wall = time.perf_counter() - w.t0
    except WorkerError as e:
        return {"status": f"error: {e}"}
    finally:
        w.close()
    return {"status": "ok", "launch_to_first_step_s": wall, "import_s": msg["import_s"],
            "build_s": msg["build_s"], "data_s": msg.get("data_s", 0.0),
            "first_step_s": msg["first_step_s"]}


def first_steps(name, dtype, threads, tf_modes=("tf_session", "tf_function")):
    """minigrad with a cold then a warm numba cache; TensorFlow's modes beside it."""
    from parity.harness import CASES
    cache = tempfile.mkdtemp(prefix="minigrad-numba-cache-")
    try:
        out = {"minigrad_cold_cache": first_step(name, "minigrad", dtype, threads, cache),
               "minigrad_warm_cache": first_step(name, "minigrad", dtype, threads, cache)}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    case = CASES[name]()
    for mode in tf_modes:
        if mode in MODES and not unavailable(case, mode):
            out[mode] = first_step(name, mode, dtype, threads)
    return out


def run(models, dtype, threads, quick, log=print):
    runs = 2 if quick else 5
    res = {"import_minigrad": import_time("minigrad", runs, threads)}
    log(f"  import minigrad: {res['import_minigrad']['median_s']:.3f} s (median of {runs})")
    res["import_tensorflow"] = import_time("tensorflow", 1 if quick else 3, threads)
    log(f"  import tensorflow: {res['import_tensorflow']['median_s']:.3f} s")
    res["first_step"] = {}
    for name in models:
        res["first_step"][name] = fs = first_steps(name, dtype, threads)
        log(f"  {name}: first step " + ", ".join(
            f"{k} {v['launch_to_first_step_s']:.2f} s" if v["status"] == "ok" else
            f"{k} {v['status']}" for k, v in fs.items()))
    return res
