"""Elementwise ops. Each docstring gives the forward and the gradient in one line.

Gradients follow TensorFlow's own gradient functions (math_grad.py) term by term, so float32
results round the same way where the formula allows.
"""
import numpy as np

from minigrad.core import Op, apply, register
from minigrad.ops._convert import broadcast_shape, pair, tensor


# --- binary --------------------------------------------------------------------------------
def _binary(op_cls, opname, x, y):
    x, y = pair(opname, x, y)
    broadcast_shape(opname, x.shape, y.shape)
    return apply(op_cls(), x, y)


@register
class Add(Op):
    """y = x0 + x1; gx0 = gy, gx1 = gy"""
    tf_name = "add"

    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


@register
class Sub(Op):
    """y = x0 - x1; gx0 = gy, gx1 = -gy"""
    tf_name = "subtract"

    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return gy, -gy


@register
class Mul(Op):
    """y = x0 * x1; gx0 = gy * x1, gx1 = x0 * gy"""
    tf_name = "multiply"

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.xs
        return (gy * x1 if self.needs[0] else None), (x0 * gy if self.needs[1] else None)


@register
class RealDiv(Op):
    """y = x0 / x1; gx0 = gy / x1, gx1 = gy * ((-x0 / x1) / x1)"""
    tf_name = "divide"

    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.xs
        gx0 = gy / x1 if self.needs[0] else None
        gx1 = gy * ((-x0 / x1) / x1) if self.needs[1] else None
        return gx0, gx1


@register
class Pow(Op):
    """y = x0 ** x1; gx0 = gy * x1 * x0**(x1-1), gx1 = gy * y * log(x0) where x0 > 0 else 0"""
    tf_name = "pow"

    def forward(self, x0, x1):
        return np.power(x0, x1)

    def backward(self, gy):
        x0, x1 = self.xs
        gx0 = gy * x1 * np.power(x0, x1 - 1) if self.needs[0] else None
        gx1 = None
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_x0 = np.where(x0 > 0, np.log(np.where(x0 > 0, x0, 1)), 0).astype(x0.dtype)
            gx1 = gy * self.ys[0] * log_x0
        return gx0, gx1


@register
class Maximum(Op):
    """y = max(x0, x1); gx0 = gy where x0 >= x1, gx1 = gy elsewhere (ties go to x0, as TF)"""
    tf_name = "maximum"

    def forward(self, x0, x1):
        return np.maximum(x0, x1)

    def backward(self, gy):
        x0_wins = self.xs[0] >= self.xs[1]
        return np.where(x0_wins, gy, 0).astype(gy.dtype), np.where(x0_wins, 0, gy).astype(gy.dtype)


@register
class Minimum(Op):
    """y = min(x0, x1); gx0 = gy where x0 <= x1, gx1 = gy elsewhere (ties go to x0, as TF)"""
    tf_name = "minimum"

    def forward(self, x0, x1):
        return np.minimum(x0, x1)

    def backward(self, gy):
        x0_wins = self.xs[0] <= self.xs[1]
        return np.where(x0_wins, gy, 0).astype(gy.dtype), np.where(x0_wins, 0, gy).astype(gy.dtype)


@register
class SelectV2(Op):
    """y = where(c, x0, x1); gc = None, gx0 = gy where c, gx1 = gy where not c"""
    tf_name = "where"

    def forward(self, c, x0, x1):
        return np.where(c, x0, x1)

    def backward(self, gy):
        c = self.xs[0]
        zero = np.zeros((), gy.dtype)
        return None, np.where(c, gy, zero), np.where(c, zero, gy)


def add(x, y, name=None):
    return _binary(Add, "add", x, y)


def subtract(x, y, name=None):
    return _binary(Sub, "subtract", x, y)


def multiply(x, y, name=None):
    return _binary(Mul, "multiply", x, y)


def divide(x, y, name=None):
    return _binary(RealDiv, "divide", x, y)


def pow(x, y, name=None):
    return _binary(Pow, "pow", x, y)


def maximum(x, y, name=None):
    return _binary(Maximum, "maximum", x, y)


def minimum(x, y, name=None):
    return _binary(Minimum, "minimum", x, y)


