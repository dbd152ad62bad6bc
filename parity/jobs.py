"""`python -m parity --jobs N`: each (case, dtype) in its own process, N at a time.

A job is `python -m parity --case NAME --dtype DTYPE --json FILE` with the run's other options;
the parent reads each job's JSON back into a Comparison and keeps the serial run's order. A job
that crashes (a killed process, a segfault, an import error) or writes no result becomes a
failed row naming its exit status and the tail of its stderr; the other jobs are unaffected.
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


def run_jobs(jobs, options, workers, on_done=None):
    """Comparisons for [(case, dtype)], in the order given. `options`: the CLI options every
    job shares (a list of strings). `on_done(result)` is called as each job finishes."""
    with tempfile.TemporaryDirectory(prefix="parity-jobs-") as tmp, \
            ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(_run_one, name, dtype, options, Path(tmp) / f"{k}.json")
                   for k, (name, dtype) in enumerate(jobs)]
        results = []
        for f in futures:
            results.append(f.result())
            if on_done:
                on_done(results[-1])
        return results


def _run_one(name, dtype, options, out):
    cmd = [*COMMAND, "--case", name, "--dtype", dtype, "--json", str(out), "--jobs", "1",
           "--no-progress", *options]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
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
