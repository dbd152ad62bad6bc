"""Fused LSTM (TF1 BasicLSTMCell, Keras LSTM): forward and exact backprop through time.

z = x @ kx + h @ kh + b; gate blocks at offsets pos = (i, g, f, o);
c' = c * sig(z_f + forget_bias) + sig(z_i) * tanh(z_g); h' = tanh(c') * sig(z_o).
TF1 BasicLSTMCell orders the blocks i, j(=g), f, o; Keras LSTM i, f, c(=g), o.

Layouts, masking and the public pair's shape: rnn_common. The forward moves each step's gate
pre-activations gate-major ([4, B, H], also the activation cache) so that the activations and
the cell run as long flat loops over the whole batch: the lectures' H of 10-31 would otherwise
leave most of the sigmoid/tanh work in short, scalar loop remainders. The backward cell takes
its gates as four 1-D runs, so the whole-batch path (gate-major runs) and the row path (one
row's H-wide blocks) share it and give the same bits.
"""
import numba
import numpy as np

from minigrad.kernels.rnn_common import (_add_into, _affine, _check, _colsum, _dot_T, _flat,
                                         _flat_steps, _full_steps, _masked_step, _one,
                                         _output_grad, _scratch_empty, _set, _small_matmul,
                                         _states, _take_active, _xh_T_dot, _zero_row,
                                         small_recurrent)
from minigrad.kernels.rnn_math import _JIT, _sigmoid, _tanh


@numba.njit(**_JIT)
def _to_gate_major(a, b, pos, S):
    """S[q, bi, :] = a[bi, pos[q]:pos[q]+H] + b[bi, pos[q]:pos[q]+H]: [B, 4H] rows to four
    contiguous [B*H] runs."""
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
def _gate_runs(A):
    """The four gates of a gate-major [4, B, H] block as 1-D [B*H] runs."""
    return _flat(A[0]), _flat(A[1]), _flat(A[2]), _flat(A[3])


@numba.njit(**_JIT)
def _gate_rows(A, bi):
    """Row bi of each gate of a gate-major [4, B, H] block."""
    return A[0, bi], A[1, bi], A[2, bi], A[3, bi]


@numba.njit(**_JIT)
def _blocks(a, pos, H):
    """The four H-wide gate blocks of a 1-D [4H] row, at offsets pos."""
    return a[pos[0]:pos[0] + H], a[pos[1]:pos[1] + H], a[pos[2]:pos[2] + H], a[pos[3]:pos[3] + H]


@numba.njit(**_JIT)
def _lstm_step(t, za, zh, hs, cs, tc, y, pos, fb, A):
    """Every row at once: the gate pre-activations go gate-major into A [4, B, H] (step t's
    slot of the activation cache), then flat loops over the whole batch; the driver puts the
    rows past their end right (_lstm_mask_rows)."""
    _to_gate_major(za[t], zh, pos, A)
    i, g, f, o = _gate_runs(A)
    for k in range(i.shape[0]):
        i[k] = _sigmoid(i[k])
    for k in range(g.shape[0]):
        g[k] = _tanh(g[k])
    for k in range(f.shape[0]):
        f[k] = _sigmoid(f[k] + fb)
    for k in range(o.shape[0]):
        o[k] = _sigmoid(o[k])
    c, cn, tcn, hn = _flat(cs[t]), _flat(cs[t + 1]), _flat(tc[t]), _flat(hs[t + 1])
    for k in range(cn.shape[0]):
        cn[k] = c[k] * f[k] + i[k] * g[k]
    for k in range(cn.shape[0]):
        tcn[k] = _tanh(cn[k])
    for k in range(cn.shape[0]):
        hn[k] = tcn[k] * o[k]
    _set(_flat(y[t]), hn)


@numba.njit(**_JIT)
def _lstm_mask_rows(t, hs, cs, tc, y, act, seq_len, mask_zero):
    """After a whole-batch step: the rows past their sequence's end are put right (states
    copied, output zero or repeated, gates and tanh(c) zero)."""
    for bi in range(seq_len.shape[0]):
        if t >= seq_len[bi]:
            _masked_step(t, bi, hs, y, mask_zero)
            _set(cs[t + 1, bi], cs[t, bi])
            _zero_row(tc[t, bi])
            for q in range(4):
                _zero_row(act[t, q, bi])


# inline="always": numba pastes the body into both step kernels. As a plain njit call the row
# path's backward ran 5-10% slower than the single-kernel code it replaces (float32, B=500,
# H=10, mostly ragged steps); inlined, it matches it, and compiles no slower.
@numba.njit(inline="always", **_JIT)
def _lstm_cell_bwd(dh, dc, a, tc, c, gz, one):
    """dh, dc = gradients at h_t, c_t; a = the gates (i, g, f, o), gz = their pre-activation
    gradients, all 1-D runs of one length; dc becomes the gradient at c_{t-1}."""
    i, g, f, o = a
    gi, gg, gf, go = gz
    for k in range(dh.shape[0]):
        dc[k] += dh[k] * o[k] * (one - tc[k] * tc[k])
    for k in range(dh.shape[0]):
        go[k] = dh[k] * tc[k] * (o[k] * (one - o[k]))
    for k in range(dh.shape[0]):
        gi[k] = dc[k] * g[k] * (i[k] * (one - i[k]))
    for k in range(dh.shape[0]):
        gg[k] = dc[k] * i[k] * (one - g[k] * g[k])
    for k in range(dh.shape[0]):
        gf[k] = dc[k] * c[k] * (f[k] * (one - f[k]))
    for k in range(dh.shape[0]):
        dc[k] *= f[k]


