"""Fused whole-sequence RNN kernels: forward pass and exact backprop through time.

numba step kernels plus numpy matmuls on ndarrays; nothing here knows about Tensors. float32
and float64, output dtype = input dtype. Layouts are time-major: `x [T, B, I]`, states
`[B, H]`, `seq_len [B]` (full length = T). Weights use TensorFlow's layouts; the public wrappers
split them into an input part `kx [I, G]` and a recurrent part `kh [H, G]` (views), and return
gradients in the weights' own layouts.

Masking follows TF1 `dynamic_rnn` (`mask_zero=True`): at steps `t >= seq_len[b]` the output
row is ZERO and the state is copied from t-1, so the final state is the state at step len-1
(the initial state when len == 0). Keras (`mask_zero=False`) copies the state the same way but
the output row repeats the previous output (zeros before the first step). Backward is the exact
adjoint: past a sequence's end the state gradient passes straight through, zeroed outputs get
no gradient, and in Keras mode the repeated outputs' gradients land on step len-1.

Structure of every forward: one BLAS matmul `x @ kx + b` for all steps, then per step one
matmul `h @ kh` and one numba call that runs the fused elementwise cell on every row. Backward
runs the step kernels backwards in time with one matmul `gz @ kh.T` per step, then gets the
weight gradients from one matmul over all steps (`[x, h_prev].T @ gz`), and the input's
gradient (`gz @ kx.T`) only when the input wants one. When every row of a step is inside its
sequence (the common case) the basic RNN and LSTM step kernels run flat loops over the whole
batch (the LSTM on gate-major [4, B, H] blocks, which it also caches): the lectures' H of 10-31
would otherwise leave most of the sigmoid/tanh work in short, scalar loop remainders. The time loop and the
matmuls are Python + numpy: numpy's OpenBLAS is the one the rest of minigrad uses, and a second
pool (numba's np.dot goes through scipy's OpenBLAS) fights it for the cores, 10-100x slowdowns
when both have 2 threads. Reductions happen inside BLAS or in fixed-order loops, so float64
results are identical run to run.

Every public pair has the shape
    y, h_T[, c_T], cache = <cell>_forward(x, h0[, c0], *weights, seq_len, **attrs)
    gx, gh0[, gc0], *gweights = <cell>_backward(gy, gh_T[, gc_T], x, h0[, c0], *weights,
                                                seq_len, cache, **attrs)
(attrs repeated so an op can pass the same ones to both). `cache` is a dict of the arrays saved
by the forward (gate activations, states); backward reads them and never recomputes a gate.
"""
import threading

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

from minigrad.kernels.rowwise import sum_rows

# error_model="numpy": no ZeroDivisionError checks, so the elementwise loops vectorize.
_JIT = dict(cache=True, error_model="numpy")

# ---------------------------------------------------------------------------------------------
# Vectorizable exp / sigmoid / tanh. numba lowers math.exp and math.tanh to scalar libm calls
# (tanh ~30 ns each here); these polynomial versions vectorize (AVX2) and are accurate to about
# 1 ulp: Cephes' exp/tanh coefficients, float32 ones evaluated in float32.


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


# ---------------------------------------------------------------------------------------------
# Shared numba pieces. A step kernel handles all rows of one time step; the Python drivers
# below run the time loop and the matmuls.
# NOTE: the elementwise code keeps ONE store per loop. With several output arrays in a loop LLVM
# cannot rule out aliasing and leaves the loop scalar (7x slower on the LSTM cell).


@numba.njit(**_JIT)
def _one(a):
    """1 in a's dtype: a float literal would promote float32 arithmetic to float64."""
    return np.ones(1, a.dtype)[0]


