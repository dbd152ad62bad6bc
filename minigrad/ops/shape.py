"""Shape ops: reshape, transpose, concat, split/unstack, slicing, gather, cast; and composites
(expand_dims, squeeze, stack) built from them, which need no backward of their own."""
import numpy as np

from minigrad.core import Op, Tensor, apply, as_dtype, register
from minigrad.core.numerics import check_finite
from minigrad.kernels import lazy
from minigrad.ops._convert import axes, tensor

_gather = lazy("gather")


@register
class Reshape(Op):
    """y = reshape(x, shape); gx = reshape(gy, x.shape)"""
    tf_name = "reshape"

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return (gy.reshape(self.xs[0].shape),)


def reshape(tensor_, shape, name=None):
    x = tensor(tensor_)
    shape = tuple(int(n) for n in (shape.numpy() if isinstance(shape, Tensor) else
                                   ([shape] if np.isscalar(shape) else shape)))
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or any(n < -1 for n in shape) or (
            -1 in shape and (known == 0 or x.numpy().size % known)) or (
            -1 not in shape and known != x.numpy().size):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                         f"({x.numpy().size} elements) to {list(shape)}")
    return apply(Reshape(shape=shape), x)


def expand_dims(input, axis, name=None):
    x = tensor(input)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(f"expand_dims: axis {axis} out of range for shape {tuple(x.shape)}")
    a = axis % (x.ndim + 1)
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


def squeeze(input, axis=None, name=None):
    x = tensor(input)
    if axis is None:
        ax = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        ax = axes(axis, x.ndim, "squeeze")
        bad = [a for a in ax if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: cannot squeeze axis {bad[0]} of shape {tuple(x.shape)}"
                             f" (size {x.shape[bad[0]]}, not 1)")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in ax))


@register
class Transpose(Op):
    """y = transpose(x, perm); gx = transpose(gy, argsort(perm))"""
    tf_name = "transpose"

    def forward(self, x):
        return np.transpose(x, self.perm)

    def backward(self, gy):
        return (np.transpose(gy, np.argsort(self.perm)),)


def transpose(a, perm=None, name=None):
    x = tensor(a)
    perm = tuple(reversed(range(x.ndim))) if perm is None else tuple(int(p) for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: perm {list(perm)} is not a permutation for shape "
                         f"{tuple(x.shape)}")
    return apply(Transpose(perm=perm), x)


@register
class ConcatV2(Op):
    """y = concat(xs, axis); gx_i = the slice of gy that x_i filled"""
    tf_name = "concat"

    def forward(self, *xs):
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        cuts = np.cumsum([x.shape[self.axis] for x in self.xs])[:-1]
        return tuple(np.split(gy, cuts, axis=self.axis))


def concat(values, axis, name=None):
    xs = [tensor(v) for v in values]
    if not xs:
        raise ValueError("concat: needs at least one tensor")
    xs = [xs[0]] + [tensor(v, xs[0].dtype) if not isinstance(v, Tensor) else v for v in xs[1:]]
    shapes = [tuple(x.shape) for x in xs]
    rank = len(shapes[0])
    if rank == 0 or not -rank <= axis < rank:
        raise ValueError(f"concat: axis {axis} is out of range for shapes {shapes}")
    a = axis % rank
    for s, x in zip(shapes, xs):
        if x.dtype != xs[0].dtype:
            raise TypeError(f"concat: mixed dtypes {[x.dtype.name for x in xs]}")
        if len(s) != rank or s[:a] + s[a + 1:] != shapes[0][:a] + shapes[0][a + 1:]:
            raise ValueError(f"concat: shapes {shapes} do not match outside axis {a}")
    if len(xs) == 1:
        return xs[0]
    return apply(ConcatV2(axis=a), *xs)


def stack(values, axis=0, name=None):
    xs = [tensor(v) for v in values]
    shapes = [tuple(x.shape) for x in xs]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all shapes must be equal, got {shapes}")
    return concat([expand_dims(x, axis) for x in xs], axis)


@register
class Split(Op):
    """ys = split(x, sizes, axis); gx = concat(gys, axis)"""
    tf_name = "split"

    def forward(self, x):
        cuts = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(x, cuts, axis=self.axis))

    def backward(self, *gys):
        return (np.concatenate(gys, axis=self.axis),)


@register
class Unpack(Op):
    """ys = unstack(x, axis); gx = stack(gys, axis)"""
    tf_name = "unstack"

    def forward(self, x):
        return tuple(np.moveaxis(x, self.axis, 0))

    def backward(self, *gys):
        return (np.stack(gys, axis=self.axis),)


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    x = tensor(value)
    a = axes(axis, x.ndim, "split")[0]
    n = x.shape[a]
    if np.isscalar(num_or_size_splits):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {a} of shape {tuple(x.shape)} (size {n}) does not "
                             f"split evenly into {k}")
        sizes = (n // k,) * k
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {list(num_or_size_splits)} do not add up to {n}, "
                             f"axis {a} of shape {tuple(x.shape)}")
        sizes = tuple(sizes)
    return list(apply(Split(sizes=sizes, axis=a), x))


