"""Matrix multiplication (2-D and batched), with TF's transpose_a / transpose_b."""
import numpy as np

from minigrad.core import Op, apply, register
from minigrad.kernels.blas import matmul as _matmul
from minigrad.ops._convert import broadcast_shape, pair


def _t(a):
    return np.swapaxes(a, -1, -2)


@register
class MatMul(Op):
    """y = op(x0) @ op(x1); gx0 = gy @ op(x1)^T, gx1 = op(x0)^T @ gy (op = transpose or not)"""
    tf_name = "matmul"

    def forward(self, x0, x1):
        a = _t(x0) if self.transpose_a else x0
        b = _t(x1) if self.transpose_b else x1
        return _matmul(a, b)

    def backward(self, gy):
        x0, x1 = self.xs
        ta, tb = self.transpose_a, self.transpose_b
        gx0 = gx1 = None
        if self.needs[0]:
            if ta:
                gx0 = _matmul(x1, _t(gy)) if not tb else _matmul(_t(x1), _t(gy))
            else:
                gx0 = _matmul(gy, _t(x1)) if not tb else _matmul(gy, x1)
        if self.needs[1]:
            if tb:
                gx1 = _matmul(_t(gy), x0) if not ta else _matmul(_t(gy), _t(x0))
            else:
                gx1 = _matmul(_t(x0), gy) if not ta else _matmul(x0, gy)
        return gx0, gx1


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    a, b = pair("matmul", a, b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: both operands need rank >= 2, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    k_a = a.shape[-2] if transpose_a else a.shape[-1]
    k_b = b.shape[-1] if transpose_b else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: inner dimensions differ: shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)} (transpose_a={transpose_a}, "
                         f"transpose_b={transpose_b}) give {k_a} != {k_b}")
    broadcast_shape("matmul", a.shape[:-2], b.shape[:-2])
    return apply(MatMul(transpose_a=bool(transpose_a), transpose_b=bool(transpose_b)), a, b)