@numba.njit(**_JIT)
def _set(dst, src):
    """dst[:] = src on 1-D rows. NOTE: explicit loops, here and in _zero_row: numba's slice
    assignment (`a[i] = b[i]`, `a[i] = 0` on rows) costs seconds of compile per kernel."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@numba.njit(**_JIT)
def _zero_row(dst):
    for j in range(dst.shape[0]):
        dst[j] = 0


@numba.njit(**_JIT)
def _add_into(dst, src):
    """dst += src on 1-D rows, without a temporary."""
    for j in range(dst.shape[0]):
        dst[j] += src[j]


@numba.njit(**_JIT)
def _sigmoid_into(a, z, shift):
    """a <- sigmoid(a + z + shift) in place (shift: LSTM's forget_bias, else 0)."""
    for j in range(a.shape[0]):
        a[j] = _sigmoid(a[j] + z[j] + shift)


@numba.njit(**_JIT)
def _tanh_into(a, z):
    """a <- tanh(a + z) in place."""
    for j in range(a.shape[0]):
        a[j] = _tanh(a[j] + z[j])


@numba.njit(**_JIT)
def _blocks(a, pos, H):
    """The four H-wide gate blocks of a 1-D row, at offsets pos."""
    return a[pos[0]:pos[0] + H], a[pos[1]:pos[1] + H], a[pos[2]:pos[2] + H], a[pos[3]:pos[3] + H]


@numba.njit(**_JIT)
def _masked_step(t, bi, hs, y, mask_zero):
    """Step t is past row bi's end: the state is copied; the output is zero or repeated."""
    _set(hs[t + 1, bi], hs[t, bi])
    if mask_zero or t == 0:
        _zero_row(y[t, bi])
    else:
        _set(y[t, bi], y[t - 1, bi])


@numba.njit(**_JIT)
def _output_grad(t, bi, L, gy, gh, gcarry, mask_zero):
    """Adds the outputs' gradient at h_t of row bi; Keras' repeated outputs land on step L-1.

    Returns whether step t is active; at a masked step it only banks the output gradient.
    """
    if t >= L:
        if not mask_zero:
            _add_into(gcarry[bi], gy[t, bi])
        return False
    _add_into(gh[bi], gy[t, bi])
    if not mask_zero and t == L - 1:
        _add_into(gh[bi], gcarry[bi])
    return True


@numba.njit(**_JIT)
def _all_active(t, seq_len):
    """Every row is inside its sequence at step t (the common case: flat, whole-batch loops)."""
    for bi in range(seq_len.shape[0]):
        if t >= seq_len[bi]:
            return False
    return True


@numba.njit(**_JIT)
def _ends_at(t, seq_len):
    """Some row's last step is t (Keras mode banks repeated-output gradients there)."""
    for bi in range(seq_len.shape[0]):
        if seq_len[bi] == t + 1:
            return True
    return False


@numba.njit(**_JIT)
def _flat(a):
    """A C-contiguous [B, H] block as one 1-D run."""
    return a.reshape(-1)


@numba.njit(**_JIT)
def _take_active(t, seq_len, gh, ghn, gd):
    """gh <- ghn + gd on the rows active at step t (gd: a direct-path gradient, or an empty
    array for none); masked rows pass gh straight through."""
    for bi in range(gh.shape[0]):
        if t < seq_len[bi]:
            _set(gh[bi], ghn[bi])
            if gd.shape[0]:
                _add_into(gh[bi], gd[bi])


# ---------------------------------------------------------------------------------------------
# Python-level helpers: argument checks and the all-steps matmuls (numpy's BLAS, the one the
# rest of minigrad uses: a second OpenBLAS pool, numba's, fights it for the cores).


def _check(x, h0, seq_len, *arrays, shapes):
    """Argument checks; returns contiguous x, h0, the other arrays, and int64 seq_len.

    shapes(T, B, I, H) gives the expected shapes of `arrays`. The numba kernels do not check
    bounds, so a wrong shape must stop here.
    """
    x, h0 = np.ascontiguousarray(x), np.asarray(h0)
    if x.ndim != 3 or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x must be float32/float64 [T, B, I], got {x.dtype} {x.shape}")
    T, B, I = x.shape
    if h0.ndim != 2 or h0.shape[0] != B:
        raise ValueError(f"initial state must be [B={B}, H], got {h0.shape}")
    H, out = h0.shape[1], []
    for a, shape in zip((h0,) + arrays, [h0.shape] + shapes(T, B, I, H)):
        if a.dtype != x.dtype or a.shape != shape:
            raise ValueError(f"expected {x.dtype} {shape} (T, B, I, H = {T}, {B}, {I}, {H}), "
                             f"got {a.dtype} {a.shape}")
        out.append(np.ascontiguousarray(a))
    seq_len = np.ascontiguousarray(seq_len, dtype=np.int64)
    if seq_len.shape != (B,) or (B and (seq_len.min() < 0 or seq_len.max() > T)):
        raise ValueError(f"seq_len must be [B={B}] with values in [0, {T}]")
    return (x, *out, seq_len)


_scratch = threading.local()


def _scratch_empty(slot, shape, dtype):
    """A reused, uninitialized buffer for a temporary that never leaves this module: a fresh
    multi-MB array costs page faults on every call (glibc hands big blocks back to the OS)."""
    bufs = _scratch.__dict__.setdefault("bufs", {})
    n = int(np.prod(shape))
    buf = bufs.get((slot, dtype))
    if buf is None or buf.size < n:
        buf = bufs[(slot, dtype)] = np.empty(max(n, 1), dtype)
    return buf[:n].reshape(shape)


def _affine(x, kx, b):
    """x @ kx + b for every step in one matmul: [T, B, I] -> [T, B, G]."""
    T, B, I = x.shape
    z = np.matmul(x.reshape(T * B, I), kx)
    z += b
    return z.reshape(T, B, kx.shape[1])


def _states(s0, T):
    """[T+1, B, H] state history with s[0] = s0."""
    s = np.empty((T + 1,) + s0.shape, s0.dtype)
    s[0] = s0
    return s


def _xh_T_dot(x, h, g):
    """concat([x, h], -1).T @ g over all steps -> [I+H, G]: the gradient of a kernel acting on
    [x, h], in one matmul (a separate x.T @ g, with I small, runs at half the BLAS speed)."""
    T, B, I = x.shape
    xh = _scratch_empty("xh", (T, B, I + h.shape[2]), x.dtype)
    np.concatenate([x, h], axis=2, out=xh)
    return np.matmul(xh.reshape(T * B, xh.shape[2]).T, g.reshape(T * B, g.shape[2]))


def _dot_T(g, k, needed=True):
    """g @ k.T over all steps: g [T, B, G], k [K, G] -> [T, B, K] (None if not needed)."""
    if not needed:
        return None
    T, B, G = g.shape
    return np.matmul(g.reshape(T * B, G), k.T).reshape(T, B, k.shape[0])


def _colsum(g):
    """Sum over steps and batch rows, [T, B, G] -> [G] (a BLAS product with ones: numpy's
    axis-0 sum of a narrow array is 10x slower; same bits every call)."""
    return sum_rows(g.reshape(-1, g.shape[2]))


# ---------------------------------------------------------------------------------------------
# Basic RNN: h' = act(x @ kx + h @ kh + b); act tanh or relu. Output = state.


@numba.njit(**_JIT)
def _rnn_step(t, z, zh, hs, y, seq_len, relu, mask_zero):
    if _all_active(t, seq_len):       # one flat loop over the batch: no short row loops
        zr, zhr, hn, yr = _flat(z[t]), _flat(zh), _flat(hs[t + 1]), _flat(y[t])
        for k in range(hn.shape[0]):
            a = zr[k] + zhr[k]
            hn[k] = max(a, 0) if relu else _tanh(a)
        for k in range(hn.shape[0]):
            yr[k] = hn[k]
        return
    for bi in range(zh.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)
            continue
        zr, zhr, hn = z[t, bi], zh[bi], hs[t + 1, bi]
        for j in range(hn.shape[0]):
            a = zr[j] + zhr[j]
            hn[j] = max(a, 0) if relu else _tanh(a)
        _set(y[t, bi], hn)


@numba.njit(**_JIT)
def _rnn_step_bwd(t, gy, gh, gcarry, hs, gz, seq_len, relu, mask_zero):
    one = _one(gz)
    if _all_active(t, seq_len) and (mask_zero or not _ends_at(t, seq_len)):
        dh, gyr, hn, gzr = _flat(gh), _flat(gy[t]), _flat(hs[t + 1]), _flat(gz[t])
        for k in range(dh.shape[0]):
            dh[k] += gyr[k]
        for k in range(dh.shape[0]):
            if relu:
                gzr[k] = dh[k] if hn[k] > 0 else 0
            else:
                gzr[k] = dh[k] * (one - hn[k] * hn[k])
        return
    for bi in range(gh.shape[0]):
        if not _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            _zero_row(gz[t, bi])
            continue
        dh, hn, gzr = gh[bi], hs[t + 1, bi], gz[t, bi]
        for j in range(dh.shape[0]):
            if relu:
                gzr[j] = dh[j] if hn[j] > 0 else 0
            else:
                gzr[j] = dh[j] * (one - hn[j] * hn[j])


def _relu_flag(activation):
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    return activation == "relu"


def rnn_forward(x, h0, kernel, bias, seq_len, activation="tanh", mask_zero=True):
    """TF1 BasicRNNCell over a sequence: h' = act([x, h] @ kernel + bias).

    kernel [I+H, H], bias [H], activation "tanh" or "relu". Returns (y [T,B,H], h_T, cache);
    cache = {"h": [T+1, B, H] states, h[0] = h0}.
    """
    x, h0, kernel, bias, seq_len = _check(
        x, h0, seq_len, kernel, bias, shapes=lambda T, B, I, H: [(I + H, H), (H,)])
    (T, B, I), H = x.shape, h0.shape[1]
    relu = _relu_flag(activation)
    z, hs = _affine(x, kernel[:I], bias), _states(h0, T)
    y, zh = np.empty((T, B, H), x.dtype), np.empty((B, H), x.dtype)
    for t in range(T):
        np.matmul(hs[t], kernel[I:], out=zh)
        _rnn_step(t, z, zh, hs, y, seq_len, relu, mask_zero)
    return y, hs[T].copy(), {"h": hs}


def rnn_backward(gy, gh_T, x, h0, kernel, bias, seq_len, cache, activation="tanh",
                 mask_zero=True, need_gx=True):
    """Gradients of rnn_forward: returns (gx, gh0, gkernel, gbias); gx is None unless need_gx
    (a first layer's input is data: its gradient would be one matmul thrown away)."""
    x, h0, gy, gh_T, kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, kernel, shapes=lambda T, B, I, H: [(T, B, H), (B, H),
                                                                     (I + H, H)])
    (T, B, I), H = x.shape, h0.shape[1]
    relu, hs = _relu_flag(activation), cache["h"]
    gz, gh, gcarry = _scratch_empty("g0", (T, B, H), x.dtype), gh_T.copy(), np.zeros_like(gh_T)
    ghn, khT, none = np.empty_like(gh), kernel[I:].T, np.empty((0, H), x.dtype)
    for t in range(T - 1, -1, -1):
        _rnn_step_bwd(t, gy, gh, gcarry, hs, gz, seq_len, relu, mask_zero)
        np.matmul(gz[t], khT, out=ghn)
        _take_active(t, seq_len, gh, ghn, none)
    return _dot_T(gz, kernel[:I], need_gx), gh, _xh_T_dot(x, hs[:T], gz), _colsum(gz)


