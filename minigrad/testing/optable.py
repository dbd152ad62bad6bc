"""The op table: one declarative entry per public op (PyTorch OpInfo style).

An entry names the minigrad call and the TensorFlow reference, generates sample inputs (within
the op's domain: positive for log, away from kinks for abs/relu so finite differences hold),
and states its tolerances. tests/test_ops.py turns every entry into forward + gradient checks
against TensorFlow in float32 and float64, and a float64 gradcheck.

Tolerances: float64 rtol 1e-10 (both engines evaluate the same formula; differences come only
from summation order and libm's last bit). float32 uses TF's own assertAllClose default
(rtol = atol = 1e-6) except where an entry says why it needs more.
"""
import importlib
from dataclasses import dataclass, field

import numpy as np

OP_TABLE = []
_EXTENSIONS = ("minigrad.testing.optable_rnn", "minigrad.testing.optable_conv")  # later op families


@dataclass
class Sample:
    args: list
    kwargs: dict = field(default_factory=dict)
    label: str = ""


@dataclass
class OpInfo:
    name: str
    op: object                      # (mg, *tensors, **kwargs) -> tensor(s)
    ref: object                     # (tf, *tensors, **kwargs) -> tensor(s)
    samples: object                 # rng -> list[Sample]
    nograd: tuple = ()              # input positions that take no gradient (labels, indices)
    grad: bool = True               # False: the op has no gradient at all
    gradcheck: bool = True
    rtol32: float = 1e-6
    atol32: float = 1e-6
    rtol64: float = 1e-10
    atol64: float = 1e-12
    why: str = ""                   # the reason when a tolerance differs from the defaults

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float32:
            return self.rtol32, self.atol32
        return self.rtol64, self.atol64


def add(info):
    OP_TABLE.append(info)
    return info


def all_ops():
    for mod in _EXTENSIONS:
        importlib.import_module(mod)
    return list(OP_TABLE)


# --- sample generators ------------------------------------------------------------------------
SHAPES = [(), (1,), (5,), (2, 3), (1, 4, 1), (2, 3, 4)]
PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
         ((4, 1, 3), (2, 1)), ((1,), (5,)), ((2, 3), (2, 3))]


def draw(rng, shape, domain="real"):
    """Values in an op's domain: 'real' (-2, 2), 'pos' (0.2, 2), 'nonzero' |x| in (0.3, 2),
    'unit' (0.05, 0.95)."""
    if domain == "pos":
        return rng.uniform(0.2, 2.0, shape)
    if domain == "nonzero":
        return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "unit":
        return rng.uniform(0.05, 0.95, shape)
    return rng.uniform(-2.0, 2.0, shape)


def unary(domain="real"):
    return lambda rng: [Sample([draw(rng, s, domain)], label=str(s)) for s in SHAPES]


def binary(d0="real", d1="real"):
    return lambda rng: [Sample([draw(rng, a, d0), draw(rng, b, d1)], label=f"{a}x{b}")
                        for a, b in PAIRS]


def reductions(rng):
    out = []
    for shape in [(5,), (2, 3), (2, 3, 4)]:
        axes = [None, 0, -1, [0]] + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
        for axis in axes:
            for keepdims in (False, True):
                out.append(Sample([draw(rng, shape)], dict(axis=axis, keepdims=keepdims),
                                  f"{shape} axis={axis} keep={keepdims}"))
    out.append(Sample([draw(rng, (3, 1, 2))], dict(axis=1), "size-1 axis"))
    return out


def _tied(rng, shape):
    return rng.integers(-2, 3, shape).astype(np.float64)


# --- elementwise ------------------------------------------------------------------------------
for _name, _dom in [("add", "real"), ("subtract", "real"), ("multiply", "real")]:
    add(OpInfo(_name, (lambda n: lambda mg, x, y: getattr(mg, n)(x, y))(_name),
               (lambda n: lambda tf, x, y: getattr(tf.math, n)(x, y))(_name), binary()))
add(OpInfo("divide", lambda mg, x, y: mg.divide(x, y), lambda tf, x, y: tf.math.divide(x, y),
           binary("real", "nonzero")))
add(OpInfo("pow", lambda mg, x, y: mg.pow(x, y), lambda tf, x, y: tf.pow(x, y),
           binary("pos", "real")))
add(OpInfo("maximum", lambda mg, x, y: mg.maximum(x, y), lambda tf, x, y: tf.maximum(x, y),
           binary()))
add(OpInfo("minimum", lambda mg, x, y: mg.minimum(x, y), lambda tf, x, y: tf.minimum(x, y),
           binary()))