@numba.njit(**_JIT)
def _lstm_step_bwd_flat(t, gy, gh, gc, cs, act, tc, gz, pos, G):
    """_lstm_step_bwd when every row is active and none ends at t (rnn_common._flat_steps):
    the cell on the gate-major activations into gate-major gradients G, then G to gz[t]'s
    [B, 4H] rows."""
    dh = _flat(gh)
    _add_into(dh, _flat(gy[t]))
    _lstm_cell_bwd(dh, _flat(gc), _gate_runs(act[t]), _flat(tc[t]), _flat(cs[t]),
                   _gate_runs(G), _one(gz))
    _from_gate_major(G, pos, gz[t])


@numba.njit(**_JIT)
def _lstm_step_bwd(t, gy, gh, gc, gcarry, cs, act, tc, gz, seq_len, pos, mask_zero):
    """One step backward, row by row: the steps where some row is past its end (or, in Keras
    mode, ends here)."""
    one, H = _one(gz), gh.shape[1]
    for bi in range(gh.shape[0]):
        if _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            _lstm_cell_bwd(gh[bi], gc[bi], _gate_rows(act[t], bi), tc[t, bi], cs[t, bi],
                           _blocks(gz[t, bi], pos, H), one)
        else:
            _zero_row(gz[t, bi])


@numba.njit(**_JIT)
def _lstm_forward_small(za, zh, hs, cs, tc, y, act, kh, pos, fb, seq_len, full, mask_zero):
    """The forward's time loop in one call, h @ kh as loops (rnn_common.small_recurrent)."""
    for t in range(za.shape[0]):
        _small_matmul(hs[t], kh, zh)
        _lstm_step(t, za, zh, hs, cs, tc, y, pos, fb, act[t])
        if t >= full:
            _lstm_mask_rows(t, hs, cs, tc, y, act, seq_len, mask_zero)


def _lstm_forward(x, h0, c0, kx, kh, b, seq_len, pos, fb, mask_zero):
    T, B, _ = x.shape
    H = h0.shape[1]
    za, hs, cs = _affine(x, kx, b), _states(h0, T), _states(c0, T)
    tc, y = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype)
    act = np.empty((T, 4, B, H), x.dtype)
    zh, fb, full = np.empty((B, 4 * H), x.dtype), x.dtype.type(fb), _full_steps(seq_len, T)
    if small_recurrent(B, H, 4 * H):
        _lstm_forward_small(za, zh, hs, cs, tc, y, act, np.ascontiguousarray(kh), pos, fb,
                            seq_len, full, mask_zero)
    else:
        for t in range(T):
            np.matmul(hs[t], kh, out=zh)
            _lstm_step(t, za, zh, hs, cs, tc, y, pos, fb, act[t])
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
    flat = _flat_steps(seq_len, T, mask_zero)
    cs, act, tc = cache["c"], cache["gates"], cache["tanh_c"]
    if small_recurrent(B, H, 4 * H):
        _lstm_backward_small(gy, gh, gc, gcarry, ghn, cs, act, tc, gz, np.ascontiguousarray(khT),
                             seq_len, pos, mask_zero, flat, G, none)
    else:
        for t in range(T - 1, -1, -1):
            if flat[t]:
                _lstm_step_bwd_flat(t, gy, gh, gc, cs, act, tc, gz, pos, G)
            else:
                _lstm_step_bwd(t, gy, gh, gc, gcarry, cs, act, tc, gz, seq_len, pos,
                               mask_zero)
            np.matmul(gz[t], khT, out=ghn)
            _take_active(t, seq_len, gh, ghn, none)
    return _dot_T(gz, kx, need_gx), gh, gc, _xh_T_dot(x, hs[:T], gz), _colsum(gz)


@numba.njit(**_JIT)
def _lstm_backward_small(gy, gh, gc, gcarry, ghn, cs, act, tc, gz, khT, seq_len, pos,
                         mask_zero, flat, G, none):
    """The backward's time loop in one call, gz @ kh.T as loops (small_recurrent)."""
    for t in range(gz.shape[0] - 1, -1, -1):
        if flat[t]:
            _lstm_step_bwd_flat(t, gy, gh, gc, cs, act, tc, gz, pos, G)
        else:
            _lstm_step_bwd(t, gy, gh, gc, gcarry, cs, act, tc, gz, seq_len, pos, mask_zero)
        _small_matmul(gz[t], khT, ghn)
        _take_active(t, seq_len, gh, ghn, none)


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
