"""`mg.random`: seeded numpy random streams with TF's distributions (not TF's Philox stream:
parity copies initial weights across instead)."""
import threading

import numpy as np

from minigrad.core import Tensor, as_dtype, float32
from minigrad.core.function import refuse_while_tracing

_state = {"rng": np.random.default_rng(), "seed": None}
_override = threading.local()      # stream(): draws of this thread come from one generator


class stream:
    """`with mg.random.stream(rng):` unseeded draws in this thread come from `rng` (graph mode
    gives each variable initializer its own stream, seeded from the graph-level seed)."""

    def __init__(self, rng):
        self.rng = rng

    def __enter__(self):
        self._saved = getattr(_override, "rng", None)
        _override.rng = self.rng
        return self.rng

    def __exit__(self, *exc):
        _override.rng = self._saved


def set_seed(seed):
    """Make every later random op reproducible (as tf.random.set_seed)."""
    _state["seed"] = int(seed)
    _state["rng"] = np.random.default_rng(int(seed))


def generator(seed=None):
    """The global stream, or a fresh one for an op-level seed."""
    refuse_while_tracing("a random draw")
    if seed is None:
        override = getattr(_override, "rng", None)
        return _state["rng"] if override is None else override
    return np.random.default_rng([int(seed), _state["seed"] or 0])


def truncated_normal_array(shape, mean=0.0, stddev=1.0, rng=None, dtype=np.float32):
    """Normal samples, redrawn while |z| >= 2 (TF's rule; the result's std is 0.8796*stddev)."""
    rng = rng or generator()
    z = rng.standard_normal(tuple(shape))
    bad = np.abs(z) >= 2
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) >= 2
    return (z * stddev + mean).astype(dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    z = generator(seed).standard_normal(tuple(shape)) * stddev + mean
    return Tensor(z.astype(as_dtype(dtype).np))


def uniform(shape, minval=0, maxval=None, dtype=float32, seed=None, name=None):
    dt = as_dtype(dtype)
    rng = generator(seed)
    if dt.is_integer:
        return Tensor(rng.integers(minval, maxval, size=tuple(shape)).astype(dt.np))
    maxval = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, maxval, size=tuple(shape)).astype(dt.np))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    dt = as_dtype(dtype)
    return Tensor(truncated_normal_array(shape, mean, stddev, generator(seed), dt.np))
