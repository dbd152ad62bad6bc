"""Vectorizable exp / sigmoid / tanh for the fused RNN kernels (rnn_basic, lstm, gru).

numba lowers math.exp and math.tanh to scalar libm calls (tanh ~30 ns each here), and the
gates' activations are most of an RNN step's elementwise work; these polynomial versions
vectorize (AVX2) and are accurate to about 1 ulp: Cephes' exp/tanh coefficients, float32 ones
evaluated in float32 so float32 cells never round-trip through float64.

NOTE: numba's on-disk cache checks only the caller's own source file. A kernel in another
module that calls these keeps its cached machine code when this file changes (rnn_common
likewise): after editing either, delete minigrad/kernels/__pycache__/*.nb[ic], or the cell
kernels run the old code.
"""
import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

# error_model="numpy": no ZeroDivisionError checks, so the elementwise loops vectorize.
_JIT = dict(cache=True, error_model="numpy")


@intrinsic
def _pow2_of_shifted(typingctx, t):
    """2.0**n for `t = 1.5 * 2**mantissa_bits + n` (float32/float64): n sits in t's low bits."""
    if t not in (types.float32, types.float64):
        return None
    mant, bias = (23, 127) if t == types.float32 else (52, 1023)

    def codegen(context, builder, sig, args):
        ity = context.get_value_type(types.int32 if t == types.float32 else types.int64)
        bits = builder.bitcast(args[0], ity)
        bits = builder.shl(builder.add(bits, ity(bias)), ity(mant))
        return builder.bitcast(bits, context.get_value_type(t))

    return t(t), codegen


_F = np.float32
# float64 exp: x = n*ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series to r**13 (< 1e-17).
_SHIFT64, _LOG2E64 = 6755399441055744.0, 1.4426950408889634
_LN2HI64, _LN2LO64 = 6.93145751953125e-1, 1.42860682030941723212e-6
# float32 exp (Cephes expf).
_SHIFT32, _LOG2E32 = _F(12582912.0), _F(1.44269504088896341)
_LN2HI32, _LN2LO32 = _F(0.693359375), _F(-2.12194440e-4)
_E32 = (_F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3), _F(4.1665795894e-2),
        _F(1.6666665459e-1), _F(5.0000001201e-1))
_LO32, _HI32, _ONE32, _TWO32 = _F(-87.0), _F(88.0), _F(1.0), _F(2.0)
# tanh on |x| < 0.625: x + x**3 * P(x*x) / Q(x*x) (Cephes tanh, tanhf).
_TP64 = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TQ64 = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)
_TP32 = (_F(-5.70498872745e-3), _F(2.06390887954e-2), _F(-5.37397155531e-2),
         _F(1.33314422036e-1), _F(-3.33332819422e-1))
_SMALL32 = _F(0.625)


@numba.njit(**_JIT)
def _exp64(x):
    if x < -708.0:  # clamps written so that NaN passes through
        x = -708.0
    if x > 709.0:
        x = 709.0
    t = x * _LOG2E64 + _SHIFT64  # rounds x*log2(e) to the nearest integer n
    n = t - _SHIFT64
    r = (x - n * _LN2HI64) - n * _LN2LO64
    p = 1.0 / 6227020800.0
    for k in (479001600.0, 39916800.0, 3628800.0, 362880.0, 40320.0, 5040.0, 720.0,
              120.0, 24.0, 6.0, 2.0, 1.0, 1.0):
        p = p * r + 1.0 / k
    return p * _pow2_of_shifted(t)


@numba.njit(**_JIT)
def _exp32(x):
    if x < _LO32:
        x = _LO32
    if x > _HI32:
        x = _HI32
    t = x * _LOG2E32 + _SHIFT32
    n = t - _SHIFT32
    r = (x - n * _LN2HI32) - n * _LN2LO32
    p = _E32[0]
    for k in range(1, 6):
        p = p * r + _E32[k]
    return (p * (r * r) + r + _ONE32) * _pow2_of_shifted(t)


@numba.njit(**_JIT)
def _tanh64(x):
    z = abs(x)
    s = x * x
    small = x + x * s * (((_TP64[0] * s + _TP64[1]) * s + _TP64[2])
                         / (((s + _TQ64[0]) * s + _TQ64[1]) * s + _TQ64[2]))
    big = 1.0 - 2.0 / (_exp64(2.0 * z) + 1.0)
    if x < 0.0:
        big = -big
    return small if z < 0.625 else big


@numba.njit(**_JIT)
def _tanh32(x):
    z = abs(x)
    s = x * x
    p = _TP32[0]
    for k in range(1, 5):
        p = p * s + _TP32[k]
    small = p * s * x + x
    big = _ONE32 - _TWO32 / (_exp32(_TWO32 * z) + _ONE32)
    if x < _F(0.0):
        big = -big
    return small if z < _SMALL32 else big


@numba.njit(**_JIT)
def _sigmoid64(x):
    return 1.0 / (1.0 + _exp64(-x))


@numba.njit(**_JIT)
def _sigmoid32(x):
    return _ONE32 / (_ONE32 + _exp32(-x))


def _sigmoid(x):
    """sigmoid(x) in x's float type (the overload below picks the kernel)."""
    return 1.0 / (1.0 + np.exp(-x))


def _tanh(x):
    """tanh(x) in x's float type (the overload below picks the kernel)."""
    return np.tanh(x)


@overload(_sigmoid)
def _sigmoid_ov(x):
    if x == types.float32:
        return lambda x: _sigmoid32(x)
    return lambda x: _sigmoid64(x)


@overload(_tanh)
def _tanh_ov(x):
    if x == types.float32:
        return lambda x: _tanh32(x)
    return lambda x: _tanh64(x)


@numba.njit(**_JIT)
def _vtanh(x, out):
    """out = tanh(x) elementwise on 1-D arrays (exposed for tests)."""
    for k in range(x.shape[0]):
        out[k] = _tanh(x[k])


@numba.njit(**_JIT)
def _vsigmoid(x, out):
    """out = sigmoid(x) elementwise on 1-D arrays (exposed for tests)."""
    for k in range(x.shape[0]):
        out[k] = _sigmoid(x[k])

