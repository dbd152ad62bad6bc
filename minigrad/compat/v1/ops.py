"""TF1's op functions on graph Tensors: each records a call of minigrad's own function.

`wrap(mg_fn, "MatMul")` turns an eager function into a graph one: the call becomes an
Operation whose outputs are symbolic Tensors (see graph.py). TF1's argument spellings
(`reduction_indices=`, `keep_dims=`, `dim=`) are translated here, never in the eager ops.
"""
import functools

import numpy as np

import minigrad as mg
from minigrad.compat.v1.graph import (STAND_IN_SIZES, Operation, Tensor,  # noqa: F401
                                      get_default_graph, group, make_op)
from minigrad.compat.v1.runtime import current_run
from minigrad.core import apply, as_dtype, float32
from minigrad.core.function import record_effect
from minigrad.ops import array as array_ops, random as random_ops


def wrap(mg_fn, op_type, translate=None):
    """The graph version of `mg_fn`: records `mg_fn(*args, **kwargs)` as an Operation."""
    @functools.wraps(mg_fn)
    def call(*args, name=None, **kwargs):
        if translate is not None:
            args, kwargs = translate(args, kwargs)
        return make_op(op_type, mg_fn, args, kwargs, name=name)
    return call


def _tf1_reduction(args, kwargs):
    """reduction_indices= / keep_dims= (TF1's spellings) -> axis= / keepdims=."""
    for old, new in (("reduction_indices", "axis"), ("keep_dims", "keepdims")):
        if old in kwargs:
            value = kwargs.pop(old)
            if value is not None:
                if kwargs.get(new) is not None:
                    raise ValueError(f"cannot give both {old}= and {new}=")
                kwargs[new] = value
    if kwargs.get("keepdims") is None:
        kwargs.pop("keepdims", None)
    return args, kwargs


def _tf1_dim(args, kwargs):
    for old in ("dim", "dimension"):      # softmax's dim=, argmax's dimension=
        if old in kwargs:
            value = kwargs.pop(old)
            if value is not None:
                if kwargs.get("axis") is not None:
                    raise ValueError(f"cannot give both {old}= and axis=")
                kwargs["axis"] = value
    return args, kwargs


# --- sources: placeholders and constants -----------------------------------------------------------
def placeholder(dtype, shape=None, name=None):
    """A value fed to Session.run: `tf.placeholder(tf.float32, [None, 2], name="X")`."""
    g = get_default_graph()
    dtype = as_dtype(dtype)
    shape = None if shape is None else tuple(None if d is None or d == -1 else int(d)
                                             for d in _dims(shape))
    op = Operation(g, "Placeholder", g.unique_name(name or "Placeholder"), None, (), {})
    stand_ins = tuple(_zeros(shape, size, dtype) for size in (2, 3))
    t = Tensor(op, 0, shape, dtype, stand_ins)
    op.outputs, op.structure = [t], t
    return t


def _dims(shape):
    if hasattr(shape, "dims"):
        return shape.dims if shape.dims is not None else None
    return [shape] if np.isscalar(shape) else list(shape)


def _zeros(shape, size, dtype):
    if shape is None:
        return np.zeros((), dtype.np)
    return np.zeros(tuple(size if d is None else d for d in shape), dtype.np)


def placeholder_with_default(input, shape, name=None):
    """`input` unless a value is fed for it."""
    t = make_op("PlaceholderWithDefault", mg.identity, (input,), name=name)
    t._shape = tuple(None if d is None else int(d) for d in _dims(shape))
    return t


def constant(value, dtype=None, shape=None, name="Const"):
    value = value.numpy() if hasattr(value, "numpy") else value
    return make_op("Const", lambda: mg.constant(value, dtype=dtype, shape=shape), name=name)


def no_op(name=None):
    return group(name=name or "NoOp")


def tuple_(tensors, name=None):
    return list(tensors)


# --- gradients ---------------------------------------------------------------------------------
def gradients(ys, xs, grad_ys=None, name="gradients", stop_gradients=None, **kwargs):
    """d(sum of ys)/d x for each x of `xs`; None where x does not reach the ys (decided when
    the graph is built, as in TF)."""
    ys_list = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    xs_list = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    grad_ys = None if grad_ys is None else (
        list(grad_ys) if isinstance(grad_ys, (list, tuple)) else [grad_ys])
    reach = _reachable_from(ys_list)
    connected = [_reaches(x, reach) and x.dtype.is_floating for x in xs_list]
    if not any(connected):
        return [None] * len(xs_list)
    xs_live = [x for x, c in zip(xs_list, connected) if c]
    out = make_op("Gradients", _gradients_body, (ys_list, xs_live, grad_ys), name=name)
    it = iter(out)
    return [next(it) if c else None for c in connected]