# ---------------------------------------------------------------------------------------------
# LSTM: z = x @ kx + h @ kh + b; gate blocks at offsets pos = (i, g, f, o);
# c' = c * sig(z_f + forget_bias) + sig(z_i) * tanh(z_g); h' = tanh(c') * sig(z_o).
# TF1 BasicLSTMCell orders the blocks i, j(=g), f, o; Keras LSTM i, f, c(=g), o.


@numba.njit(**_JIT)
def _to_gate_major(a, b, pos, S):
    """S[q, bi, :] = a[bi, pos[q]:pos[q]+H] + b[bi, pos[q]:pos[q]+H]: [B, 4H] rows to four
    contiguous [B*H] runs, so the activations run as long flat loops (H is often 10-31, and a
    row loop that short leaves most of the work in scalar remainders)."""
    H = S.shape[2]
    for q in range(4):
        p = pos[q]
        for bi in range(S.shape[1]):
            ar, br, sr = a[bi, p:p + H], b[bi, p:p + H], S[q, bi]
            for j in range(H):
                sr[j] = ar[j] + br[j]


@numba.njit(**_JIT)
def _from_gate_major(S, pos, a):
    """The inverse of _to_gate_major (without b)."""
    H = S.shape[2]
    for q in range(4):
        p = pos[q]
        for bi in range(S.shape[1]):
            ar, sr = a[bi, p:p + H], S[q, bi]
            for j in range(H):
                ar[j] = sr[j]


