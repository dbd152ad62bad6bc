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
    """y = u with u ~ U[0, 1), of the shape given by the input; no gradient"""
    tf_name = "random.uniform"

    def forward(self, shape):
        dt = np.dtype(self.dtype)
        return self.rng.random(self._shape(shape), dtype=dt if dt.itemsize >= 4 else None
                               ).astype(dt, copy=False)


@register
class RandomStandardNormal(_Random):
    """y = z with z ~ N(0, 1), of the shape given by the input; no gradient"""
    tf_name = "random.normal"

    def forward(self, shape):
        return self.rng.standard_normal(self._shape(shape)).astype(self.dtype)


@register
class TruncatedNormal(_Random):
    """y = z with z ~ N(0, 1) redrawn while |z| >= 2, of the given shape; no gradient"""
    tf_name = "random.truncated_normal"

    def forward(self, shape):
        return truncated_normal_array(self._shape(shape), 0.0, 1.0, self.rng, self.dtype)


@register
class Multinomial(_Random):
    """y[b, :] = `num_samples` class indices drawn from softmax(logits[b]); no gradient.

    As TF's CPU kernel (core/kernels/multinomial_op.cc): per row, the running sum of
    exp(logit - max) over the finite logits (in float64, unnormalized), then for each sample a
    uniform times the row's total located with upper_bound (np.searchsorted side="right")."""
    tf_name = "random.categorical"

    def forward(self, logits):
        x = np.asarray(logits, np.float64)
        if x.ndim != 2:
            raise ValueError(f"multinomial: logits should be a matrix, got shape {x.shape}")
        if x.shape[1] == 0:
            raise ValueError("multinomial: num_classes should be positive, got 0")
        finite = np.isfinite(x)
        row_max = np.where(finite, x, -np.inf).max(axis=1, keepdims=True)
        row_max = np.where(np.isfinite(row_max), row_max, np.finfo(np.float64).min)
        with np.errstate(over="ignore", invalid="ignore"):
            mass = np.where(finite, np.exp(x - row_max), 0.0)
        cdf = np.cumsum(mass, axis=1)
        u = self.rng.random((x.shape[0], int(self.num_samples))) * cdf[:, -1:]
        out = np.empty(u.shape, self.dtype)
        for b in range(x.shape[0]):
            out[b] = np.searchsorted(cdf[b], u[b], side="right")
        return out