def _gradients_body(ys, xs, grad_ys):
    run = current_run()
    if run is None:             # building the graph: shapes only
        return [mg.zeros_like(x) if not isinstance(x, mg.Variable) else
                mg.constant(np.zeros_like(x._value)) for x in xs]
    grads = run.tape.gradient(ys, xs, output_gradients=grad_ys,
                              unconnected_gradients="zero")
    return list(grads)


def _reachable_from(ys):
    """Ids of every Tensor and Variable the ys depend on through a path a gradient can take:
    inputs and implicit reads, but not through a stop_gradient nor through a tensor of a dtype
    that carries no gradient (integers, bools): TF backpropagates floating (and complex, which
    minigrad has not) tensors only (gradients_util._IsBackpropagatable), and Cast's gradient
    from an integer is None."""
    seen, stack = {}, [y.op for y in ys]
    found = {id(y) for y in ys}
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen[id(op)] = True
        if op.type == "StopGradient":      # TF: no gradient through it (None, not zeros)
            continue
        for t in list(op.inputs) + list(op.reads):
            found.add(id(t))
            if t.dtype.is_floating:
                stack.append(t.op)
    return found


def _reaches(x, reach):
    return id(x) in reach


def stop_gradient(input, name=None):
    return make_op("StopGradient", mg.stop_gradient, (input,), name=name)


# --- random ------------------------------------------------------------------------------------
def _rng(seed):
    """The numpy generator of one random op: seeded by (graph seed, op seed) when either is set
    (TF1's rule: a graph seed alone gives each op a seed from its position)."""
    g = get_default_graph()
    if seed is None and g.seed is None:
        return np.random.default_rng()
    op_seed = seed if seed is not None else len(g._ops)
    return np.random.default_rng([int(g.seed or 0), int(op_seed), 1])


def _draw(op_cls, shape, dtype, seed, name, op_type):
    rng, dtype = _rng(seed), as_dtype(dtype)
    shape = shape if isinstance(shape, Tensor) else np.asarray(_dims(shape), np.int32)
    def draw(s):
        return apply(op_cls(rng=rng, dtype=dtype.np), mg.convert_to_tensor(s))
    return make_op(op_type, draw, (shape,), name=name)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    z = _draw(random_ops.RandomStandardNormal, shape, dtype, seed, name, "RandomStandardNormal")
    return _affine(z, mean, stddev)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=float32, seed=None, name=None):
    z = _draw(random_ops.TruncatedNormal, shape, dtype, seed, name, "TruncatedNormal")
    return _affine(z, mean, stddev)


def random_uniform(shape, minval=0, maxval=None, dtype=float32, seed=None, name=None):
    dtype = as_dtype(dtype)
    if dtype.is_integer:
        raise NotImplementedError("random_uniform: integer dtypes are not supported in graph "
                                  "mode yet; draw floats and cast")
    u = _draw(random_ops.RandomUniform, shape, dtype, seed, name, "RandomUniform")
    maxval = 1.0 if maxval is None else maxval
    return u * (maxval - minval) + minval if (minval, maxval) != (0, 1.0) else u


def _affine(z, mean, stddev):
    """TF's mean + stddev * z, skipping the no-op factors as TF's random_ops do not (same
    numbers: x * 1 and x + 0 are exact)."""
    if not (np.isscalar(stddev) and stddev == 1):
        z = z * stddev
    if not (np.isscalar(mean) and mean == 0):
        z = z + mean
    return z


def set_random_seed(seed):
    """The graph-level seed: random ops and variable initializers draw the same numbers on
    every run of the same program."""
    get_default_graph().seed = None if seed is None else int(seed)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """TF1's dropout (keep_prob first): where(U[0,1) >= rate, x / keep_prob, 0), composed from
    ops so that a fed keep_prob and a fresh mask take effect on every run."""
    if (rate is None) == (keep_prob is None):
        raise ValueError("dropout: give exactly one of keep_prob and rate")
    rate = (1 - keep_prob) if rate is None else rate
    shape = noise_shape if noise_shape is not None else mg_shape(x)
    u = random_uniform(shape, dtype=x.dtype, seed=seed)
    scale = 1 / (1 - rate) if not isinstance(rate, Tensor) else \
        divide(constant(1.0, dtype=x.dtype), 1 - rate)
    out = where(greater_equal(u, rate), x * scale, zeros_like(x), name=name)
    if x._shape is not None:         # as TF: ret.set_shape(x.get_shape()), also when a fed
        out.set_shape(x._shape)      # keep_prob of unknown shape leaves the select's unknown
    return out


