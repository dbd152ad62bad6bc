"""The benchmark suite runs (quick mode, XOR and the dispatch micro-benchmark) so it cannot rot.

No test here asserts a time: only that the run completes and its JSON holds positive numbers.
"""
import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason="TensorFlow not installed")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--model", "xor", "--repeat", "2",
           "--mode", "minigrad", "--mode", "tf_session", "--mode", "tf_function",
           "--mode", "jax_jit", "--micro", "dispatch",
           "--json", str(out / "b.json")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((out / "b.json").read_text()), out


def _positive(x):
    return isinstance(x, (int, float)) and x > 0


def test_model_record_has_the_required_fields(quick_run):
    result, _ = quick_run
    (rec,) = result["models"]
    assert rec["model"] == "xor"
    for key in ("minigrad_ms", "tf_best_ms", "ratio_vs_tf_best"):
        assert _positive(rec[key]), (key, rec[key])
    assert rec["tf_best_mode"] in ("tf_session", "tf_function")
    for mode in ("minigrad", "tf_session", "tf_function"):
        m = rec["modes"][mode]
        assert m["status"] == "ok", m
        assert 0 < m["min_ms"] <= m["median_ms"] <= m["max_ms"]
        assert len(m["samples_ms"]) == 2
        assert _positive(m["peak_rss_mb"])
    assert rec["modes"]["jax_jit"]["status"]       # measured, or says why not


def test_dispatch_micro_benchmark(quick_run):
    result, _ = quick_run
    for engine in ("minigrad", "tf"):
        rows = result["micro"][engine]["dispatch"]
        assert rows and all(_positive(r["us"]) for r in rows), rows


def test_report_and_targets(quick_run):
    from benchmarks import report
    result, out = quick_run
    md = report.write(result, out).read_text()
    assert "python -m benchmarks --quick" in md
    assert (out / "benchmarks" / "results" / "ratios.png").stat().st_size > 0
    a = [t for t in result["targets"] if t["id"] == "a"]
    assert a and a[0]["met"] in (True, False)
