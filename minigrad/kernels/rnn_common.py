"""What the fused whole-sequence RNN kernels (rnn_basic, lstm, gru) share: layouts, masking,
argument checks and the all-steps matmuls.

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

Every forward is one BLAS matmul `x @ kx + b` for all steps, then per step one matmul `h @ kh`
and one numba call that runs the fused elementwise cell on every row. Backward runs the step
kernels backwards in time with one matmul `gz @ kh.T` per step, then gets the weight gradients
from one matmul over all steps (`[x, h_prev].T @ gz`), and the input's gradient (`gz @ kx.T`)
only when the input wants one. The time loop and the matmuls are Python + numpy: numpy's
OpenBLAS is the one the rest of minigrad uses, and a second pool (numba's np.dot goes through
scipy's OpenBLAS) fights it for the cores, 10-100x slowdowns when both have 2 threads.
Reductions happen inside BLAS or in fixed-order loops, so float64 results are identical run to
run.

Every public pair has the shape
    y, h_T[, c_T], cache = <cell>_forward(x, h0[, c0], *weights, seq_len, **attrs)
    gx, gh0[, gc0], *gweights = <cell>_backward(gy, gh_T[, gc_T], x, h0[, c0], *weights,
                                                seq_len, cache, **attrs)
(attrs repeated so an op can pass the same ones to both). `cache` is a dict of the arrays saved
by the forward (gate activations, states); backward reads them and never recomputes a gate.

The underscore names here are shared by the cell modules only, not an API outside kernels/.
NOTE: editing the numba pieces here leaves the cell modules' cached kernels stale (see
rnn_math): delete minigrad/kernels/__pycache__/*.nb[ic] after a change.
"""
import math
import threading

import numba
import numpy as np

from minigrad.kernels.rnn_math import _JIT
from minigrad.kernels.rowwise import sum_rows

# ---------------------------------------------------------------------------------------------
# numba pieces. A step kernel handles all rows of one time step; the Python drivers run the
# time loop and the matmuls.
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
def _flat(a):
    """A C-contiguous [B, H] block as one 1-D run: the cells run as flat loops over the whole
    batch (H is often 10-31, and a row loop that short leaves most of the work in scalar
    remainders)."""
    return a.reshape(-1)


@numba.njit(**_JIT)
def _masked_step(t, bi, hs, y, mask_zero):
    """Step t is past row bi's end: the state is copied; the output is zero or repeated."""
    _set(hs[t + 1, bi], hs[t, bi])
    if mask_zero or t == 0:
        _zero_row(y[t, bi])
    else:
        _set(y[t, bi], y[t - 1, bi])


@numba.njit(**_JIT)
def _mask_rows(t, seq_len, hs, y, mask_zero):
    """After a whole-batch step: the rows past their sequence's end are put right. So a
    forward needs no row-loop kernel (one compile less); the cell work wasted on those rows
    runs in the vectorized loops."""
    for bi in range(seq_len.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)


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
def _take_active(t, seq_len, gh, ghn, gd):
    """gh <- ghn + gd on the rows active at step t (gd: a direct-path gradient, or an empty
    array for none); masked rows pass gh straight through."""
    for bi in range(gh.shape[0]):
        if t < seq_len[bi]:
            _set(gh[bi], ghn[bi])
            if gd.shape[0]:
                _add_into(gh[bi], gd[bi])


# ---------------------------------------------------------------------------------------------
# Whole-batch or row by row. The flat path (every row active) against B row loops of H: float32,
# one thread, per LSTM step, forward: B=128 H=31 ~31 us against 71; B=500 H=10 ~48 against
# 153. The drivers pick the path per step in Python, so numba compiles only the kernels a model
# uses (numba re-optimizes a callee inside every caller: one kernel holding both paths took
# 3.7 s to compile against 1.4 s for the flat one). Both paths call the same cell function, so
# each element gets the same arithmetic in the same order: the same bits.
# _FLAT = False makes the backward take the row loops everywhere, for the tests.
_FLAT = True


# A step's recurrent product h @ kh with at most this many multiply-adds (the lectures' tiny
# cells: hihello, char-seq, the RNN basics, B*H*G of 100-1000) runs as loops inside one numba
# call over all steps: per step, a BLAS call and the Python round trip around it cost more than
# the product (the TF1 char-seq LSTM step: ~3 us each, 15 steps forward and back).
SMALL_RECURRENT = 1 << 12


def small_recurrent(B, H, G):
    return B * H * G <= SMALL_RECURRENT


@numba.njit(**_JIT)
def _small_matmul(a, b, out):
    """out = a @ b for small C-contiguous 2-D arrays: per row, the k terms added in order."""
    for i in range(a.shape[0]):
        oi = out[i]
        for j in range(oi.shape[0]):
            oi[j] = 0
        for k in range(a.shape[1]):
            aik, bk = a[i, k], b[k]
            for j in range(oi.shape[0]):
                oi[j] += aik * bk[j]


def _full_steps(seq_len, T):
    """Steps 0 .. full-1 have every row inside its sequence."""
    if not seq_len.shape[0]:
        return T
    return min(seq_len.tolist()) if seq_len.shape[0] <= 256 else int(seq_len.min())


def _flat_steps(seq_len, T, mask_zero):
    """flat[t]: step t's backward may run on the whole batch at once: every row is active and,
    in Keras mode, no row ends at t (its repeated outputs' gradients land there, per row)."""
    flat = np.zeros(T, bool)
    flat[:_full_steps(seq_len, T)] = _FLAT
    if not mask_zero:
        flat[seq_len[seq_len > 0] - 1] = False
    return flat


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
    lengths = seq_len.tolist() if seq_len.ndim == 1 and B <= 256 else None   # small: no reduce
    if seq_len.shape != (B,) or (B and (
            (min(lengths) < 0 or max(lengths) > T) if lengths is not None else
            (seq_len.min() < 0 or seq_len.max() > T))):
        raise ValueError(f"seq_len must be [B={B}] with values in [0, {T}]")
    return (x, *out, seq_len)


_scratch = threading.local()


def _scratch_empty(slot, shape, dtype):
    """A reused, uninitialized buffer for a temporary that never leaves the kernel that asked
    for it: a fresh multi-MB array costs page faults on every call (glibc hands big blocks back
    to the OS)."""
    bufs = _scratch.__dict__.setdefault("bufs", {})
    n = math.prod(shape)
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
