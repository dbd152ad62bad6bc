"""Input conversion shared by the ops: TF's dtype rules and errors that name the op."""
import numpy as np

from minigrad.core import Tensor, as_dtype, convert_to_tensor, float32


def tensor(x, dtype=None):
    return convert_to_tensor(x, dtype)


def pair(opname, x, y):
    """Two operands of one dtype: a non-tensor takes the tensor's dtype; two tensors must agree."""
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        if x._value.dtype != y._value.dtype:
            raise TypeError(f"{opname}: operands have different dtypes, {x.dtype.name} "
                            f"{tuple(x.shape)} and {y.dtype.name} {tuple(y.shape)}; use mg.cast")
        return x, y
    if isinstance(x, Tensor):
        return x, _like(opname, y, x)
    if isinstance(y, Tensor):
        return _like(opname, x, y), y
    ax, ay = np.asarray(x), np.asarray(y)
    dt = float32 if "f" in (ax.dtype.kind, ay.dtype.kind) else None
    x = convert_to_tensor(x, dt)
    return x, _like(opname, y, x)


def _like(opname, value, t):
    if isinstance(value, (int, float)) and t._value.dtype.kind == "f":
        return Tensor(np.asarray(value, t._value.dtype))    # the common case, kept cheap
    try:
        return convert_to_tensor(value, t.dtype)
    except TypeError as e:
        raise TypeError(f"{opname}: {e}") from None


def broadcast_shape(opname, *shapes):
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{opname}: shapes {shown} are not broadcast-compatible") from None


def floating(opname, x):
    if not x.dtype.is_floating:
        raise TypeError(f"{opname}: expected a floating tensor, got {x.dtype.name}")
    return x


def axes(axis, ndim, opname):
    """Normalise an axis argument (None, int, list/tuple, Tensor) to a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axis = [axis] if np.isscalar(axis) else list(axis)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{opname}: axis {a} is out of range for a rank-{ndim} tensor")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def dtype_of(dtype):
    return as_dtype(dtype)
