"""Stateful random ops for graph mode: each call of forward draws new numbers from the
generator the op holds, so a replayed plan (Session.run) draws anew on every run, as TF's
RandomUniform / RandomStandardNormal / TruncatedNormal kernels do. The numbers come from numpy's
PCG64 stream, not TF's Philox: parity copies initial values across instead. No gradient.

Eager minigrad draws through `mg.random` (its numpy streams) instead; these ops exist so that a
recorded graph can hold a draw.
"""
import numpy as np

from minigrad.core import Op, register
from minigrad.random import truncated_normal_array


class _Random(Op):
    differentiable = False

    def _shape(self, shape):
        return tuple(int(n) for n in np.asarray(shape).reshape(-1))


@register
class RandomUniform(_Random):
    """y ~ U[0, 1), shape given by the input; no gradient"""
    tf_name = "random.uniform"

    def forward(self, shape):
        dt = np.dtype(self.dtype)
        return self.rng.random(self._shape(shape), dtype=dt if dt.itemsize >= 4 else None
                               ).astype(dt, copy=False)


@register
class RandomStandardNormal(_Random):
    """y ~ N(0, 1), shape given by the input; no gradient"""
    tf_name = "random.normal"

    def forward(self, shape):
        return self.rng.standard_normal(self._shape(shape)).astype(self.dtype)


@register
class TruncatedNormal(_Random):
    """y ~ N(0, 1) redrawn while |y| >= 2, shape given by the input; no gradient"""
    tf_name = "random.truncated_normal"

    def forward(self, shape):
        return truncated_normal_array(self._shape(shape), 0.0, 1.0, self.rng, self.dtype)
