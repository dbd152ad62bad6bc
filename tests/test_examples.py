"""Every tutorial program runs: each examples/*.py in a subprocess, a few steps, exit code 0.

The scripts are found by glob, so a new example is covered when it lands. Each gets `--steps 3`
(and `--epochs 1`, a temporary `--logdir`) when it has those options, plus the extra arguments
of `EXTRA_ARGS`; it runs in a temporary directory (files it writes land there) on generated or
embedded data ($MINIGRAD_DATA_DIR unset). The examples that read real data also run on it when
../shared/data is present.
"""
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
TIMEOUT = 180                    # seconds per run; the whole file aims at ~4 minutes on 2 cores

# script -> arguments beyond the generic ones, to keep a smoke run short
EXTRA_ARGS = {
    "char_rnn_generate.py": ["--hidden-size", "32", "--sample-length", "20",
                             "--temperature", "0.5", "1.0"],
    "xor_wide.py": ["--log-every", "1"],
}
# script -> more runs, each with these arguments added (the lecture's variants)
VARIANTS = {
    "rnn_mnist.py": [["--layers", "3", "--static"]],
}
# script -> arguments of its run on the real data (the data directory is added): one per
# loader (text, CSV, MNIST IDX); the others ran on it by hand, and would push the file past
# its time budget
REAL_DATA_ARGS = {
    "char_rnn_generate.py": ["--corpus", "nietzsche"],
    "stock_lstm.py": [],
    "mnist_softmax.py": [],
}


def options(script):
    """The long options a script's argparse parser defines (read from its source)."""
    return set(re.findall(r"""add_argument\(\s*["'](--[\w-]+)["']""", script.read_text()))


def smoke_args(script, tmp_path):
    opts, args = options(script), []
    if "--steps" in opts:
        args += ["--steps", "3"]
    if "--epochs" in opts:
        args += ["--epochs", "1"]
    if "--logdir" in opts:
        args += ["--logdir", str(tmp_path / "logs")]
    if "--out" in opts:
        args += ["--out", str(tmp_path / "out")]
    return args + EXTRA_ARGS.get(script.name, [])


def run(script, args, cwd):
    env = dict(os.environ)
    env.pop("MINIGRAD_DATA_DIR", None)
    # NOTE: one BLAS thread: on 2 shared cores OpenBLAS's spinning threads slow the RNN
    # kernels' many small matmuls by ~50x when the machine is busy
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(script)] + args, cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script.name} {' '.join(args)}: still running after {TIMEOUT} s; "
                    f"output so far:\n{_tail(e.stdout)}\n{_tail(e.stderr)}")
    seconds = time.perf_counter() - t0
    assert done.returncode == 0, (
        f"{script.name} {' '.join(args)} exited with {done.returncode} after {seconds:.0f} s\n"
        f"--- stdout ---\n{_tail(done.stdout)}\n--- stderr ---\n{_tail(done.stderr)}")
    assert done.stdout.strip(), f"{script.name} printed nothing"
    return done


def _tail(text, n=40):
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-n:])


def test_examples_found():
    names = {p.name for p in EXAMPLES}
    assert {"xor.py", "xor_wide.py", "char_rnn_generate.py"} <= names


RUNS = [pytest.param(p, [], id=p.stem) for p in EXAMPLES] + [
    pytest.param(p, extra, id=f"{p.stem}{''.join(extra)}")
    for p in EXAMPLES for extra in VARIANTS.get(p.name, [])]


@pytest.mark.parametrize("script, extra", RUNS)
def test_example_runs(script, extra, tmp_path):
    run(script, smoke_args(script, tmp_path) + extra, tmp_path)


REAL = [p for p in EXAMPLES if "--data-dir" in options(p) and p.name in REAL_DATA_ARGS]


@pytest.mark.parametrize("script", REAL, ids=lambda p: p.stem)
def test_example_on_real_data(script, tmp_path):
    data = shared_data_dir()
    if data is None:
        pytest.skip("real data not present (../shared/data or $MINIGRAD_DATA_DIR)")
    args = smoke_args(script, tmp_path) + ["--data-dir", str(data)] + REAL_DATA_ARGS[script.name]
    run(script, args, tmp_path)


# --- what the lectures show -----------------------------------------------------------------
def load_example(name):
    # a script finds examples/_common.py beside it; imported from here it needs the folder
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_learns_xor(capsys):
    """The full lecture run: 10001 steps of gradient descent reach accuracy 1.0."""
    assert load_example("xor.py").main(["--no-progress"]) == 1.0
    out = capsys.readouterr().out
    assert "10000 cost" in out and "Accuracy: 1.0" in out


def test_xor_wide_writes_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import graph_pb2
    from tests.test_every_model_graph import read_events
    logdir = tmp_path / "logs"
    done = run(ROOT / "examples" / "xor_wide.py", ["--steps", "5", "--log-every", "2",
                                                   "--logdir", str(logdir)], tmp_path)
    assert "Accuracy:" in done.stdout
    events = read_events(logdir)         # tensorboard's record reader, no TensorFlow import
    steps = {}
    for e in events:
        for v in e.summary.value:
            steps.setdefault(v.tag, []).append(e.step)
    assert {"Cost", "accuracy", "Layer1/W1", "Layer1/b1", "Layer4/Layer4"} <= set(steps)
    assert steps["Cost"] == [0, 2, 4] and steps["Layer2/W2"] == [0, 2, 4]
    graph, = [graph_pb2.GraphDef.FromString(e.graph_def) for e in events if e.graph_def]
    assert any(n.op == "MatMul" and n.name.startswith("Layer1/") for n in graph.node)


def test_char_rnn_samples_each_temperature(tmp_path):
    done = run(ROOT / "examples" / "char_rnn_generate.py",
               ["--steps", "2", "--hidden-size", "16", "--num-layers", "1", "--sample-length",
                "15", "--temperature", "0.2", "1.5", "--prime", "Shall I"], tmp_path)
    samples = re.findall(r"----- temperature (\S+) -----\n(.*)", done.stdout)
    assert [t for t, _ in samples] == ["0.2", "1.5"]
    assert all(s.startswith("Shall I") and len(s) == len("Shall I") + 15 for _, s in samples)


def test_char_rnn_names_a_missing_corpus(tmp_path):
    script = ROOT / "examples" / "char_rnn_generate.py"
    done = subprocess.run([sys.executable, str(script), "--data-dir", str(tmp_path),
                           "--corpus", "nietzsche", "--steps", "1"],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert done.returncode != 0
    assert "nietzsche.txt" in done.stderr and "Traceback" not in done.stderr


def test_rnn_basics_sequence_loss_figures(capsys):
    """The lecture's toy sequence_loss values (TensorFlow prints 0.596759 for the first)."""
    losses = load_example("rnn_basics.py").main(["--steps", "1"])
    assert round(losses["prediction"], 6) == 0.596759
    assert round(losses["prediction1"], 6) == 0.513015
    assert round(losses["prediction3"], 6) == 1.313262
    assert "sequence_length [5, 3, 4]" in capsys.readouterr().out
