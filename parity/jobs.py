"""`python -m parity --jobs N`: each (case, dtype) in its own process, N at a time.

A job is `python -m parity --case NAME --dtype DTYPE --json FILE` with the run's other options;
the parent reads each job's JSON back into a Comparison and keeps the serial run's order. A job
that crashes (a killed process, a segfault, an import error) or writes no result becomes a
failed row naming its exit status and the tail of its stderr; the other jobs are unaffected.

Each job gets the cores divided by the jobs running at once as its thread budget (BLAS, OpenMP,
numba and minigrad's kernels, TensorFlow's intra- and inter-op pools; a variable the caller
set is kept): N jobs of a case that by itself uses every core would otherwise oversubscribe the
machine N times over. Results do not depend on it: minigrad's kernels give the same bits for
any thread count, and TensorFlow's float32 reductions stay within the stated tolerances.
"""
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from parity.harness import Comparison

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "parity"]      # how a job runs (a test puts a wrapper here)


def job_count(requested, n_jobs):
    """--jobs 0 means one; more jobs than work means one per job."""
    wanted = os.cpu_count() or 1 if requested is None else max(1, requested)
    return max(1, min(wanted, n_jobs))


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def job_env(workers, environ=None, cores=None):
    """The environment of one job when `workers` run at once (see the module's docstring)."""
    env = dict(os.environ if environ is None else environ)
    share = str(max(1, (cores or os.cpu_count() or 1) // max(1, workers)))
    for var in THREAD_VARS:
        env.setdefault(var, share)
    return env


def run_jobs(jobs, options, workers, on_done=None):
    """Comparisons for [(case, dtype)], in the order given. `options`: the CLI options every
    job shares (a list of strings). `on_done(result)` is called as each job finishes."""
    with tempfile.TemporaryDirectory(prefix="parity-jobs-") as tmp, \
            ThreadPoolExecutor(workers) as pool:
        env = job_env(workers)
        futures = [pool.submit(_run_one, name, dtype, options, Path(tmp) / f"{k}.json", env)
                   for k, (name, dtype) in enumerate(jobs)]
        results = []
        for f in futures:
            results.append(f.result())
            if on_done:
                on_done(results[-1])
        return results


def _run_one(name, dtype, options, out, env=None):
    cmd = [*COMMAND, "--case", name, "--dtype", dtype, "--json", str(out), "--jobs", "1",
           "--no-progress", *options]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if out.exists():
        rows = json.loads(out.read_text())
        if rows:
            return Comparison(**rows[0])
    return _crashed(name, dtype, proc)


def _crashed(name, dtype, proc):
    tail = " | ".join(line for line in proc.stderr.strip().splitlines()[-3:])
    status = (f"killed by signal {-proc.returncode}" if proc.returncode < 0 else
              f"exit status {proc.returncode}")
    return Comparison(case=name, dtype=dtype, device="?", steps=0, max_abs_dloss=float("nan"),
                      max_rel_dloss=float("nan"), drift_rel_dloss=float("nan"),
                      max_abs_doutput=float("nan"), max_abs_dweight=float("nan"),
                      tolerance="", passed=False,
                      first_failure=f"the job crashed ({status}) with no result: {tail}",
                      mg_sec_per_step=float("nan"), tf_sec_per_step=float("nan"))
