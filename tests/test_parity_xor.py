"""The XOR parity cases in CI (a few hundred steps), the compiled path, and the CLI."""
import subprocess
import sys

import numpy as np
import pytest

from parity.harness import CASES, run_case
import parity.cases  # noqa: F401

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["xor", "xor_wide"])
def test_xor_cases_within_tolerance(tf, name, dtype, compiled):
    r = run_case(CASES[name](), dtype, steps=300, compiled=compiled)
    assert r.passed, r.first_failure
    assert r.steps == 300 and len(r.mg_losses) == 300


def test_xor_reaches_accuracy_one_in_minigrad():
    case = CASES["xor"]()
    data = case.data(None, np.float64)
    w = case.init_weights(np.random.default_rng(0), np.float64)
    trainer = case.build_minigrad(w, data, np.float64, compiled=True)
    for i in range(10001):
        trainer.step(i)
    # the initializer's plan and the step's: traced once, replayed 10000 times
    assert len(trainer.sess._plans) == 2
    assert trainer.extra()["accuracy"] == 1.0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "parity", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_unknown_case_lists_known_ones():
    r = _cli("--case", "nope")
    assert r.returncode != 0 and "unknown case 'nope'" in r.stderr and "xor" in r.stderr


def test_cli_runs_and_reports(tmp_path, tf):
    r = _cli("--case", "xor", "--steps", "50", "--json", str(tmp_path / "r.json"),
             "--report", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "parity: 2/2 cases within tolerance" in r.stdout
    assert (tmp_path / "rep" / "PARITY.md").exists()
    assert (tmp_path / "rep" / "xor-float64-cpu.png").exists()


def test_cli_gpu_without_gpu_says_so(tf):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is present")
    r = _cli("--case", "xor", "--device", "gpu")
    assert r.returncode == 0 and "no GPU" in r.stdout
