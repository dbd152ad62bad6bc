"""The convolutional parity cases in CI: mnist_softmax, mnist_cnn and text_cnn (lecture
programs run by both engines' Sessions) for their ci_steps in both dtypes, their TF2
references, and the real data sets when present. The full runs are `python -m parity --case ...`.

A lecture case has one minigrad side, the Session's plan (traced by mg.function once, then
replayed), so there is no separate compiled run to check here."""
import numpy as np
import pytest

from parity.harness import CASES, run_case, train
import parity.cases  # noqa: F401

NAMES = ["mnist_softmax", "mnist_cnn", "text_cnn"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_case_within_tolerance(tf, name, dtype):
    case = CASES[name]()
    r = run_case(case, dtype, steps=case.ci_steps)
    assert r.passed, r.first_failure
    assert len(r.mg_losses) == case.ci_steps and np.all(np.isfinite(r.mg_losses))


@pytest.mark.parametrize("name", NAMES)
def test_tf2_reference_agrees_with_the_session(tf, name):
    """build_tf2 (tf.function) trains the same model as the lecture's Session."""
    case, dtype = CASES[name](), np.float64
    data = case.data(None, dtype)
    w = {k: np.asarray(v, dtype) for k, v in
         case.init_weights(np.random.default_rng(0), dtype).items()}
    steps = case.ci_steps
    ref = train(case.build_tf(dict(w), data, dtype), steps)
    tf2 = train(case.build_tf2(dict(w), data, dtype), steps)
    np.testing.assert_allclose(tf2.losses, ref.losses, rtol=1e-9)
    assert tf2.weights.keys() == ref.weights.keys()         # the lecture's variable names
    for k in ref.weights:
        np.testing.assert_allclose(tf2.weights[k], ref.weights[k], rtol=1e-9, atol=1e-12,
                                   err_msg=k)


@pytest.mark.parametrize("name", ["mnist_cnn", "text_cnn"])
def test_case_on_the_real_data(tf, data_dir, name):
    case = CASES[name]()
    r = run_case(case, np.float64, steps=case.ci_steps, data_dir=str(data_dir))
    assert r.passed, r.first_failure