add(OpInfo("maximum_ties", lambda mg, x, y: mg.maximum(x, y), lambda tf, x, y: tf.maximum(x, y),
           lambda rng: [Sample([_tied(rng, (4, 5)), _tied(rng, (4, 5))], label="ties")],
           gradcheck=False))
add(OpInfo("minimum_ties", lambda mg, x, y: mg.minimum(x, y), lambda tf, x, y: tf.minimum(x, y),
           lambda rng: [Sample([_tied(rng, (4, 5)), _tied(rng, (5,))], label="ties")],
           gradcheck=False))
add(OpInfo("where", lambda mg, c, x, y: mg.where(c, x, y), lambda tf, c, x, y: tf.where(c, x, y),
           lambda rng: [Sample([rng.random(c) > 0.5, draw(rng, a), draw(rng, b)],
                               label=f"{c},{a},{b}")
                        for c, a, b in [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()),
                                        ((3,), (2, 3), (2, 1)), ((), (4,), (4,))]]))
add(OpInfo("clip_by_value", lambda mg, x, lo, hi: mg.clip_by_value(x, lo, hi),
           lambda tf, x, lo, hi: tf.clip_by_value(x, lo, hi),
           lambda rng: [Sample([draw(rng, (3, 4)), np.array(-0.7), np.array(0.9)], label="scalar"),
                        Sample([draw(rng, (2, 3)), draw(rng, (2, 3)) - 1.5,
                                draw(rng, (2, 3)) + 1.5], label="tensor bounds")]))
_UNARY = [("negative", "real", "math.negative"), ("exp", "real", "exp"), ("log", "pos", "math.log"),
          ("log1p", "pos", "math.log1p"), ("sqrt", "pos", "sqrt"), ("square", "real", "square"),
          ("reciprocal", "nonzero", "math.reciprocal"), ("abs", "nonzero", "abs"),
          ("sigmoid", "real", "sigmoid"), ("tanh", "real", "tanh"), ("relu", "nonzero", "nn.relu")]


