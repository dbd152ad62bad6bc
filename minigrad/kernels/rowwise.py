"""Two numpy shapes that numpy itself runs slowly, done at memory speed.

A channel vector added to every row of an NHWC activation ([M, C] + [C], C = 8 or 16) runs a
C-long inner loop in numpy's broadcasting (0.8 ms for a 2.5 MB array here); adding a tiled
copy of the vector to a [M*C/W, W] view does the same additions with a long inner loop
(0.17 ms). Summing such an array over its rows (the bias gradient) with `sum(axis=0)` is slow
for the same reason (1.7 ms); a ones-vector product through BLAS takes 0.1 ms. Both give
results identical from run to run (BLAS splits the work the same way every call).
"""
import numpy as np

from minigrad.kernels.blas import matmul

_WIDE = 256          # target row width for the tiled add
_MIN_ROWS = 512      # below this, numpy's own reduction is as fast
_ones = {}


def add_row_vector(x, b):
    """x + b with x [..., C] and b [C], as x + b would broadcast it (same bits)."""
    c = b.shape[0]
    k = max(1, _WIDE // max(c, 1))
    if x.ndim < 2 or x.size < 4 * _WIDE or x.size % (c * k) or x.dtype != b.dtype:
        return x + b
    out = np.empty(x.shape, x.dtype)
    np.add(np.ascontiguousarray(x).reshape(-1, c * k), np.tile(b, k),
           out=out.reshape(-1, c * k))
    return out


def sum_rows(g2):
    """g2 [M, C] -> [C], the sum over rows (M large: one BLAS matrix-vector product)."""
    m = g2.shape[0]
    if m < _MIN_ROWS or g2.dtype not in (np.float32, np.float64):
        return g2.sum(axis=0)
    key = (m, g2.dtype.str)
    ones = _ones.get(key)
    if ones is None:
        if len(_ones) > 64:
            _ones.clear()
        ones = _ones[key] = np.ones(m, g2.dtype)
        ones.flags.writeable = False
    return matmul(ones, g2)
