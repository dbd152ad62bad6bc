"""The RNN parity cases, a few steps each, in float32 and float64: minigrad against the lecture's
TensorFlow program (and, for the models Keras expresses, against the tf.function / Keras
reference too). The full runs are `python -m parity --case NAME`."""
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from parity.harness import CASES, Tolerance, compare, run_case, train  # noqa: E402
import parity.cases  # noqa: E402,F401

RNN_CASES = ["rnn_basics", "hihello", "char_seq", "char_stacked", "stock_lstm", "rnn_mnist",
             "rnn_mnist_stacked", "lstm_mnist", "keras_lstm", "keras_gru"]
MNIST_LIKE = {"rnn_mnist", "rnn_mnist_stacked", "lstm_mnist", "keras_lstm", "keras_gru"}
DTYPES = [np.float32, np.float64]


def ci_case(name, **kwargs):
    """The case with CI-sized data: MNIST ones on 256 generated images in batches of 32."""
    if name in MNIST_LIKE:
        kwargs = dict(dict(batch_size=32, n_train=256, n_test=64), **kwargs)
    return CASES[name](**kwargs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", RNN_CASES)
def test_case_against_session(name, dtype):
    case = ci_case(name)
    r = run_case(case, dtype, steps=case.ci_steps)
    print(f"{name} {r.dtype}: max rel dloss {r.max_rel_dloss:.2e}, max |doutput| "
          f"{r.max_abs_doutput:.2e}, max |dweight| {r.max_abs_dweight:.2e} ({r.tolerance})")
    assert r.passed, f"{name} {r.dtype}: {r.first_failure}"
    assert len(r.mg_losses) == case.ci_steps


def test_every_rnn_case_registered():
    assert set(RNN_CASES) <= set(CASES)


def test_rnn_mnist_static_rnn():
    """`--static` in examples/rnn_mnist.py: static_rnn over the unstacked rows."""
    case = ci_case("rnn_mnist", static=True)
    r = run_case(case, np.float64, steps=2)
    assert r.passed, r.first_failure


@pytest.mark.parametrize("name", ["lstm_mnist", "keras_gru"])
def test_case_compiled(name):
    """`python -m parity --compiled`: the minigrad step traced once by mg.function, replayed.
    (The deck 002 cases are lecture programs, whose minigrad side is a Session's plan, always
    traced: tests/test_function.py replays their models' eager steps.)"""
    case = ci_case(name)
    r = run_case(case, np.float64, steps=3, compiled=True)
    assert r.passed, f"{name} compiled: {r.first_failure}"


@pytest.mark.parametrize("name", [n for n in RNN_CASES if CASES[n].build_tf2 is not None])
def test_case_against_tf2_reference(name):
    """Parity holds with modern TensorFlow too: Keras cells / layers in a tf.function step
    (or Keras train_on_batch), float64, a few steps."""
    case, dtype = ci_case(name), np.float64
    data = case.data(None, dtype)
    weights = {k: np.asarray(v, dtype)
               for k, v in case.init_weights(np.random.default_rng(0), dtype).items()}
    mg_run = train(case.build_minigrad(dict(weights), data, dtype), 2)
    tf_run = train(case.build_tf2(dict(weights), data, dtype), 2)
    tf_run.weights = {}      # the Keras references name their variables their own way
    if name.startswith("keras_"):
        # NOTE: train_on_batch reports the loss through Keras's float32 Mean tracker, so only
        # float32 rounding is asked of the loss; the float64 outputs are compared in full.
        tol = case.tolerance(dtype)
        case.tolerance = lambda dtype: Tolerance(2 ** -23, None, tol.tensor_rtol,
                                                 tol.tensor_atol, "train_on_batch")
    r = compare(case, dtype, "cpu", mg_run, tf_run)
    assert r.passed, f"{name} vs build_tf2: {r.first_failure}"


def test_hihello_learns_ihello():
    case = CASES["hihello"]()
    r = run_case(case, np.float64, steps=case.steps)
    assert r.passed, r.first_failure
    assert r.mg_extra["text"] == r.tf_extra["text"] == "ihello"


def test_hihello_example_says_ihello(capsys):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "hihello.py"
    spec = importlib.util.spec_from_file_location("example_hihello", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([]) == "ihello"
    assert "hihell -> ihello" in capsys.readouterr().out