def _tf_path(tf, path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


for _name, _dom, _tfname in _UNARY:
    add(OpInfo(_name, (lambda n: lambda mg, x: getattr(mg.math if hasattr(mg.math, n) else mg.nn,
                                                         n)(x))(_name),
               (lambda p: lambda tf, x: _tf_path(tf, p)(x))(_tfname), unary(_dom)))
add(OpInfo("sigmoid_large", lambda mg, x: mg.sigmoid(x), lambda tf, x: tf.sigmoid(x),
           lambda rng: [Sample([np.array([-800.0, -100.0, -30.0, 0.0, 30.0, 100.0, 800.0])],
                               label="|x| large")], gradcheck=False))

# --- linear algebra ---------------------------------------------------------------------------
_MATMUL = [((2, 3), (3, 4), False, False), ((3, 2), (3, 4), True, False),
           ((2, 3), (4, 3), False, True), ((3, 2), (4, 3), True, True),
           ((5, 2, 3), (5, 3, 4), False, False), ((5, 2, 3), (3, 4), False, False),
           ((2, 1, 3, 2), (4, 2, 3), True, True), ((1, 1), (1, 1), False, False)]
add(OpInfo("matmul", lambda mg, a, b, **k: mg.matmul(a, b, **k),
           lambda tf, a, b, **k: tf.linalg.matmul(a, b, **k),
           lambda rng: [Sample([draw(rng, a), draw(rng, b)],
                               dict(transpose_a=ta, transpose_b=tb), f"{a}@{b} ta={ta} tb={tb}")
                        for a, b, ta, tb in _MATMUL],
           rtol32=1e-5, why="float32 dot products of up to 3 terms plus a batch sum in the "
                            "gradient: TF's summation order differs from BLAS's"))

# --- reductions -------------------------------------------------------------------------------
for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min"):
    add(OpInfo(_name, (lambda n: lambda mg, x, **k: getattr(mg, n)(x, **k))(_name),
               (lambda n: lambda tf, x, **k: getattr(tf.math, n)(x, **k))(_name), reductions,
               rtol32=1e-5, why="float32 sums of up to 24 terms in a different order"))
add(OpInfo("reduce_max_ties", lambda mg, x, **k: mg.reduce_max(x, **k),
           lambda tf, x, **k: tf.reduce_max(x, **k),
           lambda rng: [Sample([_tied(rng, (4, 6))], dict(axis=a), f"ties axis={a}")
                        for a in (None, 0, 1)], gradcheck=False))
add(OpInfo("argmax", lambda mg, x, **k: mg.argmax(x, **k), lambda tf, x, **k: tf.argmax(x, **k),
           lambda rng: [Sample([draw(rng, (3, 5))], dict(axis=a), f"axis={a}") for a in (0, 1)]
           + [Sample([_tied(rng, (4, 6))], dict(axis=1), "ties: first wins")],
           grad=False, gradcheck=False))
add(OpInfo("argmin", lambda mg, x, **k: mg.argmin(x, **k), lambda tf, x, **k: tf.argmin(x, **k),
           lambda rng: [Sample([_tied(rng, (4, 6))], dict(axis=a), f"ties axis={a}")
                        for a in (0, 1)], grad=False, gradcheck=False))
for _name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    add(OpInfo(_name, (lambda n: lambda mg, x, y: getattr(mg, n)(x, y))(_name),
               (lambda n: lambda tf, x, y: getattr(tf.math, n)(x, y))(_name),
               lambda rng: [Sample([_tied(rng, (3, 4)), _tied(rng, (4,))], label="broadcast")],
               grad=False, gradcheck=False))

# --- shapes -----------------------------------------------------------------------------------
add(OpInfo("cast", lambda mg, x: mg.cast(mg.cast(x, "float32"), x.dtype) * x,
           lambda tf, x: tf.cast(tf.cast(x, "float32"), x.dtype) * x, unary(),
           gradcheck=False, why="a float32 round trip: not differentiable to 1e-6 in float64"))
add(OpInfo("cast_to_int", lambda mg, x: mg.cast(x, "int32"), lambda tf, x: tf.cast(x, "int32"),
           lambda rng: [Sample([draw(rng, (2, 3)) * 3], label="truncate")], grad=False,
           gradcheck=False))
add(OpInfo("reshape", lambda mg, x, shape: mg.reshape(x, shape),
           lambda tf, x, shape: tf.reshape(x, shape),
           lambda rng: [Sample([draw(rng, (2, 3, 4))], dict(shape=s), str(s))
                        for s in [(6, 4), (-1,), (4, -1, 1), (24,)]]))
add(OpInfo("check_numerics", lambda mg, x: mg.debugging.check_numerics(x, "m"),
           lambda tf, x: tf.debugging.check_numerics(x, "m"), unary()))
add(OpInfo("transpose", lambda mg, x, **k: mg.transpose(x, **k),
           lambda tf, x, **k: tf.transpose(x, **k),
           lambda rng: [Sample([draw(rng, (2, 3, 4))], dict(perm=p), str(p))
                        for p in [None, (0, 2, 1), (2, 0, 1)]] +
           [Sample([draw(rng, (3, 5))], {}, "2-D")]))
add(OpInfo("expand_dims", lambda mg, x, axis: mg.expand_dims(x, axis),
           lambda tf, x, axis: tf.expand_dims(x, axis),
           lambda rng: [Sample([draw(rng, (2, 3))], dict(axis=a), f"axis={a}")
                        for a in (0, 1, 2, -1)]))
add(OpInfo("squeeze", lambda mg, x, **k: mg.squeeze(x, **k), lambda tf, x, **k: tf.squeeze(x, **k),
           lambda rng: [Sample([draw(rng, (1, 3, 1, 2))], dict(axis=a), f"axis={a}")
                        for a in (None, 0, 2, [0, 2])]))
add(OpInfo("concat", lambda mg, a, b, c, axis: mg.concat([a, b, c], axis),
           lambda tf, a, b, c, axis: tf.concat([a, b, c], axis),
           lambda rng: [Sample([draw(rng, (2, 3)), draw(rng, (1, 3)), draw(rng, (4, 3))],
                               dict(axis=0), "axis 0"),
                        Sample([draw(rng, (2, 1)), draw(rng, (2, 3)), draw(rng, (2, 2))],
                               dict(axis=-1), "axis -1")]))
add(OpInfo("stack", lambda mg, a, b, axis: mg.stack([a, b], axis),
           lambda tf, a, b, axis: tf.stack([a, b], axis),
           lambda rng: [Sample([draw(rng, (2, 3)), draw(rng, (2, 3))], dict(axis=a), f"axis={a}")
                        for a in (0, 1, 2, -1)]))
add(OpInfo("unstack", lambda mg, x, axis: mg.unstack(x, axis=axis),
           lambda tf, x, axis: tf.unstack(x, axis=axis),
           lambda rng: [Sample([draw(rng, (3, 2, 4))], dict(axis=a), f"axis={a}")
                        for a in (0, 1, -1)]))
add(OpInfo("split", lambda mg, x, n, axis: mg.split(x, n, axis),
           lambda tf, x, n, axis: tf.split(x, n, axis),
           lambda rng: [Sample([draw(rng, (4, 6))], dict(n=2, axis=0), "2 even"),
                        Sample([draw(rng, (4, 6))], dict(n=[1, 3, 2], axis=1), "sizes"),
                        Sample([draw(rng, (4, 6))], dict(n=[2, -1], axis=1), "sizes -1")]))
_KEYS = [(slice(None), 1), (slice(1, None), slice(None, None, 2)), (0,), (Ellipsis, -1),
         (slice(None, None, -1),), (None, slice(0, 2))]
add(OpInfo("getitem", lambda mg, x, key: x[key], lambda tf, x, key: x[key],
           lambda rng: [Sample([draw(rng, (4, 5))], dict(key=k), str(k)) for k in _KEYS]))
add(OpInfo("gather", lambda mg, p, i, **k: mg.gather(p, i, **k),
           lambda tf, p, i, **k: tf.gather(p, i, **k),
           lambda rng: [Sample([draw(rng, (5, 3)), np.array([0, 2, 2, 4], np.int32)], {}, "rows"),
                        Sample([draw(rng, (5, 3)), np.array([[1, 0], [1, 1]], np.int64)], {},
                               "2-D indices, repeats"),
                        Sample([draw(rng, (2, 4)), np.array([3, 0], np.int32)], dict(axis=1),
                               "axis 1")], nograd=(1,)))
add(OpInfo("one_hot", lambda mg, i, depth: mg.one_hot(i, depth),
           lambda tf, i, depth: tf.one_hot(i, depth),
           lambda rng: [Sample([np.array([0, 2, 1, 3, -1], np.int32)], dict(depth=3), "with -1")],
           grad=False, gradcheck=False))

# --- softmax and losses -----------------------------------------------------------------------
add(OpInfo("softmax", lambda mg, x, **k: mg.nn.softmax(x, **k),
           lambda tf, x, **k: tf.nn.softmax(x, **k),
           lambda rng: [Sample([draw(rng, (4, 5)) * 3], {}, "2-D"),
                        Sample([draw(rng, (2, 3, 4))], dict(axis=1), "axis 1"),
                        Sample([draw(rng, (6,))], {}, "1-D")]))
add(OpInfo("log_softmax", lambda mg, x, **k: mg.nn.log_softmax(x, **k),
           lambda tf, x, **k: tf.nn.log_softmax(x, **k),
           lambda rng: [Sample([draw(rng, (4, 5)) * 3], {}, "2-D"),
                        Sample([draw(rng, (2, 3, 4))], dict(axis=0), "axis 0")]))


def _distributions(rng, shape):
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


add(OpInfo("softmax_cross_entropy_with_logits",
           lambda mg, y, x, **k: mg.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, **k),
           lambda tf, y, x, **k: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, **k),
           lambda rng: [Sample([_distributions(rng, (4, 5)), draw(rng, (4, 5)) * 3], {}, "soft"),
                        Sample([np.eye(4)[[0, 3, 1]], draw(rng, (3, 4))], {}, "one-hot"),
                        Sample([_distributions(rng, (2, 3, 4)), draw(rng, (2, 3, 4))], {}, "3-D")],
           why="labels are distributions: TF's kernel (and ours) assumes rows sum to 1"))
