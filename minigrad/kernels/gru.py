"""Fused GRU (TF1 GRUCell, Keras GRU with reset_after True or False): forward and exact
backprop through time.

Layouts, masking and the public pair's shape: rnn_common. Two cells: reset before the
recurrent matmul (TF1, Keras reset_after=False) needs r before it can multiply (r * h) @ khc,
so its step is two numba calls around that matmul; reset after (Keras default) is one call per
step. Both run row by row only: unlike the basic RNN and the LSTM there is no whole-batch path
(and so nothing written twice).
"""
import numba
import numpy as np

from minigrad.kernels.rnn_common import (_add_into, _affine, _check, _colsum, _dot_T,
                                         _masked_step, _one, _output_grad, _scratch_empty, _set,
                                         _small_matmul, _states, _take_active, _xh_T_dot,
                                         _zero_row, small_recurrent)
from minigrad.kernels.rnn_math import _JIT, _sigmoid, _tanh


@numba.njit(**_JIT)
def _sigmoid_into(a, z, shift):
    """a <- sigmoid(a + z + shift) in place (the callers' shift is a zero of a's dtype)."""
    for j in range(a.shape[0]):
        a[j] = _sigmoid(a[j] + z[j] + shift)


@numba.njit(**_JIT)
def _tanh_into(a, z):
    """a <- tanh(a + z) in place."""
    for j in range(a.shape[0]):
        a[j] = _tanh(a[j] + z[j])


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
    if small_recurrent(B, H, 3 * H):
        _gru_forward_small(ga, ca, zg, zc, hs, rh, y, np.ascontiguousarray(khg),
                           np.ascontiguousarray(khc), seq_len, pr, pu, mask_zero)
    else:
        for t in range(T):
            np.matmul(hs[t], khg, out=zg)
            _gru_gates_step(t, ga, zg, hs, rh, seq_len, pr, pu)
            np.matmul(rh[t], khc, out=zc)
            _gru_update_step(t, ca, zc, ga, hs, y, seq_len, pu, mask_zero)
    return y, hs[T].copy(), {"h": hs, "gates": ga, "cand": ca, "rh": rh}


@numba.njit(**_JIT)
def _gru_forward_small(ga, ca, zg, zc, hs, rh, y, khg, khc, seq_len, pr, pu, mask_zero):
    """The forward's time loop in one call, the recurrent products as loops
    (rnn_common.small_recurrent)."""
    for t in range(ga.shape[0]):
        _small_matmul(hs[t], khg, zg)
        _gru_gates_step(t, ga, zg, hs, rh, seq_len, pr, pu)
        _small_matmul(rh[t], khc, zc)
        _gru_update_step(t, ca, zc, ga, hs, y, seq_len, pu, mask_zero)


@numba.njit(**_JIT)
def _gru_backward_small(gy, gh, gcarry, ga, ca, hs, gzc, gzg, gd, grh, ghn, khgT, khcT,
                        seq_len, pr, pu, mask_zero):
    """The backward's time loop in one call (small_recurrent)."""
    for t in range(gzc.shape[0] - 1, -1, -1):
        _gru_update_step_bwd(t, gy, gh, gcarry, ga, ca, hs, gzc, gzg, gd, seq_len, pu,
                             mask_zero)
        _small_matmul(gzc[t], khcT, grh)
        _gru_reset_step_bwd(t, grh, ga, hs, gzg, gd, seq_len, pr)
        _small_matmul(gzg[t], khgT, ghn)
        _take_active(t, seq_len, gh, ghn, gd)


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
    if small_recurrent(B, H, 3 * H):
        _gru_backward_small(gy, gh, gcarry, ga, ca, hs, gzc, gzg, gd, grh, ghn,
                            np.ascontiguousarray(khgT), np.ascontiguousarray(khcT), seq_len,
                            pr, pu, mask_zero)
    else:
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