@numba.njit(**_JIT)
def _lstm_step_flat(t, za, zh, hs, cs, tc, y, pos, fb, A):
    """_lstm_step when every row is active: the gate pre-activations go gate-major into A
    [4, B, H] (step t's slot of the activation cache), then flat loops over the whole batch."""
    _to_gate_major(za[t], zh, pos, A)
    i, g, f, o = _flat(A[0]), _flat(A[1]), _flat(A[2]), _flat(A[3])
    for k in range(i.shape[0]):
        i[k] = _sigmoid(i[k])
    for k in range(g.shape[0]):
        g[k] = _tanh(g[k])
    for k in range(f.shape[0]):
        f[k] = _sigmoid(f[k] + fb)
    for k in range(o.shape[0]):
        o[k] = _sigmoid(o[k])
    c, cn, tcn, hn, yr = _flat(cs[t]), _flat(cs[t + 1]), _flat(tc[t]), _flat(hs[t + 1]), \
        _flat(y[t])
    for k in range(cn.shape[0]):
        cn[k] = c[k] * f[k] + i[k] * g[k]
    for k in range(cn.shape[0]):
        tcn[k] = _tanh(cn[k])
    for k in range(cn.shape[0]):
        hn[k] = tcn[k] * o[k]
    for k in range(cn.shape[0]):
        yr[k] = hn[k]


@numba.njit(**_JIT)
def _lstm_mask_rows(t, hs, cs, tc, y, act, seq_len, mask_zero):
    """After a flat step: the rows past their sequence's end are put right (state copied,
    output zero or repeated, gates and tanh(c) zero)."""
    for bi in range(seq_len.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)
            _set(cs[t + 1, bi], cs[t, bi])
            _zero_row(tc[t, bi])
            for q in range(4):
                _zero_row(act[t, q, bi])


@numba.njit(**_JIT)
def _lstm_cell_bwd(dh, dc, a, tc, c, gz, pos, one):
    """One row: dh, dc = gradients at h_t, c_t; dc becomes the gradient at c_{t-1}."""
    H = dh.shape[0]
    i, g, f, o = _blocks(a, pos, H)
    gi, gg, gf, go = _blocks(gz, pos, H)
    for j in range(H):
        dc[j] += dh[j] * o[j] * (one - tc[j] * tc[j])
    for j in range(H):
        go[j] = dh[j] * tc[j] * (o[j] * (one - o[j]))
    for j in range(H):
        gi[j] = dc[j] * g[j] * (i[j] * (one - i[j]))
    for j in range(H):
        gg[j] = dc[j] * i[j] * (one - g[j] * g[j])
    for j in range(H):
        gf[j] = dc[j] * c[j] * (f[j] * (one - f[j]))
    for j in range(H):
        dc[j] *= f[j]


@numba.njit(**_JIT)
def _lstm_step_bwd_flat(t, gy, gh, gc, cs, act, tc, gz, pos, G):
    """_lstm_step_bwd when every row is active and none ends at t: flat loops over the
    gate-major activations into gate-major gradients G, then G to gz[t]'s [B, 4H] rows."""
    one = _one(gz)
    dh, dc, gyr = _flat(gh), _flat(gc), _flat(gy[t])
    for k in range(dh.shape[0]):
        dh[k] += gyr[k]
    A = act[t]
    i, g, f, o = _flat(A[0]), _flat(A[1]), _flat(A[2]), _flat(A[3])
    gi, gg, gf, go = _flat(G[0]), _flat(G[1]), _flat(G[2]), _flat(G[3])
    tcr, c = _flat(tc[t]), _flat(cs[t])
    for k in range(dh.shape[0]):
        dc[k] += dh[k] * o[k] * (one - tcr[k] * tcr[k])
    for k in range(dh.shape[0]):
        go[k] = dh[k] * tcr[k] * (o[k] * (one - o[k]))
    for k in range(dh.shape[0]):
        gi[k] = dc[k] * g[k] * (i[k] * (one - i[k]))
    for k in range(dh.shape[0]):
        gg[k] = dc[k] * i[k] * (one - g[k] * g[k])
    for k in range(dh.shape[0]):
        gf[k] = dc[k] * c[k] * (f[k] * (one - f[k]))
    for k in range(dh.shape[0]):
        dc[k] *= f[k]
    _from_gate_major(G, pos, gz[t])


@numba.njit(**_JIT)
def _lstm_step_bwd(t, gy, gh, gc, gcarry, cs, act, tc, gz, seq_len, pos, mask_zero):
    """One step backward, row by row: the steps where some row is past its end (or, in Keras
    mode, ends here)."""
    one = _one(gz)
    row = np.empty(4 * gh.shape[1], gz.dtype)      # one row's gates, in the kernel's layout
    for bi in range(gh.shape[0]):
        if _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            for q in range(4):
                _set(row[pos[q]:pos[q] + gh.shape[1]], act[t, q, bi])
            _lstm_cell_bwd(gh[bi], gc[bi], row, tc[t, bi], cs[t, bi], gz[t, bi], pos, one)
        else:
            _zero_row(gz[t, bi])


# The flat gate-major path (every row active) against B row loops of H: float32, one thread,
# per step, forward: B=128 H=31 ~31 us against 71; B=500 H=10 ~48 against 153. The drivers
# pick the path per step in Python, so numba compiles only the kernels a model uses (numba
# re-optimizes a callee inside every caller: one kernel holding both paths took 3.7 s to
# compile against 1.4 s for the flat one). _FLAT = False makes the backward take the row
# loops everywhere, for the tests (the two paths must give the same bits).
_FLAT = True


def _full_steps(seq_len, T):
    """Steps 0 .. full-1 have every row inside its sequence."""
    return int(seq_len.min()) if seq_len.shape[0] else T


def _ends(seq_len, T):
    """ends[t]: some row's last step is t."""
    ends = np.zeros(T + 1, bool)
    ends[seq_len[seq_len > 0] - 1] = True
    return ends