add(OpInfo("sparse_softmax_cross_entropy_with_logits",
           lambda mg, y, x: mg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
           lambda tf, y, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
           lambda rng: [Sample([np.array([0, 4, 2, 2], np.int32), draw(rng, (4, 5)) * 3], {},
                               "i32"),
                        Sample([np.array([[1, 0], [2, 2]], np.int64), draw(rng, (2, 2, 3))], {},
                               "2-D labels")], nograd=(0,)))
add(OpInfo("sigmoid_cross_entropy_with_logits",
           lambda mg, z, x: mg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           lambda tf, z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           lambda rng: [Sample([rng.uniform(0, 1, (3, 4)), draw(rng, (3, 4)) * 5], {}, "2-D"),
                        Sample([rng.uniform(0, 1, (5,)), np.array([-40., -2., 0.5, 3., 60.])], {},
                               "large |x|")]))
add(OpInfo("l2_loss", lambda mg, x: mg.nn.l2_loss(x), lambda tf, x: tf.nn.l2_loss(x), unary(),
           rtol32=1e-5, why="float32 sum of squares, different order"))
add(OpInfo("bias_add", lambda mg, x, b: mg.nn.bias_add(x, b), lambda tf, x, b: tf.nn.bias_add(x, b),
           lambda rng: [Sample([draw(rng, (2, 3)), draw(rng, (3,))], {}, "2-D"),
                        Sample([draw(rng, (2, 4, 5, 3)), draw(rng, (3,))], {}, "NHWC"),
                        Sample([draw(rng, (4, 16, 16, 8)), draw(rng, (8,))], {},
                               "NHWC, 1024 rows: the tiled add and the BLAS row sum")],
           rtol32=1e-5, why="the bias gradient sums up to 1024 terms in float32, TF in "
                            "another order"))
