"""The benchmarks' peers (PyTorch eager, JAX jit) train the same model as minigrad: from the
case's initial weights, on its batches, the first steps' losses agree with minigrad's in
float64, to rounding. A peer whose model has randomness of its own (dropout) names in `check_options` the lecture
options under which both engines run deterministically for this check (the benchmark times the
lecture's own options). Skipped where torch / jax are not installed (benchmark extras)."""
import importlib.util

import numpy as np
import pytest

import parity.cases  # noqa: F401  (registers the cases)
from benchmarks import peers
from benchmarks.models import build_trainer
from parity.harness import CASES

STEPS = 4
# float64: the same formulas (TF's float32 optimizer scalars included), summed in another order
# by BLAS or XLA: at most 4.5e-16 relative over the 4 steps, every peer, seen on CPU
RTOL = 1e-12

BUILDERS = [b for b, module in (("torch", "torch"), ("jax", "jax"))
            if importlib.util.find_spec(module) is not None]
PAIRS = [(b, name) for b in ("torch", "jax") for name in sorted(CASES)]


def _minigrad_mode(case):
    from parity.harness import LectureCase
    return "minigrad_session" if isinstance(case, LectureCase) else "minigrad"


@pytest.mark.parametrize("builder,name", PAIRS, ids=[f"{b}-{n}" for b, n in PAIRS])
def test_peer_matches_minigrad(builder, name):
    if builder not in BUILDERS:
        pytest.skip(f"{builder} is a benchmark extra, not installed here")
    case = CASES[name]()
    if not peers.supports(builder, case):
        pytest.skip(f"no {builder} peer for {name} (BENCHMARKS.md lists it as not implemented)")
    dtype = np.float64
    mode = {"torch": "torch_eager", "jax": "jax_jit"}[builder]
    options = getattr(peers.peer_class(builder, case), "check_options", None)
    mine = build_trainer(CASES[name](), _minigrad_mode(case), dtype, options=options)
    peer = build_trainer(case, mode, dtype, options=options)
    ours = [mine.step(i) for i in range(STEPS)]
    theirs = [peer.step(i) for i in range(STEPS)]
    assert np.all(np.isfinite(theirs)), (name, builder, theirs)
    np.testing.assert_allclose(theirs, ours, rtol=RTOL, atol=1e-12,
                               err_msg=f"{builder} peer of {name} vs minigrad, losses per step")