def _lstm_forward(x, h0, c0, kx, kh, b, seq_len, pos, fb, mask_zero):
    T, B, _ = x.shape
    H = h0.shape[1]
    za, hs, cs = _affine(x, kx, b), _states(h0, T), _states(c0, T)
    tc, y = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype)
    act = np.empty((T, 4, B, H), x.dtype)
    zh, fb, full = np.empty((B, 4 * H), x.dtype), x.dtype.type(fb), _full_steps(seq_len, T)
    for t in range(T):
        np.matmul(hs[t], kh, out=zh)
        _lstm_step_flat(t, za, zh, hs, cs, tc, y, pos, fb, act[t])
        if t >= full:
            _lstm_mask_rows(t, hs, cs, tc, y, act, seq_len, mask_zero)
    return y, hs[T].copy(), cs[T].copy(), {"h": hs, "c": cs, "gates": act, "tanh_c": tc}


def _lstm_backward(gy, gh_T, gc_T, x, kx, kh, seq_len, cache, pos, mask_zero, need_gx):
    """Returns (gx, gh0, gc0, g[kx; kh] stacked [I+H, 4H], gb)."""
    T, B, _ = x.shape
    H = gh_T.shape[1]
    hs, none = cache["h"], np.empty((0, H), x.dtype)
    gz, gh, gc = _scratch_empty("g0", (T, B, 4 * H), x.dtype), gh_T.copy(), gc_T.copy()
    gcarry, ghn, khT = np.zeros_like(gh), np.empty_like(gh), kh.T
    G = _scratch_empty("gm", (4, B, H), x.dtype)
    full, ends = _full_steps(seq_len, T), _ends(seq_len, T)
    cs, act, tc = cache["c"], cache["gates"], cache["tanh_c"]
    for t in range(T - 1, -1, -1):
        if _FLAT and t < full and (mask_zero or not ends[t]):
            _lstm_step_bwd_flat(t, gy, gh, gc, cs, act, tc, gz, pos, G)
        else:
            _lstm_step_bwd(t, gy, gh, gc, gcarry, cs, act, tc, gz, seq_len, pos, mask_zero)
        np.matmul(gz[t], khT, out=ghn)
        _take_active(t, seq_len, gh, ghn, none)
    return _dot_T(gz, kx, need_gx), gh, gc, _xh_T_dot(x, hs[:T], gz), _colsum(gz)


_TF1_LSTM_POS = (0, 1, 2, 3)  # i, j, f, o (in units of H)
_KERAS_LSTM_POS = (0, 2, 1, 3)  # i, f, c, o -> offsets of (i, g, f, o)


def _lstm_pos(order, H):
    return tuple(int(k * H) for k in order)


def lstm_forward(x, h0, c0, kernel, bias, seq_len, forget_bias=1.0, mask_zero=True):
    """TF1 BasicLSTMCell over a sequence. kernel [I+H, 4H] on concat([x, h]), bias [4H].

    Returns (y [T,B,H], h_T, c_T, cache); cache = {"h", "c": [T+1,B,H] states (index 0 =
    initial), "gates": [T,4,B,H] sig(i), tanh(j), sig(f+forget_bias), sig(o), gate-major,
    "tanh_c": [T,B,H] tanh(c_t)} (gates and tanh_c zero past a row's end).
    """
    x, h0, c0, kernel, bias, seq_len = _check(
        x, h0, seq_len, c0, kernel, bias,
        shapes=lambda T, B, I, H: [(B, H), (I + H, 4 * H), (4 * H,)])
    I, H = x.shape[2], h0.shape[1]
    return _lstm_forward(x, h0, c0, kernel[:I], kernel[I:], bias, seq_len,
                         _lstm_pos(_TF1_LSTM_POS, H), forget_bias, mask_zero)


def lstm_backward(gy, gh_T, gc_T, x, h0, c0, kernel, bias, seq_len, cache, forget_bias=1.0,
                  mask_zero=True, need_gx=True):
    """Gradients of lstm_forward: returns (gx, gh0, gc0, gkernel, gbias); gx None unless
    need_gx.

    forget_bias is not needed (the cached gates include it); it is accepted so the same attrs
    serve both passes.
    """
    x, h0, gy, gh_T, gc_T, kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, gc_T, kernel,
        shapes=lambda T, B, I, H: [(T, B, H), (B, H), (B, H), (I + H, 4 * H)])
    I, H = x.shape[2], h0.shape[1]
    return _lstm_backward(gy, gh_T, gc_T, x, kernel[:I], kernel[I:], seq_len, cache,
                          _lstm_pos(_TF1_LSTM_POS, H), mask_zero, need_gx)


def keras_lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, seq_len, mask_zero=False):
    """Keras LSTM over a sequence: kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H),
    gate order i, f, c, o; sigmoid / tanh activations.

    Returns (y, h_T, c_T, cache) as lstm_forward (cached gates gate-major in the order sig(i),
    tanh(c), sig(f), sig(o)). mask_zero=False gives Keras masking (outputs repeat past the end).
    """
    x, h0, c0, kernel, recurrent_kernel, bias, seq_len = _check(
        x, h0, seq_len, c0, kernel, recurrent_kernel, bias,
        shapes=lambda T, B, I, H: [(B, H), (I, 4 * H), (H, 4 * H), (4 * H,)])
    return _lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, seq_len,
                         _lstm_pos(_KERAS_LSTM_POS, h0.shape[1]), 0.0, mask_zero)


