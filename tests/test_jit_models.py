"""minigrad.jit on every registered model: the whole-step compiler's training step against the
same step replayed op by op (a lecture program's Session without the XLA switch, or a case's
mg.function step), from the same weights on the same batches. float64: losses and weights
agree to 1e-12 (the same formulas; the compiled loops may sum in another order). float32:
within the case's own parity tolerance against TensorFlow (a case that judges its run on the
early losses alone, giving no tolerance for tensors, has its weights after these few steps
held to the loss tolerance, relative to the largest weight)."""
import numpy as np
import pytest

import parity.cases  # noqa: F401  (registers the cases)
from benchmarks.models import build_trainer, unavailable
from parity.harness import CASES, LectureCase

STEPS = 3


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_jit_step_matches_the_replayed_step(name, dtype):
    case = CASES[name]()
    why = unavailable(case, "minigrad_jit")
    if why:
        pytest.skip(why)
    base = "minigrad_session" if isinstance(case, LectureCase) else "minigrad_compiled"
    data = case.data(None, dtype)
    replayed = build_trainer(CASES[name](), base, dtype, data=data)
    jitted = build_trainer(CASES[name](), "minigrad_jit", dtype, data=data)
    ours = [replayed.step(i) for i in range(STEPS)]
    theirs = [jitted.step(i) for i in range(STEPS)]
    if dtype == "float64":
        loss_rtol, w_rtol, w_atol = 1e-12, 1e-12, 1e-12
    else:
        tol = case.tolerance(dtype)
        loss_rtol, w_rtol, w_atol = tol.loss_rtol, tol.tensor_rtol, tol.tensor_atol
    if w_rtol is None:
        w_rtol, w_atol = loss_rtol, None
    np.testing.assert_allclose(theirs, ours, rtol=loss_rtol, err_msg=f"{name}: losses")
    ws, wj = replayed.weights(), jitted.weights()
    assert ws.keys() == wj.keys() and ws, name
    for k in ws:
        atol = loss_rtol * np.abs(ws[k]).max() if w_atol is None else w_atol
        np.testing.assert_allclose(wj[k], ws[k], rtol=w_rtol, atol=atol,
                                   err_msg=f"{name}: weight {k} after {STEPS} steps")