def where(condition, x=None, y=None, name=None):
    """TF2's where: elementwise select with broadcasting (x and y are required here)."""
    if x is None or y is None:
        raise ValueError("where: minigrad needs both x and y (the index form is not supported)")
    c = tensor(condition)
    if c.dtype.name != "bool":
        raise TypeError(f"where: condition must be bool, got {c.dtype.name}")
    x, y = pair("where", x, y)
    broadcast_shape("where", c.shape, x.shape, y.shape)
    return apply(SelectV2(), c, x, y)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """min(max(t, lo), hi), composed as TF composes it (its gradient follows from the parts)."""
    return maximum(minimum(t, clip_value_max), clip_value_min)


# --- unary ---------------------------------------------------------------------------------
def _unary(op_cls, x):
    x = tensor(x)
    if op_cls.float_only and x._value.dtype.kind != "f":
        raise TypeError(f"{op_cls.tf_name}: expected a floating tensor, got {x.dtype.name}")
    return apply(op_cls(), x)


class _Unary(Op):
    float_only = True


@register
class Neg(_Unary):
    """y = -x; gx = -gy"""
    tf_name = "negative"
    float_only = False

    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


@register
class Exp(_Unary):
    """y = exp(x); gx = gy * y"""
    tf_name = "exp"

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return (gy * self.ys[0],)


@register
class Log(_Unary):
    """y = log(x); gx = gy * (1 / x)"""
    tf_name = "log"

    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return (gy * np.reciprocal(self.xs[0]),)


@register
class Log1p(_Unary):
    """y = log(1 + x); gx = gy * (1 / (1 + x))"""
    tf_name = "log1p"

    def forward(self, x):
        return np.log1p(x)

    def backward(self, gy):
        x = self.xs[0]
        return (gy * np.reciprocal(1 + x),)


@register
class Sqrt(_Unary):
    """y = sqrt(x); gx = gy * 0.5 / y"""
    tf_name = "sqrt"

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy):
        return (gy * 0.5 / self.ys[0],)


@register
class Square(_Unary):
    """y = x * x; gx = gy * (2 * x)"""
    tf_name = "square"
    float_only = False

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return (gy * (2 * self.xs[0]),)


@register
class Reciprocal(_Unary):
    """y = 1 / x; gx = -gy * y * y"""
    tf_name = "reciprocal"

    def forward(self, x):
        return np.reciprocal(x)

    def backward(self, gy):
        y = self.ys[0]
        return (-gy * y * y,)


@register
class Abs(_Unary):
    """y = |x|; gx = gy * sign(x)"""
    tf_name = "abs"
    float_only = False

    def forward(self, x):
        return np.abs(x)

    def backward(self, gy):
        return (gy * np.sign(self.xs[0]),)


@register
class Sigmoid(_Unary):
    """y = 1 / (1 + exp(-x)); gx = gy * y * (1 - y)"""
    tf_name = "sigmoid"

    def forward(self, x):
        # NOTE: exp of -|x| only, so neither branch overflows for large |x|
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, gy):
        y = self.ys[0]
        return (gy * y * (1 - y),)


@register
class Tanh(_Unary):
    """y = tanh(x); gx = gy * (1 - y * y)"""
    tf_name = "tanh"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.ys[0]
        return (gy * (1 - y * y),)


@register
class Relu(_Unary):
    """y = max(x, 0); gx = gy * (y > 0)"""
    tf_name = "relu"

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        # TF's ReluGrad: gradients * (features > 0) (a NaN gradient stays NaN)
        return (gy * (self.ys[0] > 0),)


def negative(x, name=None):
    return _unary(Neg, x)


def exp(x, name=None):
    return _unary(Exp, x)


def log(x, name=None):
    return _unary(Log, x)


def log1p(x, name=None):
    return _unary(Log1p, x)


def sqrt(x, name=None):
    return _unary(Sqrt, x)


def square(x, name=None):
    return _unary(Square, x)


def reciprocal(x, name=None):
    return _unary(Reciprocal, x)


def abs(x, name=None):
    return _unary(Abs, x)


def sigmoid(x, name=None):
    return _unary(Sigmoid, x)


def tanh(x, name=None):
    return _unary(Tanh, x)


def relu(features, name=None):
    return _unary(Relu, features)