def keras_lstm_backward(gy, gh_T, gc_T, x, h0, c0, kernel, recurrent_kernel, bias, seq_len,
                        cache, mask_zero=False, need_gx=True):
    """Gradients of keras_lstm_forward: returns (gx, gh0, gc0, gkernel, grecurrent, gbias)
    (gx None unless need_gx)."""
    x, h0, gy, gh_T, gc_T, kernel, recurrent_kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, gc_T, kernel, recurrent_kernel,
        shapes=lambda T, B, I, H: [(T, B, H), (B, H), (B, H), (I, 4 * H), (H, 4 * H)])
    I = x.shape[2]
    gx, gh0, gc0, gk, gb = _lstm_backward(gy, gh_T, gc_T, x, kernel, recurrent_kernel,
                                          seq_len, cache,
                                          _lstm_pos(_KERAS_LSTM_POS, h0.shape[1]), mask_zero,
                                          need_gx)
    return gx, gh0, gc0, gk[:I].copy(), gk[I:].copy(), gb


# ---------------------------------------------------------------------------------------------
# GRU, reset before the matmul (TF1 GRUCell; Keras GRU reset_after=False):
# r, u = sig(x @ kxg + h @ khg + bg) (blocks at offsets pr, pu);
# c = tanh(x @ kxc + (r * h) @ khc + bc); h' = u * h + (1 - u) * c.


@numba.njit(**_JIT)
def _gru_gates_step(t, ga, zg, hs, rh, seq_len, pr, pu):
    """r and u (ga: x @ kxg + bg on entry, activations on exit) and rh = r * h_{t-1}."""
    H = hs.shape[2]
    zero = _one(ga) - _one(ga)
    for bi in range(zg.shape[0]):
        if t >= seq_len[bi]:
            _zero_row(ga[t, bi])
            _zero_row(rh[t, bi])
            continue
        a, z, h, rhr = ga[t, bi], zg[bi], hs[t, bi], rh[t, bi]
        _sigmoid_into(a[pr:pr + H], z[pr:pr + H], zero)
        _sigmoid_into(a[pu:pu + H], z[pu:pu + H], zero)
        for j in range(H):
            rhr[j] = a[pr + j] * h[j]


@numba.njit(**_JIT)
def _gru_update_step(t, ca, zc, ga, hs, y, seq_len, pu, mask_zero):
    """c = tanh(x @ kxc + bc + zc) (into ca); h' = u * h + (1 - u) * c."""
    H = hs.shape[2]
    one = _one(ca)
    for bi in range(zc.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)
            _zero_row(ca[t, bi])
            continue
        c, u, h, hn = ca[t, bi], ga[t, bi, pu:pu + H], hs[t, bi], hs[t + 1, bi]
        _tanh_into(c, zc[bi])
        for j in range(H):
            hn[j] = u[j] * h[j] + (one - u[j]) * c[j]
        _set(y[t, bi], hn)


@numba.njit(**_JIT)
def _gru_update_step_bwd(t, gy, gh, gcarry, ga, ca, hs, gzc, gzg, gd, seq_len, pu, mask_zero):
    """Through h' = u * h + (1 - u) * c: pre-tanh gzc, pre-sigmoid u part of gzg, gd = dh * u."""
    H = hs.shape[2]
    one = _one(gzc)
    for bi in range(gh.shape[0]):
        if not _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            _zero_row(gzc[t, bi])
            _zero_row(gzg[t, bi])
            continue
        dh, u, c, h = gh[bi], ga[t, bi, pu:pu + H], ca[t, bi], hs[t, bi]
        gc, gu, d = gzc[t, bi], gzg[t, bi, pu:pu + H], gd[bi]
        for j in range(H):
            gc[j] = dh[j] * (one - u[j]) * (one - c[j] * c[j])
        for j in range(H):
            gu[j] = dh[j] * (h[j] - c[j]) * (u[j] * (one - u[j]))
        for j in range(H):
            d[j] = dh[j] * u[j]


@numba.njit(**_JIT)
def _gru_reset_step_bwd(t, grh, ga, hs, gzg, gd, seq_len, pr):
    """Through rh = r * h, given grh = gzc @ khc.T: pre-sigmoid r part of gzg; gd += grh * r."""
    H = hs.shape[2]
    one = _one(gzg)
    for bi in range(grh.shape[0]):
        if t >= seq_len[bi]:
            continue
        g, r, h, gr, d = grh[bi], ga[t, bi, pr:pr + H], hs[t, bi], gzg[t, bi, pr:pr + H], gd[bi]
        for j in range(H):
            gr[j] = g[j] * h[j] * (r[j] * (one - r[j]))
        for j in range(H):
            d[j] += g[j] * r[j]


def _gru_forward(x, h0, kxg, khg, bg, kxc, khc, bc, seq_len, pr, pu, mask_zero):
    T, B, _ = x.shape
    H = h0.shape[1]
    ga, ca, hs = _affine(x, kxg, bg), _affine(x, kxc, bc), _states(h0, T)
    rh, y = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype)
    zg, zc = np.empty((B, 2 * H), x.dtype), np.empty((B, H), x.dtype)
    for t in range(T):
        np.matmul(hs[t], khg, out=zg)
        _gru_gates_step(t, ga, zg, hs, rh, seq_len, pr, pu)
        np.matmul(rh[t], khc, out=zc)
        _gru_update_step(t, ca, zc, ga, hs, y, seq_len, pu, mask_zero)
    return y, hs[T].copy(), {"h": hs, "gates": ga, "cand": ca, "rh": rh}


