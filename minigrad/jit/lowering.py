"""How each op lowers: its forward and its backward, as the ops module writes them, term by term.

One table keyed by op class, next to nothing else: `FORWARD[cls](b, c, *xs)` returns the op's
output value(s) and `BACKWARD[cls](b, c, *gys)` one gradient value (or None) per input, built
with a `minigrad.jit.ir.Builder` `b`. `c` is the op's context: `c.op` (its attributes),
`c.xs` / `c.ys` (input and output values), `c.needs` (which inputs want a gradient),
`c.saved` (what the forward lowering kept for the backward, as the op keeps `log_probs`; None
when the forward ran in Python) and `c.detach` (an input is a Variable). Each formula keeps
the ops module's operation order, so that float64 results round as eager's do; where eager
calls numpy's BLAS (large matmuls, large row sums) the lowering calls it too, as a Python step
between compiled segments. A lowering raises `Unsupported` for a case it does not cover, and
the op falls back to its own forward/backward.

Optimizer updates (minigrad.train's TF1 optimizers, minigrad.optimizers' Keras ones) and
variable assigns lower to calls of the kernels in minigrad.kernels.optim and to in-place loops:
see `lower_effect`.
"""
import numpy as np

from minigrad.core.tensor import Variable
from minigrad.jit.ir import Unsupported
from minigrad.kernels.blas import matmul as _matmul
from minigrad.kernels.rowwise import sum_rows
from minigrad.ops import array, elementwise as ew, linalg, nn, reduce, shape as shape_ops
from minigrad.train import (AdamOptimizer, GradientDescentOptimizer, MomentumOptimizer,
                            RMSPropOptimizer)
from minigrad.train.optimizer import Optimizer
from minigrad import optimizers as keras_optimizers

FORWARD = {}
BACKWARD = {}

# A matmul with at most this many multiply-adds runs as loops in the compiled code; larger
# ones call numpy's BLAS between compiled segments, exactly as eager does (same bits; and one
# BLAS thread pool: numba's np.dot would bring scipy's OpenBLAS, whose threads fight numpy's).
SMALL_MATMUL = 1 << 16
# eager's sum_rows goes through BLAS from this many rows on (minigrad.kernels.rowwise)
_SUM_ROWS_BLAS = 512


def forward(*classes):
    def deco(fn):
        for cls in classes:
            FORWARD[cls] = fn
        return fn
    return deco


def backward(*classes):
    def deco(fn):
        for cls in classes:
            BACKWARD[cls] = fn
        return fn
    return deco


# --- elementwise ---------------------------------------------------------------------------
@forward(ew.Add)
def _(b, c, x0, x1):
    return b.add(x0, x1)


@backward(ew.Add)
def _(b, c, gy):
    return gy, gy


@forward(ew.Sub)
def _(b, c, x0, x1):
    return b.sub(x0, x1)


@backward(ew.Sub)
def _(b, c, gy):
    return gy, b.neg(gy)


@forward(ew.Mul)
def _(b, c, x0, x1):
    return b.mul(x0, x1)


@backward(ew.Mul)
def _(b, c, gy):
    x0, x1 = c.xs
    return (b.mul(gy, x1) if c.needs[0] else None), (b.mul(x0, gy) if c.needs[1] else None)


@forward(ew.RealDiv)
def _(b, c, x0, x1):
    return b.div(x0, x1)


@backward(ew.RealDiv)
def _(b, c, gy):
    x0, x1 = c.xs
    gx0 = b.div(gy, x1) if c.needs[0] else None
    gx1 = b.mul(gy, b.div(b.div(b.neg(x0), x1), x1)) if c.needs[1] else None
    return gx0, gx1


@forward(ew.Pow)
def _(b, c, x0, x1):
    return b.pow(x0, x1)


@backward(ew.Pow)
def _(b, c, gy):
    x0, x1 = c.xs
    gx0 = b.mul(b.mul(gy, x1), b.pow(x0, b.sub(x1, 1))) if c.needs[0] else None
    gx1 = None
    if c.needs[1]:
        pos = b.gt(x0, 0)
        log_x0 = b.where(pos, b.log(b.where(pos, x0, 1)), 0)
        gx1 = b.mul(b.mul(gy, c.ys[0]), log_x0)
    return gx0, gx1