# --- the wrapped eager ops ---------------------------------------------------------------------
# mg.shape is shadowed by the module minigrad.ops.shape: take the function itself
mg_shape = wrap(array_ops.shape, "Shape")
matmul = wrap(mg.matmul, "MatMul")
add = wrap(mg.add, "Add")
subtract = wrap(mg.subtract, "Sub")
multiply = wrap(mg.multiply, "Mul")
divide = wrap(mg.divide, "RealDiv")
negative = wrap(mg.negative, "Neg")
pow = wrap(mg.pow, "Pow")
maximum = wrap(mg.maximum, "Maximum")
minimum = wrap(mg.minimum, "Minimum")
exp = wrap(mg.exp, "Exp")
log = wrap(mg.log, "Log")
sqrt = wrap(mg.sqrt, "Sqrt")
square = wrap(mg.square, "Square")
abs = wrap(mg.abs, "Abs")
sigmoid = wrap(mg.sigmoid, "Sigmoid")
tanh = wrap(mg.tanh, "Tanh")
relu = wrap(mg.nn.relu, "Relu")
softmax = wrap(mg.nn.softmax, "Softmax", _tf1_dim)
log_softmax = wrap(mg.nn.log_softmax, "LogSoftmax", _tf1_dim)
equal = wrap(mg.equal, "Equal")
not_equal = wrap(mg.not_equal, "NotEqual")
greater = wrap(mg.greater, "Greater")
greater_equal = wrap(mg.greater_equal, "GreaterEqual")
less = wrap(mg.less, "Less")
less_equal = wrap(mg.less_equal, "LessEqual")
where = wrap(mg.where, "Select")
cast = wrap(mg.cast, "Cast")
reshape = wrap(mg.reshape, "Reshape")


def _reshape_sizes(op):
    """A reshape to a fully known shape (no -1) of a tensor with one unknown dimension: that
    dimension is what makes the element counts agree, so the stand-in runs fit, and the output
    has the known shape, as in TF (`tf.reshape(x, [170, 10, 25])` of an x [?, 25])."""
    x = op.kwargs.get("tensor", op.args[0] if op.args else None)
    shape = op.kwargs.get("shape", op.args[1] if len(op.args) > 1 else None)
    if not isinstance(x, Tensor) or x._shape is None or list(x._shape).count(None) != 1 or \
            not isinstance(shape, (list, tuple, np.ndarray)) or \
            not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        return {}
    known = int(np.prod([n for n in x._shape if n is not None]))
    total = int(np.prod(shape))
    if known == 0 or total % known:
        return {}
    return {(id(x), list(x._shape).index(None)): total // known}


STAND_IN_SIZES["Reshape"] = _reshape_sizes
transpose = wrap(mg.transpose, "Transpose")
identity = wrap(mg.identity, "Identity")
zeros = wrap(mg.zeros, "zeros")
ones = wrap(mg.ones, "ones")
zeros_like = wrap(mg.zeros_like, "zeros_like")
ones_like = wrap(mg.ones_like, "ones_like")
fill = wrap(mg.fill, "Fill")
one_hot = wrap(mg.one_hot, "one_hot")
concat = wrap(mg.concat, "concat")
stack = wrap(mg.stack, "stack")
unstack = wrap(mg.unstack, "unstack")
split = wrap(mg.split, "split")
squeeze = wrap(mg.squeeze, "Squeeze")
expand_dims = wrap(mg.expand_dims, "ExpandDims")
gather = wrap(mg.gather, "GatherV2")
clip_by_value = wrap(mg.clip_by_value, "clip_by_value")
reduce_sum = wrap(mg.reduce_sum, "Sum", _tf1_reduction)
reduce_mean = wrap(mg.reduce_mean, "Mean", _tf1_reduction)
reduce_max = wrap(mg.reduce_max, "Max", _tf1_reduction)
reduce_min = wrap(mg.reduce_min, "Min", _tf1_reduction)
argmax = wrap(mg.argmax, "ArgMax", _tf1_dim)
argmin = wrap(mg.argmin, "ArgMin", _tf1_dim)
rank = wrap(mg.rank, "Rank")
size = wrap(mg.size, "Size")
range = wrap(mg.range, "range")


def _getitem(x, key):
    return make_op("strided_slice", lambda v, k: v[k], (x, key))


def _install_operators():
    # the node names TF gives operator calls (math_ops' "add", "sub", "mul", "truediv", ...)
    def named(fn, name, flip=False):
        if flip:
            return lambda a, b: fn(b, a, name=name)
        return lambda a, b: fn(a, b, name=name)
    table = {"__add__": named(add, "add"), "__sub__": named(subtract, "sub"),
             "__mul__": named(multiply, "mul"), "__truediv__": named(divide, "truediv"),
             "__pow__": named(pow, "pow"), "__matmul__": named(matmul, "MatMul"),
             "__radd__": named(add, "add", True), "__rsub__": named(subtract, "sub", True),
             "__rmul__": named(multiply, "mul", True),
             "__rtruediv__": named(divide, "truediv", True),
             "__rpow__": named(pow, "pow", True), "__rmatmul__": named(matmul, "MatMul", True),
             "__gt__": greater, "__ge__": greater_equal, "__lt__": less, "__le__": less_equal,
             "__getitem__": _getitem}
    for name, fn in table.items():
        setattr(Tensor, name, lambda self, other, _fn=fn: _fn(self, other))
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__abs__ = lambda self: abs(self)


_install_operators()
