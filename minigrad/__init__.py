"""minigrad: a from-scratch reverse-mode autodiff engine with TensorFlow's names and numbers.

    import minigrad as mg
    w = mg.Variable([[1.0], [2.0]])
    with mg.GradientTape() as tape:
        loss = mg.reduce_sum(mg.square(mg.matmul(x, w) - y))
    gw = tape.gradient(loss, w)
"""
from minigrad.core import (DType, GradientTape, Tensor, TensorShape, Variable, as_dtype,
                           bool_ as bool, constant, convert_to_tensor, float16, float32, float64,
                           init_scope, int32, int64, is_tensor, name_scope, uint8)
from minigrad.core import errors
from minigrad.core import function as _function_module
from minigrad.core.function import function
from minigrad.core.op import REGISTRY as op_registry
from minigrad.ops import (abs, add, argmax, argmin, cast, clip_by_value, concat, divide, equal,
                          exp, expand_dims, fill, gather, greater, greater_equal, identity, less,
                          less_equal, log, matmul, maximum, minimum, multiply, negative,
                          not_equal, one_hot, ones, ones_like, pow, rank, reduce_max,
                          reduce_mean, reduce_min, reduce_sum, reshape, shape, sigmoid, size,
                          split, sqrt, square, squeeze, stack, stop_gradient, subtract, tanh,
                          transpose, unstack, where, zeros, zeros_like)
from minigrad.ops import range_ as range
from minigrad.ops.conv import pad
from minigrad import math, nn, random, train, optimizers, initializers   # noqa: E402
from minigrad import layers, losses, seq2seq, keras   # noqa: E402
from minigrad import debugging   # noqa: E402

# mg.function(jit_compile=True) loads the whole-step compiler on first use (it imports numba)
_function_module._load_compiler = lambda: __import__("minigrad.jit")

__version__ = "0.1.0"

# The learning tools load on first use: mg.graph (and mg.trace) imports subprocess, html and
# json, mg.summary socket (and tensorboard with its first writer); a training step needs none.
_LAZY = {"graph": ("minigrad.graph", None), "trace": ("minigrad.graph", "trace"),
         "summary": ("minigrad.summary", None)}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
    import importlib
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = getattr(value, attr) if attr else value
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
