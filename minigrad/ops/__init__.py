"""The ops, one module per family, and Tensor's operators (installed here, as TF's math_ops does,
so the core never imports the ops)."""
from minigrad.core import Tensor
from minigrad.ops.array import (equal, fill, greater, greater_equal, less, less_equal,
                                not_equal, one_hot, ones, ones_like, range_, rank, shape, size,
                                zeros, zeros_like)
from minigrad.ops.elementwise import (abs, add, clip_by_value, divide, exp, log, log1p, maximum,
                                      minimum, multiply, negative, pow, reciprocal, relu,
                                      sigmoid, sqrt, square, subtract, tanh, where)
from minigrad.ops.linalg import matmul
from minigrad.ops.nn import (bias_add, l2_loss, log_softmax, sigmoid_cross_entropy_with_logits,
                             softmax, softmax_cross_entropy_with_logits,
                             sparse_softmax_cross_entropy_with_logits)
from minigrad.ops.reduce import (argmax, argmin, reduce_max, reduce_mean, reduce_min,
                                 reduce_sum)
from minigrad.ops.shape import (cast, concat, expand_dims, gather, getitem, identity, reshape,
                                split, squeeze, stack, stop_gradient, transpose, unstack)


def _install_operators():
    def flip(fn):
        return lambda self, other: fn(other, self)
    ops = {"__add__": add, "__sub__": subtract, "__mul__": multiply, "__truediv__": divide,
           "__pow__": pow, "__matmul__": matmul, "__radd__": flip(add),
           "__rsub__": flip(subtract), "__rmul__": flip(multiply),
           "__rtruediv__": flip(divide), "__rpow__": flip(pow), "__rmatmul__": flip(matmul),
           "__gt__": greater, "__ge__": greater_equal, "__lt__": less, "__le__": less_equal,
           "__getitem__": getitem}
    for name, fn in ops.items():
        setattr(Tensor, name, lambda self, other, _fn=fn: _fn(self, other))
    Tensor.__neg__ = lambda self: negative(self)
    Tensor.__abs__ = lambda self: abs(self)


_install_operators()