def _gru_backward(gy, gh_T, x, kxg, khg, kxc, khc, seq_len, cache, pr, pu, mask_zero,
                  need_gx):
    """Returns (gx, gh0, g[kxg; khg] [I+H, 2H], gbg, g[kxc; khc] [I+H, H], gbc)."""
    T, B, _ = x.shape
    H = gh_T.shape[1]
    hs, ga, ca, rh = cache["h"], cache["gates"], cache["cand"], cache["rh"]
    gzg = _scratch_empty("g0", (T, B, 2 * H), x.dtype)
    gzc = _scratch_empty("g1", (T, B, H), x.dtype)
    gh, gcarry, gd = gh_T.copy(), np.zeros_like(gh_T), np.empty_like(gh_T)
    grh, ghn, khgT, khcT = np.empty_like(gh), np.empty_like(gh), khg.T, khc.T
    for t in range(T - 1, -1, -1):
        _gru_update_step_bwd(t, gy, gh, gcarry, ga, ca, hs, gzc, gzg, gd, seq_len, pu,
                             mask_zero)
        np.matmul(gzc[t], khcT, out=grh)
        _gru_reset_step_bwd(t, grh, ga, hs, gzg, gd, seq_len, pr)
        np.matmul(gzg[t], khgT, out=ghn)
        _take_active(t, seq_len, gh, ghn, gd)
    gx = _dot_T(gzg, kxg, need_gx)
    if need_gx:
        gx += _dot_T(gzc, kxc)
    return (gx, gh, _xh_T_dot(x, hs[:T], gzg), _colsum(gzg), _xh_T_dot(x, rh, gzc),
            _colsum(gzc))


def gru_forward(x, h0, gate_kernel, gate_bias, cand_kernel, cand_bias, seq_len,
                mask_zero=True):
    """TF1 GRUCell over a sequence: gate_kernel [I+H, 2H] (r, u), gate_bias [2H],
    cand_kernel [I+H, H], cand_bias [H].

    Returns (y, h_T, cache); cache = {"h": [T+1,B,H] states, "gates": [T,B,2H] sig(r), sig(u),
    "cand": [T,B,H] candidate c, "rh": [T,B,H] r * h_{t-1}} (zero past a row's end).
    """
    x, h0, gate_kernel, gate_bias, cand_kernel, cand_bias, seq_len = _check(
        x, h0, seq_len, gate_kernel, gate_bias, cand_kernel, cand_bias,
        shapes=lambda T, B, I, H: [(I + H, 2 * H), (2 * H,), (I + H, H), (H,)])
    I, H = x.shape[2], h0.shape[1]
    return _gru_forward(x, h0, gate_kernel[:I], gate_kernel[I:], gate_bias, cand_kernel[:I],
                        cand_kernel[I:], cand_bias, seq_len, 0, H, mask_zero)


def gru_backward(gy, gh_T, x, h0, gate_kernel, gate_bias, cand_kernel, cand_bias, seq_len,
                 cache, mask_zero=True, need_gx=True):
    """Gradients of gru_forward: (gx, gh0, ggate_kernel, ggate_bias, gcand_kernel, gcand_bias)."""
    x, h0, gy, gh_T, gate_kernel, cand_kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, gate_kernel, cand_kernel,
        shapes=lambda T, B, I, H: [(T, B, H), (B, H), (I + H, 2 * H), (I + H, H)])
    I, H = x.shape[2], h0.shape[1]
    return _gru_backward(gy, gh_T, x, gate_kernel[:I], gate_kernel[I:], cand_kernel[:I],
                         cand_kernel[I:], seq_len, cache, 0, H, mask_zero, need_gx)


# ---------------------------------------------------------------------------------------------
# Keras GRU, reset after the matmul (reset_after=True; bias (2, 3H), blocks z, r, h):
# xz = x @ K + b[0]; hz = h @ R + b[1]; z = sig(xz_z + hz_z); r = sig(xz_r + hz_r);
# hh = tanh(xz_h + r * hz_h); h' = z * h + (1 - z) * hh.


@numba.njit(**_JIT)
def _gru_ra_cell(za, zh, h, hn, hzh, one):
    """One row: za = x @ K + b[0] on entry, (z, r, hh) on exit; zh = h @ R + b[1];
    hzh <- its h block."""
    H = h.shape[0]
    z, r, hh = za[:H], za[H:2 * H], za[2 * H:]
    _sigmoid_into(z, zh[:H], one - one)
    _sigmoid_into(r, zh[H:2 * H], one - one)
    _set(hzh, zh[2 * H:])
    for j in range(H):
        hh[j] = _tanh(hh[j] + r[j] * hzh[j])
    for j in range(H):
        hn[j] = z[j] * h[j] + (one - z[j]) * hh[j]


@numba.njit(**_JIT)
def _gru_ra_step(t, za, zh, bh, hs, hzh, y, seq_len, mask_zero):
    one = _one(za)
    for bi in range(zh.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)
            _zero_row(za[t, bi])
            _zero_row(hzh[t, bi])
            continue
        _add_into(zh[bi], bh)
        _gru_ra_cell(za[t, bi], zh[bi], hs[t, bi], hs[t + 1, bi], hzh[t, bi], one)
        _set(y[t, bi], hs[t + 1, bi])


@numba.njit(**_JIT)
def _gru_ra_cell_bwd(dh, a, h, hzh, gx, gr, d, one):
    """One row: gx, gr = gradients at xz and hz; d = direct gradient at h_{t-1}."""
    H = h.shape[0]
    z, r, hh = a[:H], a[H:2 * H], a[2 * H:]
    gxz, gxr, gxh = gx[:H], gx[H:2 * H], gx[2 * H:]
    for j in range(H):
        gxz[j] = dh[j] * (h[j] - hh[j]) * (z[j] * (one - z[j]))
    for j in range(H):
        gxh[j] = dh[j] * (one - z[j]) * (one - hh[j] * hh[j])
    for j in range(H):
        gxr[j] = gxh[j] * hzh[j] * (r[j] * (one - r[j]))
    _set(gr[:2 * H], gx[:2 * H])
    grh = gr[2 * H:]
    for j in range(H):
        grh[j] = gxh[j] * r[j]
    for j in range(H):
        d[j] = dh[j] * z[j]


