"""Reductions over axes, and argmax (which has no gradient)."""
import numpy as np

from minigrad.core import Op, apply, as_dtype, int64, register
from minigrad.ops._convert import axes, tensor


def _kept_shape(shape, ax):
    return tuple(1 if i in ax else n for i, n in enumerate(shape))


class _Reduce(Op):
    def _gy_full(self, gy):
        x = self.xs[0]
        return np.broadcast_to(gy.reshape(_kept_shape(x.shape, self.axis)), x.shape)


@register
class Sum(_Reduce):
    """y = sum(x, axis); gx = broadcast(gy)"""
    tf_name = "reduce_sum"

    def forward(self, x):
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return (self._gy_full(gy),)


@register
class Mean(_Reduce):
    """y = mean(x, axis); gx = broadcast(gy) / n"""
    tf_name = "reduce_mean"

    def forward(self, x):
        return np.mean(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.xs[0]
        n = max(x.size, 1) // max(self.ys[0].size, 1)
        return (self._gy_full(gy / np.asarray(n, gy.dtype)),)


@register
class Max(_Reduce):
    """y = max(x, axis); gx = gy * (x == y) / count(x == y)  (ties share, as TF)"""
    tf_name = "reduce_max"

    def forward(self, x):
        return np.max(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return (_select_grad(self, gy),)


@register
class Min(_Reduce):
    """y = min(x, axis); gx = gy * (x == y) / count(x == y)  (ties share, as TF)"""
    tf_name = "reduce_min"

    def forward(self, x):
        return np.min(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        return (_select_grad(self, gy),)


def _select_grad(op, gy):
    x, y = op.xs[0], op.ys[0]
    kept = _kept_shape(x.shape, op.axis)
    hit = (x == y.reshape(kept)).astype(gy.dtype)
    count = hit.sum(axis=op.axis, keepdims=True)
    return hit / count * gy.reshape(kept)


def _reduce(op_cls, name, input_tensor, axis, keepdims):
    x = tensor(input_tensor)
    if op_cls is not Sum and op_cls is not Max and op_cls is not Min and not x.dtype.is_floating:
        raise TypeError(f"{name}: expected a floating tensor, got {x.dtype.name}")
    ax = axes(axis, x.ndim, name)
    if x.numpy().size == 0 and op_cls in (Max, Min) and ax:
        raise ValueError(f"{name}: reducing an empty tensor of shape {tuple(x.shape)}")
    return apply(op_cls(axis=ax, keepdims=bool(keepdims)), x)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(Sum, "reduce_sum", input_tensor, axis, keepdims)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(Mean, "reduce_mean", input_tensor, axis, keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(Max, "reduce_max", input_tensor, axis, keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    return _reduce(Min, "reduce_min", input_tensor, axis, keepdims)


@register
class ArgMax(Op):
    """y = argmax(x, axis); no gradient"""
    tf_name = "argmax"
    differentiable = False

    def forward(self, x):
        return np.argmax(x, axis=self.axis).astype(self.output_type)


@register
class ArgMin(Op):
    """y = argmin(x, axis); no gradient"""
    tf_name = "argmin"
    differentiable = False

    def forward(self, x):
        return np.argmin(x, axis=self.axis).astype(self.output_type)


def _arg(op_cls, name, input, axis, output_type):
    x = tensor(input)
    ax = axes(0 if axis is None else axis, x.ndim, name)
    if len(ax) != 1:
        raise ValueError(f"{name}: axis must be a single int, got {axis!r}")
    return apply(op_cls(axis=ax[0], output_type=as_dtype(output_type).np), x)


def argmax(input, axis=None, output_type=int64, name=None):
    return _arg(ArgMax, "argmax", input, axis, output_type)


def argmin(input, axis=None, output_type=int64, name=None):
    return _arg(ArgMin, "argmin", input, axis, output_type)