@forward(ew.Maximum)
def _(b, c, x0, x1):
    return b.maximum(x0, x1)


@forward(ew.Minimum)
def _(b, c, x0, x1):
    return b.minimum(x0, x1)


@backward(ew.Maximum, ew.Minimum)
def _(b, c, gy):
    x0, x1 = c.xs
    x0_wins = b.ge(x0, x1) if type(c.op) is ew.Maximum else b.le(x0, x1)
    return b.where(x0_wins, gy, 0), b.where(x0_wins, 0, gy)


@forward(ew.SelectV2)
def _(b, c, cond, x0, x1):
    return b.where(cond, x0, x1)


@backward(ew.SelectV2)
def _(b, c, gy):
    cond = c.xs[0]
    return None, b.where(cond, gy, 0), b.where(cond, 0, gy)


def _unary(cls, fwd, bwd):
    forward(cls)(lambda b, c, x: fwd(b, x))
    backward(cls)(lambda b, c, gy: (bwd(b, c, gy),))


_unary(ew.Neg, lambda b, x: b.neg(x), lambda b, c, gy: b.neg(gy))
_unary(ew.Exp, lambda b, x: b.exp(x), lambda b, c, gy: b.mul(gy, c.ys[0]))
_unary(ew.Log, lambda b, x: b.log(x), lambda b, c, gy: b.mul(gy, b.div(1, c.xs[0])))
_unary(ew.Log1p, lambda b, x: b.log1p(x),
       lambda b, c, gy: b.mul(gy, b.div(1, b.add(1, c.xs[0]))))
_unary(ew.Sqrt, lambda b, x: b.sqrt(x), lambda b, c, gy: b.div(b.mul(gy, 0.5), c.ys[0]))
_unary(ew.Square, lambda b, x: b.mul(x, x), lambda b, c, gy: b.mul(gy, b.mul(2, c.xs[0])))
_unary(ew.Reciprocal, lambda b, x: b.div(1, x),
       lambda b, c, gy: b.mul(b.mul(b.neg(gy), c.ys[0]), c.ys[0]))
_unary(ew.Abs, lambda b, x: b.abs(x), lambda b, c, gy: b.mul(gy, b.sign(c.xs[0])))
_unary(ew.Tanh, lambda b, x: b.tanh(x),
       lambda b, c, gy: b.mul(gy, b.sub(1, b.mul(c.ys[0], c.ys[0]))))
_unary(ew.Relu, lambda b, x: b.maximum(x, 0),
       lambda b, c, gy: b.mul(gy, b.cast(b.gt(c.ys[0], 0), gy.dtype)))


def _sigmoid(b, x):
    # exp of -|x| only, as the op does: 1 / (1 + e) where x >= 0, else e / (1 + e)
    e = b.exp(b.neg(b.abs(x)))
    return b.where(b.ge(x, 0), b.div(1, b.add(1, e)), b.div(e, b.add(1, e)))


_unary(ew.Sigmoid, _sigmoid,
       lambda b, c, gy: b.mul(b.mul(gy, c.ys[0]), b.sub(1, c.ys[0])))


for _cls, _name in [(array.Equal, "eq"), (array.NotEqual, "ne"), (array.Greater, "gt"),
                    (array.GreaterEqual, "ge"), (array.Less, "lt"), (array.LessEqual, "le")]:
    forward(_cls)(lambda b, c, x0, x1, _n=_name: getattr(b, _n)(x0, x1))


# --- shape ---------------------------------------------------------------------------------
@forward(shape_ops.Cast)
def _(b, c, x):
    return b.cast(x, c.op.dtype)


@backward(shape_ops.Cast)
def _(b, c, gy):
    x = c.xs[0]
    if x.dtype.kind != "f" or gy.dtype.kind != "f":
        return (None,)
    return (b.cast(gy, x.dtype),)


