"""Ops without gradients (comparisons, one_hot) and tensor creation."""
import numpy as np

from minigrad.core import Op, Tensor, apply, as_dtype, float32, register
from minigrad.ops._convert import broadcast_shape, pair, tensor


class _Compare(Op):
    differentiable = False

    def forward(self, x0, x1):
        return self.fn(x0, x1)


def _comparison(name, fn):
    cls = type(name, (_Compare,), {"fn": staticmethod(fn), "tf_name": _snake(name),
                                   "__doc__": f"y = {fn.__name__}(x0, x1) as bool; no gradient"})
    register(cls)

    def public(x, y, name=None):
        x, y = pair(cls.tf_name, x, y)
        broadcast_shape(cls.tf_name, x.shape, y.shape)
        return apply(cls(), x, y)
    public.__name__ = cls.tf_name
    return cls, public


def _snake(camel):
    return "".join("_" + c.lower() if c.isupper() else c for c in camel).lstrip("_")


Equal, equal = _comparison("Equal", np.equal)
NotEqual, not_equal = _comparison("NotEqual", np.not_equal)
Greater, greater = _comparison("Greater", np.greater)
GreaterEqual, greater_equal = _comparison("GreaterEqual", np.greater_equal)
Less, less = _comparison("Less", np.less)
LessEqual, less_equal = _comparison("LessEqual", np.less_equal)


@register
class OneHot(Op):
    """y[..., i] = on if i == indices else off; no gradient"""
    tf_name = "one_hot"
    differentiable = False

    def forward(self, indices):
        y = np.full(indices.shape + (self.depth,), self.off_value, dtype=self.dtype)
        valid = (indices >= 0) & (indices < self.depth)   # TF: out-of-range rows are all off
        np.put_along_axis(y, np.where(valid, indices, 0)[..., None].astype(np.intp),
                          np.where(valid, self.on_value, self.off_value)[..., None]
                          .astype(self.dtype), axis=-1)
        return y if self.axis == -1 else np.moveaxis(y, -1, self.axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    idx = tensor(indices)
    if idx.dtype.is_floating:
        raise TypeError(f"one_hot: indices must be integers, got {idx.dtype.name}")
    dt = as_dtype(dtype) if dtype is not None else float32
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    return apply(OneHot(depth=int(depth), on_value=on, off_value=off,
                        axis=-1 if axis is None else axis, dtype=dt.np), idx)


# --- creation (plain constants: nothing to record) ------------------------------------------
def zeros(shape, dtype=float32, name=None):
    return Tensor(np.zeros(tuple(shape), as_dtype(dtype).np))


def ones(shape, dtype=float32, name=None):
    return Tensor(np.ones(tuple(shape), as_dtype(dtype).np))


def fill(dims, value, name=None):
    v = tensor(value)
    return Tensor(np.full(tuple(dims), v.numpy(), dtype=v.numpy().dtype))


def zeros_like(input, dtype=None, name=None):
    x = tensor(input)
    return Tensor(np.zeros(x.shape, as_dtype(dtype).np if dtype else x.numpy().dtype))


def ones_like(input, dtype=None, name=None):
    x = tensor(input)
    return Tensor(np.ones(x.shape, as_dtype(dtype).np if dtype else x.numpy().dtype))


def range_(start, limit=None, delta=1, dtype=None, name=None):
    if limit is None:
        start, limit = 0, start
    arr = np.arange(start, limit, delta)
    dt = as_dtype(dtype) if dtype else (float32 if arr.dtype.kind == "f" else as_dtype("int32"))
    return Tensor(arr.astype(dt.np))


def size(input, out_type="int32", name=None):
    return Tensor(np.asarray(tensor(input).numpy().size, as_dtype(out_type).np))


def shape(input, out_type="int32", name=None):
    return Tensor(np.asarray(tensor(input).shape, as_dtype(out_type).np))


def rank(input, name=None):
    return Tensor(np.asarray(tensor(input).ndim, np.int32))
