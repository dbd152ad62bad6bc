"""python -m parity --jobs: separate processes, the serial order, a crashing job reported."""
import subprocess
import sys

import numpy as np

from parity import jobs

ROOT = jobs.ROOT

WRAPPER = """
import os, signal, sys
if "--case" in sys.argv and sys.argv[sys.argv.index("--case") + 1] == "xor_wide":
    os.kill(os.getpid(), signal.SIGKILL)       # the job dies with no result
sys.argv[0] = "parity"
from parity.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_each_job_gets_its_share_of_the_cores_unless_the_caller_chose():
    env = jobs.job_env(2, environ={"PATH": "/bin", "OPENBLAS_NUM_THREADS": "3"}, cores=8)
    assert env["OMP_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "4"
    assert env["TF_NUM_INTRAOP_THREADS"] == env["TF_NUM_INTEROP_THREADS"] == "4"
    assert env["OPENBLAS_NUM_THREADS"] == "3" and env["PATH"] == "/bin"
    assert jobs.job_env(3, environ={}, cores=2)["OMP_NUM_THREADS"] == "1"


def test_job_count():
    assert jobs.job_count(0, 4) == 1                 # --jobs 0: one at a time
    assert jobs.job_count(8, 3) == 3                 # more jobs than work
    assert jobs.job_count(2, 10) == 2
    assert 1 <= jobs.job_count(None, 10) <= 10       # default: the cores


def test_results_keep_the_serial_order_and_a_crash_is_a_failed_row(tmp_path, monkeypatch, tf):
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    monkeypatch.setattr(jobs, "COMMAND", [sys.executable, str(script)])
    order = [("xor_wide", "float64"), ("xor", "float64"), ("xor", "float32")]
    seen = []
    results = jobs.run_jobs(order, ["--steps=20"], 3, on_done=seen.append)
    assert [(r.case, r.dtype) for r in results] == order == [(r.case, r.dtype) for r in seen]
    crashed, ok64, ok32 = results
    assert not crashed.passed and "killed by signal 9" in crashed.first_failure
    assert ok64.passed and ok32.passed and ok64.steps == 20
    assert np.isnan(crashed.max_rel_dloss)


def test_cli_parallel_run_exit_code_and_table(tf):
    r = subprocess.run([sys.executable, "-m", "parity", "--case", "xor", "--steps", "20",
                        "--jobs", "5", "--no-progress"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 jobs, 2 at a time" in r.stdout
    rows = [ln.split()[:2] for ln in r.stdout.splitlines() if ln.strip().startswith("xor ")]
    assert rows == [["xor", "float32"], ["xor", "float64"]]
    assert "parity: 2/2 cases within tolerance" in r.stdout


def test_a_crashed_job_makes_the_run_fail(tmp_path, monkeypatch, capsys):
    from parity.__main__ import main
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    monkeypatch.setattr(jobs, "COMMAND", [sys.executable, str(script)])
    assert main(["--case", "xor_wide", "--steps", "5", "--jobs", "2", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "FAIL xor_wide float32: the job crashed (killed by signal 9)" in out
    assert "parity: 0/2 cases within tolerance" in out