@forward(shape_ops.Reshape)
def _(b, c, x):
    # a view, copied when the input is a Variable (updated in place later), as eager does
    return b.reshape(x, c.out_shapes[0], copy=c.detach)


@backward(shape_ops.Reshape)
def _(b, c, gy):
    return (b.reshape(gy, c.xs[0].shape),)


@forward(shape_ops.StopGradient)
def _(b, c, x):
    return x


@forward(shape_ops.Transpose)
def _(b, c, x):
    return b.transpose(x, c.op.perm)


@backward(shape_ops.Transpose)
def _(b, c, gy):
    return (b.transpose(gy, np.argsort(c.op.perm)),)


# --- matmul --------------------------------------------------------------------------------
def matmul(b, x, y, ta, tb, label="MatMul"):
    """op(x) @ op(y) (op: transpose or not): loops when small, else numpy's matmul."""
    if x.ndim != 2 or y.ndim != 2:
        raise Unsupported(f"a batched matmul (ranks {x.ndim} and {y.ndim}); 2-D only")
    m, k = x.shape[::-1] if ta else x.shape
    n = y.shape[0] if tb else y.shape[1]
    if m * n * k <= SMALL_MATMUL:
        return b.matmul(x, y, ta, tb)

    def blas(a, w):
        return (_matmul(np.swapaxes(a, -1, -2) if ta else a,
                        np.swapaxes(w, -1, -2) if tb else w),)
    return b.py(blas, [x, y], [((m, n), x.dtype)], "numpy",
                f"{label} {m}x{k} @ {k}x{n}: numpy's BLAS between compiled segments")[0]


@forward(linalg.MatMul)
def _(b, c, x0, x1):
    return matmul(b, x0, x1, c.op.transpose_a, c.op.transpose_b)


@backward(linalg.MatMul)
def _(b, c, gy):
    # the same four forms as MatMul.backward, each a product of the same operands
    x0, x1 = c.xs
    ta, tb = c.op.transpose_a, c.op.transpose_b
    gx0 = gx1 = None
    if c.needs[0]:
        if ta:
            gx0 = matmul(b, x1, gy, False, True) if not tb else matmul(b, x1, gy, True, True)
        else:
            gx0 = matmul(b, gy, x1, False, True) if not tb else matmul(b, gy, x1, False, False)
    if c.needs[1]:
        if tb:
            gx1 = matmul(b, gy, x0, True, False) if not ta else matmul(b, gy, x0, True, True)
        else:
            gx1 = matmul(b, x0, gy, True, False) if not ta else matmul(b, x0, gy, False, False)
    return gx0, gx1