@numba.njit(**_JIT)
def _gru_ra_step_bwd(t, gy, gh, gcarry, za, hs, hzh, gzx, gzh, gd, seq_len, mask_zero):
    one = _one(gzx)
    for bi in range(gh.shape[0]):
        if _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            _gru_ra_cell_bwd(gh[bi], za[t, bi], hs[t, bi], hzh[t, bi], gzx[t, bi], gzh[t, bi],
                             gd[bi], one)
        else:
            _zero_row(gzx[t, bi])
            _zero_row(gzh[t, bi])


def _gru_ra_forward(x, h0, kernel, recurrent_kernel, bias, seq_len, mask_zero):
    T, B, _ = x.shape
    H = h0.shape[1]
    za, hs = _affine(x, kernel, bias[0]), _states(h0, T)
    hzh, y = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype)
    zh = np.empty((B, 3 * H), x.dtype)
    for t in range(T):
        np.matmul(hs[t], recurrent_kernel, out=zh)
        _gru_ra_step(t, za, zh, bias[1], hs, hzh, y, seq_len, mask_zero)
    return y, hs[T].copy(), {"h": hs, "gates": za, "hz_h": hzh}


def _gru_ra_backward(gy, gh_T, x, kernel, recurrent_kernel, seq_len, cache, mask_zero,
                     need_gx):
    T, B, _ = x.shape
    H = gh_T.shape[1]
    hs, za, hzh = cache["h"], cache["gates"], cache["hz_h"]
    gzx = _scratch_empty("g0", (T, B, 3 * H), x.dtype)
    gzh = _scratch_empty("g1", (T, B, 3 * H), x.dtype)
    gh, gcarry, gd = gh_T.copy(), np.zeros_like(gh_T), np.empty_like(gh_T)
    ghn, khT = np.empty_like(gh), recurrent_kernel.T
    for t in range(T - 1, -1, -1):
        _gru_ra_step_bwd(t, gy, gh, gcarry, za, hs, hzh, gzx, gzh, gd, seq_len, mask_zero)
        np.matmul(gzh[t], khT, out=ghn)
        _take_active(t, seq_len, gh, ghn, gd)
    gx2, gh2 = gzx.reshape(T * B, 3 * H), gzh.reshape(T * B, 3 * H)
    gk = np.matmul(x.reshape(T * B, x.shape[2]).T, gx2)
    gr = np.matmul(hs[:T].reshape(T * B, H).T, gh2)
    return _dot_T(gzx, kernel, need_gx), gh, gk, gr, np.stack([_colsum(gzx), _colsum(gzh)])


def _split_cols(k, H):
    """Keras [*, 3H] (z, r, h) -> gates part [*, 2H] and candidate part [*, H] (views)."""
    return k[:, :2 * H], k[:, 2 * H:]


def keras_gru_forward(x, h0, kernel, recurrent_kernel, bias, seq_len, reset_after=True,
                      mask_zero=False):
    """Keras GRU over a sequence: kernel (I, 3H), recurrent_kernel (H, 3H), blocks z, r, h;
    bias (2, 3H) with reset_after=True, (3H,) with reset_after=False.

    Returns (y, h_T, cache). reset_after=True: cache = {"h": [T+1,B,H] states, "gates":
    [T,B,3H] z, r, hh, "hz_h": [T,B,H] h @ R_h + b[1]_h}. reset_after=False: the gru_forward
    cache, "gates" = (z, r).
    """
    x, h0, kernel, recurrent_kernel, bias, seq_len = _check(
        x, h0, seq_len, kernel, recurrent_kernel, bias,
        shapes=lambda T, B, I, H: [(I, 3 * H), (H, 3 * H), (2, 3 * H) if reset_after else
                                   (3 * H,)])
    if reset_after:
        return _gru_ra_forward(x, h0, kernel, recurrent_kernel, bias, seq_len, mask_zero)
    H = h0.shape[1]
    kxg, kxc = _split_cols(kernel, H)
    khg, khc = _split_cols(recurrent_kernel, H)
    return _gru_forward(x, h0, kxg, khg, bias[:2 * H], kxc, khc, bias[2 * H:], seq_len, H, 0,
                        mask_zero)


def keras_gru_backward(gy, gh_T, x, h0, kernel, recurrent_kernel, bias, seq_len, cache,
                       reset_after=True, mask_zero=False, need_gx=True):
    """Gradients of keras_gru_forward: returns (gx, gh0, gkernel, grecurrent, gbias) (gx None
    unless need_gx)."""
    x, h0, gy, gh_T, kernel, recurrent_kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, kernel, recurrent_kernel,
        shapes=lambda T, B, I, H: [(T, B, H), (B, H), (I, 3 * H), (H, 3 * H)])
    if reset_after:
        return _gru_ra_backward(gy, gh_T, x, kernel, recurrent_kernel, seq_len, cache,
                                mask_zero, need_gx)
    I, H = x.shape[2], h0.shape[1]
    kxg, kxc = _split_cols(kernel, H)
    khg, khc = _split_cols(recurrent_kernel, H)
    gx, gh0, gkg, gbg, gkc, gbc = _gru_backward(gy, gh_T, x, kxg, khg, kxc, khc, seq_len, cache,
                                                H, 0, mask_zero, need_gx)
    return (gx, gh0, np.concatenate([gkg[:I], gkc[:I]], axis=1),
            np.concatenate([gkg[I:], gkc[I:]], axis=1), np.concatenate([gbg, gbc]))