def unstack(value, num=None, axis=0, name=None):
    x = tensor(value)
    a = axes(axis, x.ndim, "unstack")[0]
    if num is not None and num != x.shape[a]:
        raise ValueError(f"unstack: num={num} but axis {a} of shape {tuple(x.shape)} has "
                         f"size {x.shape[a]}")
    out = apply(Unpack(axis=a), x)
    return list(out) if isinstance(out, tuple) else [out]


@register
class StridedSlice(Op):
    """y = x[key]; gx = zeros with gy scattered (added, for repeated indices) into x[key]"""
    tf_name = "getitem"      # TF: Tensor.__getitem__ (strided_slice)

    def forward(self, x):
        return x[self.key]

    def backward(self, gy):
        gx = np.zeros_like(self.xs[0])
        if self.basic:
            gx[self.key] = gy
        else:
            np.add.at(gx, self.key, gy)
        return (gx,)


def _index_key(key):
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k.numpy()
        elif isinstance(k, list):
            k = np.asarray(k)
        out.append(k)
    return tuple(out)


def getitem(x, key):
    x = tensor(x)
    key = _index_key(key)
    basic = all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis
                for k in key)
    try:
        return apply(StridedSlice(key=key, basic=basic), x)
    except IndexError as e:
        raise IndexError(f"__getitem__: {e} (shape {tuple(x.shape)})") from None


@register
class GatherV2(Op):
    """y = take(x, indices, axis); gx = zeros with gy added at indices along axis"""
    tf_name = "gather"

    def forward(self, params, indices):
        return np.take(params, indices, axis=self.axis)

    def backward(self, gy):
        params, indices = self.xs
        gx = np.zeros_like(params)
        if self.axis == 0 and indices.size and gx.flags.c_contiguous:
            _gather.scatter_add_rows(gx, indices.ravel(),
                                     gy.reshape((indices.size,) + gx.shape[1:]))
        else:
            np.add.at(gx, (slice(None),) * self.axis + (indices,), gy)
        return gx, None



def gather(params, indices, axis=0, batch_dims=0, name=None):
    p, i = tensor(params), tensor(indices)
    if i.dtype.is_floating:
        raise TypeError(f"gather: indices must be integers, got {i.dtype.name}")
    a = axes(axis, p.ndim, "gather")[0]
    idx = i.numpy()
    if idx.size and (idx.min() < 0 or idx.max() >= p.shape[a]):
        bad = idx[(idx < 0) | (idx >= p.shape[a])].ravel()[0]
        raise IndexError(f"gather: index {bad} is out of range [0, {p.shape[a]}) for params "
                         f"of shape {tuple(p.shape)}, axis {a}")
    return apply(GatherV2(axis=a), p, i)


@register
class Cast(Op):
    """y = cast(x, dtype); gx = cast(gy, x.dtype) between floating types, else none"""
    tf_name = "cast"

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        x = self.xs[0]
        if x.dtype.kind != "f" or gy.dtype.kind != "f":
            return (None,)
        return (gy.astype(x.dtype),)


def cast(x, dtype, name=None):
    x = tensor(x)
    dt = as_dtype(dtype)
    if x.dtype == dt:
        return x
    return apply(Cast(dtype=dt.np), x)


@register
class StopGradient(Op):
    """y = x; no gradient flows back"""
    tf_name = "stop_gradient"
    differentiable = False

    def forward(self, x):
        return x


def stop_gradient(input, name=None):
    return apply(StopGradient(), tensor(input))


def identity(input, name=None):
    """y = x, recorded (a named pass-through); gx = gy"""
    return reshape(input, tensor(input).shape)


@register
class CheckNumerics(Op):
    """y = x, raising InvalidArgumentError if x holds a NaN or Inf; gx = gy, checked the same
    way (TF's CheckNumerics and its gradient, array_grad.py)"""
    tf_name = "debugging.check_numerics"

    def forward(self, x):
        check_finite(x, f"{self.message} : Tensor had NaN or Inf values", self)
        return x

    def backward(self, gy):
        check_finite(gy, f"Not a number (NaN) or infinity (Inf) values detected in gradient. "
                         f"{self.message}", self)
        return (gy,)


def check_numerics(tensor_, message, name=None):
    """`tf.debugging.check_numerics`: x unchanged, or InvalidArgumentError naming `message`,
    the first bad index and the counts."""
    x = tensor(tensor_)
    if not x.dtype.is_floating:
        raise TypeError(f"check_numerics: expected a floating tensor, got {x.dtype.name}")
    return apply(CheckNumerics(message=str(message)), x)