# --- reductions ----------------------------------------------------------------------------
def _kept(x, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


@forward(reduce.Sum)
def _(b, c, x):
    return b.reduce(x, "sum", c.op.axis, c.op.keepdims)


@backward(reduce.Sum)
def _(b, c, gy):
    x = c.xs[0]
    return (b.broadcast_to(b.reshape(gy, _kept(x, c.op.axis)), x.shape),)


@forward(reduce.Mean)
def _(b, c, x):
    s = b.reduce(x, "sum", c.op.axis, c.op.keepdims)
    n = int(np.prod([x.shape[a] for a in c.op.axis], dtype=np.int64))
    if x.dtype == np.float64:
        return b.div(s, n)
    # np.mean divides by an intp count: the quotient in float64, rounded back
    return b.cast(b.div(b.cast(s, np.float64), n), x.dtype)


@backward(reduce.Mean)
def _(b, c, gy):
    x = c.xs[0]
    n = max(x.size, 1) // max(c.ys[0].size, 1)
    return (b.broadcast_to(b.reshape(b.div(gy, n), _kept(x, c.op.axis)), x.shape),)


@forward(reduce.Max)
def _(b, c, x):
    return b.reduce(x, "max", c.op.axis, c.op.keepdims)


@forward(reduce.Min)
def _(b, c, x):
    return b.reduce(x, "min", c.op.axis, c.op.keepdims)


@backward(reduce.Max, reduce.Min)
def _(b, c, gy):
    x, y = c.xs[0], c.ys[0]
    kept = _kept(x, c.op.axis)
    hit = b.cast(b.eq(x, b.reshape(y, kept)), gy.dtype)
    count = b.reduce(hit, "sum", c.op.axis, keepdims=True)
    return (b.mul(b.div(hit, count), b.reshape(gy, kept)),)


@forward(reduce.ArgMax, reduce.ArgMin)
def _(b, c, x):
    return b.argmax(x, c.op.axis, c.op.output_type, smallest=type(c.op) is reduce.ArgMin)


# --- the softmax family --------------------------------------------------------------------
def _last(x):
    if x.ndim == 0:
        raise Unsupported("a softmax of a scalar")
    return (x.ndim - 1,)


def _logsumexp_parts(b, x):
    """shifted = x - max; lse = log(sum(exp(shifted))), the log taken in float64 (the op's
    NOTE: TF's std::log), rounded back."""
    shifted = b.sub(x, b.reduce(x, "max", _last(x), keepdims=True))
    total = b.reduce(b.exp(shifted), "sum", _last(x), keepdims=True)
    return shifted, b.cast(b.log(b.cast(total, np.float64)), x.dtype)


@forward(nn.Softmax)
def _(b, c, x):
    e = b.exp(b.sub(x, b.reduce(x, "max", _last(x), keepdims=True)))
    return b.div(e, b.reduce(e, "sum", _last(x), keepdims=True))


@backward(nn.Softmax)
def _(b, c, gy):
    y = c.ys[0]
    return (b.mul(b.sub(gy, b.reduce(b.mul(gy, y), "sum", _last(y), keepdims=True)), y),)


@forward(nn.LogSoftmax)
def _(b, c, x):
    shifted, lse = _logsumexp_parts(b, x)
    return b.sub(shifted, lse)


@backward(nn.LogSoftmax)
def _(b, c, gy):
    y = c.ys[0]
    return (b.sub(gy, b.mul(b.reduce(gy, "sum", _last(y), keepdims=True), b.exp(y))),)


@forward(nn.SoftmaxCrossEntropyWithLogits)
def _(b, c, labels, logits):
    shifted, lse = _logsumexp_parts(b, logits)
    c.saved = log_probs = b.sub(shifted, lse)
    return b.reduce(b.mul(labels, b.neg(log_probs)), "sum", _last(logits))


def _saved(c):
    if c.saved is None:
        raise Unsupported("its backward needs what its forward keeps, and the forward ran in "
                          "Python")
    return c.saved


def _column(b, g):
    return b.reshape(g, g.shape + (1,))


@backward(nn.SoftmaxCrossEntropyWithLogits)
def _(b, c, gy):
    log_probs, labels = _saved(c), c.xs[0]
    g = _column(b, gy)
    glabels = b.mul(g, b.neg(log_probs)) if c.needs[0] else None
    glogits = b.mul(g, b.sub(b.exp(log_probs), labels)) if c.needs[1] else None
    return glabels, glogits


@forward(nn.SparseSoftmaxCrossEntropyWithLogits)
def _(b, c, labels, logits):
    shifted, lse = _logsumexp_parts(b, logits)
    c.saved = log_probs = b.sub(shifted, lse)
    return b.neg(b.take_last(log_probs, labels))


@backward(nn.SparseSoftmaxCrossEntropyWithLogits)
def _(b, c, gy):
    log_probs, labels = _saved(c), c.xs[0]
    n = log_probs.shape[-1]
    lab = _column(b, labels)
    lab = b.cast(b.where(b.lt(lab, 0), b.add(lab, n), lab), np.int64)   # numpy's wrap-around
    e = b.exp(log_probs)
    g = b.where(b.eq(b.iota(log_probs.shape, log_probs.ndim - 1), lab), b.sub(e, 1), e)
    return None, b.mul(_column(b, gy), g)


@forward(nn.BiasAdd)
def _(b, c, x, bias):
    return b.add(x, bias)         # add_row_vector: the same bits as x + b


def sum_leading(b, g2, label):
    """sum_rows(g2) for g2 [M, C]: numpy's column sums below 512 rows, BLAS from there."""
    if g2.shape[0] >= _SUM_ROWS_BLAS and g2.dtype.kind == "f":
        out = b.py(lambda g: (sum_rows(g),), [g2], [((g2.shape[1],), g2.dtype)], "numpy",
                   f"{label}: sum over {g2.shape[0]} rows by numpy's BLAS")[0]
        b.nodes[-1].attrs["sum_rows"] = True       # minigrad.jit.fusion may take it over
        return out
    return b.reduce(g2, "sum", (0,))


@backward(nn.BiasAdd)
def _(b, c, gy):
    rows = b.reshape(gy, (gy.size // max(gy.shape[-1], 1), gy.shape[-1]))
    return gy, sum_leading(b, rows, "BiasAdd gradient")


# --- effects: optimizer updates and assigns ------------------------------------------------
def _lambda_code(fn):
    """The code of the one lambda written in `fn` (the effect it records)."""
    (code,) = [k for k in fn.__code__.co_consts if getattr(k, "co_name", None) == "<lambda>"]
    return code


_OPTIMIZER_EFFECT = _lambda_code(Optimizer.apply_gradients)
_ASSIGNS = {_lambda_code(Variable.assign): "assign",
            _lambda_code(Variable.assign_add): "assign_add",
            _lambda_code(Variable.assign_sub): "assign_sub"}


def _hyper(attr):
    return lambda opt: float(getattr(opt, attr))


# optimizer class -> (kernel of minigrad.kernels.optim, its arguments). An argument is "var",
# "g", ("slot", name), ("scalar", fn(opt) evaluated each step after _prepare_step), ("int",
# fn) an integer scalar, or ("const", value) fixed at compile time.
def _tf1_rmsprop(opt):
    scal = [("scalar", Optimizer._lr), ("scalar", _hyper("decay")),
            ("scalar", _hyper("momentum")), ("scalar", _hyper("epsilon"))]
    if opt.centered:
        return "centered_rmsprop_update", ["var", ("slot", "mg"), ("slot", "rms"),
                                           ("slot", "momentum"), "g"] + scal
    return "rmsprop_update", ["var", ("slot", "rms"), ("slot", "momentum"), "g"] + scal


def _keras_rmsprop(opt):
    scal = [("scalar", Optimizer._lr), ("scalar", _hyper("rho")),
            ("scalar", _hyper("momentum")), ("scalar", _hyper("epsilon"))]
    if opt.centered:
        return "keras_centered_rmsprop_update", ["var", ("slot", "average_gradient"),
                                                 ("slot", "velocity"), ("slot", "momentum"),
                                                 "g"] + scal
    return "keras_rmsprop_update", ["var", ("slot", "velocity"), ("slot", "momentum"),
                                    "g"] + scal


OPTIMIZERS = {
    GradientDescentOptimizer: lambda opt: ("sgd_update", ["var", "g",
                                                          ("scalar", Optimizer._lr)]),
    MomentumOptimizer: lambda opt: ("momentum_update", [
        "var", ("slot", "momentum"), "g", ("scalar", Optimizer._lr),
        ("scalar", _hyper("momentum")), ("const", bool(opt.use_nesterov))]),
    RMSPropOptimizer: _tf1_rmsprop,
    AdamOptimizer: lambda opt: ("apply_adam", [
        "var", ("slot", "m"), ("slot", "v"), "g", ("scalar", _hyper("beta1_power")),
        ("scalar", _hyper("beta2_power")), ("scalar", Optimizer._lr),
        ("scalar", _hyper("beta1")), ("scalar", _hyper("beta2")),
        ("scalar", _hyper("epsilon"))]),
    keras_optimizers.SGD: lambda opt: ("keras_sgd_update", [
        "var", ("slot", "momentum"), "g", ("scalar", Optimizer._lr),
        ("scalar", _hyper("momentum")), ("const", bool(opt.nesterov))]),
    keras_optimizers.RMSprop: _keras_rmsprop,
    keras_optimizers.Adam: lambda opt: ("keras_adam_update", [
        "var", ("slot", "m"), ("slot", "v"), "g", ("scalar", Optimizer._lr),
        ("scalar", _hyper("beta_1")), ("scalar", _hyper("beta_2")),
        ("scalar", _hyper("epsilon")), ("int", lambda opt: opt.iterations + 1)]),
}

_PROTOCOL = ("apply_gradients", "_apply_step", "_apply_one", "_slots_for", "_lr")


def _closure(fn):
    cells = fn.__closure__ or ()
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in cells)))


def describe_effect(fn):
    """What an effect step is, in words (for explain)."""
    code = getattr(fn, "__code__", None)
    if code is _OPTIMIZER_EFFECT:
        env = _closure(fn)
        return f"{type(env['self']).__name__} update of {len(env['variables'])} variable(s)"
    if code in _ASSIGNS:
        return f"{_ASSIGNS[code]} to '{_closure(fn)['self']._name}'"
    return f"effect {getattr(fn, '__qualname__', fn)!r}"


def lower_effect(b, fn, args, var_val):
    """Lower the effect `fn(*args)` (args: values). var_val(variable) gives the value of a
    Variable's array. Raises Unsupported for anything but the optimizers above and assigns."""
    code = getattr(fn, "__code__", None)
    if code is _OPTIMIZER_EFFECT:
        env = _closure(fn)
        return _lower_optimizer(b, env["self"], env["variables"], args, var_val)
    if code in _ASSIGNS:
        var = _closure(fn)["self"]
        (value,) = args
        target = var_val(var)
        if value.shape not in (target.shape, ()):
            raise Unsupported(f"an assign of shape {value.shape} to {target.shape}")
        b.effect((_ASSIGNS[code], ["var", "value"]), [target, value])
        return
    raise Unsupported(f"{describe_effect(fn)} is neither an optimizer update nor an assign")


def _lower_optimizer(b, opt, variables, grads, var_val):
    cls = type(opt)
    if cls not in OPTIMIZERS:
        raise Unsupported(f"{cls.__name__} has no lowering (compiled: "
                          f"{', '.join(sorted(c.__name__ for c in OPTIMIZERS))})")
    for attr in _PROTOCOL:
        if getattr(cls, attr) is not getattr(Optimizer, attr):
            raise Unsupported(f"{cls.__name__} overrides Optimizer.{attr}")
    kernel, spec = OPTIMIZERS[cls](opt)
    scalars = [fn for kind, fn in (s for s in spec if isinstance(s, tuple))
               if kind in ("scalar", "int")]
    slot_names = [s[1] for s in spec if isinstance(s, tuple) and s[0] == "slot"]
    for v, g in zip(variables, grads):
        if g.shape != v._value.shape or g.dtype != v._value.dtype:
            raise Unsupported(f"gradient {g.shape} {g.dtype} for variable '{v._name}' "
                              f"{v._value.shape} {v._value.dtype}")
        if v._id not in opt._slots and opt.slot_names:
            raise Unsupported(f"variable '{v._name}' has no slots yet")

    def prelude(sc, base, _vars=tuple(variables)):
        opt._prepare_step()
        for k, fn in enumerate(scalars):
            sc[base + k] = fn(opt)
        all_slots = opt._slots
        lives = [all_slots[v._id][name] for v in _vars for name in slot_names]
        opt.iterations += 1
        return lives

    lives = [((v._value.size,), v._value.dtype) for v in variables for _ in slot_names]
    node, slot_vals = b.prelude(prelude, len(scalars), lives)
    for i, (v, g) in enumerate(zip(variables, grads)):
        slots = iter(slot_vals[i * len(slot_names):(i + 1) * len(slot_names)])
        vals, tokens, k = [], [], 0
        for s in spec:
            if s == "var":
                tokens.append(("flat", len(vals)))
                vals.append(var_val(v))
            elif s == "g":
                tokens.append(("flat", len(vals)))
                vals.append(g)
            elif s[0] == "slot":
                tokens.append(("flat", len(vals)))
                vals.append(next(slots))
            elif s[0] in ("scalar", "int"):
                tokens.append((s[0], node, k))
                k += 1
            else:
                tokens.append(("const", s[1]))
        b.effect((kernel, tokens), vals)
