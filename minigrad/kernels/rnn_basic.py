"""Fused basic RNN (TF1 BasicRNNCell, Keras SimpleRNN): h' = act(x @ kx + h @ kh + b), act tanh
or relu; output = state. Forward and exact backprop through time.

Layouts, masking and the public pair's shape: rnn_common. As in the LSTM, the forward runs
every row at once and then puts right the rows past their end, and the backward picks the
whole-batch or the row kernel per step in Python (rnn_common._flat_steps); both backward
kernels call one cell loop, on a step's [B*H] block or on one row, so they give the same bits.
"""
import numba
import numpy as np

from minigrad.kernels.rnn_common import (_add_into, _affine, _check, _colsum, _dot_T, _flat,
                                         _flat_steps, _full_steps, _mask_rows, _one,
                                         _output_grad, _scratch_empty, _set, _small_matmul,
                                         _states, _take_active, _xh_T_dot, _zero_row,
                                         small_recurrent)
from minigrad.kernels.rnn_math import _JIT, _tanh


@numba.njit(**_JIT)
def _rnn_cell(z, zh, hn, relu):
    """hn = act(z + zh) on 1-D runs."""
    for k in range(hn.shape[0]):
        a = z[k] + zh[k]
        hn[k] = max(a, 0) if relu else _tanh(a)


@numba.njit(inline="always", **_JIT)   # why inline: see lstm._lstm_cell_bwd
def _rnn_cell_bwd(dh, hn, gz, relu, one):
    """gz = dh * act'(pre-activation), from the activation's output hn, on 1-D runs."""
    for k in range(dh.shape[0]):
        if relu:
            gz[k] = dh[k] if hn[k] > 0 else 0
        else:
            gz[k] = dh[k] * (one - hn[k] * hn[k])


@numba.njit(**_JIT)
def _rnn_step(t, z, zh, hs, y, relu):
    """Every row at once; the driver puts the rows past their end right (_mask_rows)."""
    hn = _flat(hs[t + 1])
    _rnn_cell(_flat(z[t]), _flat(zh), hn, relu)
    _set(_flat(y[t]), hn)


@numba.njit(**_JIT)
def _rnn_step_bwd_flat(t, gy, gh, hs, gz, relu):
    """_rnn_step_bwd when every row is active and none ends at t (rnn_common._flat_steps)."""
    dh = _flat(gh)
    _add_into(dh, _flat(gy[t]))
    _rnn_cell_bwd(dh, _flat(hs[t + 1]), _flat(gz[t]), relu, _one(gz))


@numba.njit(**_JIT)
def _rnn_step_bwd(t, gy, gh, gcarry, hs, gz, seq_len, relu, mask_zero):
    """One step backward, row by row: the steps where some row is past its end (or, in Keras
    mode, ends here)."""
    one = _one(gz)
    for bi in range(gh.shape[0]):
        if _output_grad(t, bi, seq_len[bi], gy, gh, gcarry, mask_zero):
            _rnn_cell_bwd(gh[bi], hs[t + 1, bi], gz[t, bi], relu, one)
        else:
            _zero_row(gz[t, bi])


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
    relu, full = _relu_flag(activation), _full_steps(seq_len, T)
    z, hs = _affine(x, kernel[:I], bias), _states(h0, T)
    y, zh = np.empty((T, B, H), x.dtype), np.empty((B, H), x.dtype)
    if small_recurrent(B, H, H):
        _rnn_forward_small(z, zh, hs, y, np.ascontiguousarray(kernel[I:]), relu, seq_len, full,
                           mask_zero)
    else:
        for t in range(T):
            np.matmul(hs[t], kernel[I:], out=zh)
            _rnn_step(t, z, zh, hs, y, relu)
            if t >= full:
                _mask_rows(t, seq_len, hs, y, mask_zero)
    return y, hs[T].copy(), {"h": hs}


@numba.njit(**_JIT)
def _rnn_forward_small(z, zh, hs, y, kh, relu, seq_len, full, mask_zero):
    """The forward's time loop in one call, h @ kh as loops (rnn_common.small_recurrent)."""
    for t in range(z.shape[0]):
        _small_matmul(hs[t], kh, zh)
        _rnn_step(t, z, zh, hs, y, relu)
        if t >= full:
            _mask_rows(t, seq_len, hs, y, mask_zero)


@numba.njit(**_JIT)
def _rnn_backward_small(gy, gh, gcarry, ghn, hs, gz, khT, seq_len, relu, mask_zero, flat,
                        none):
    """The backward's time loop in one call, gz @ kh.T as loops (small_recurrent)."""
    for t in range(gz.shape[0] - 1, -1, -1):
        if flat[t]:
            _rnn_step_bwd_flat(t, gy, gh, hs, gz, relu)
        else:
            _rnn_step_bwd(t, gy, gh, gcarry, hs, gz, seq_len, relu, mask_zero)
        _small_matmul(gz[t], khT, ghn)
        _take_active(t, seq_len, gh, ghn, none)


def rnn_backward(gy, gh_T, x, h0, kernel, bias, seq_len, cache, activation="tanh",
                 mask_zero=True, need_gx=True):
    """Gradients of rnn_forward: returns (gx, gh0, gkernel, gbias); gx is None unless need_gx
    (a first layer's input is data: its gradient would be one matmul thrown away)."""
    x, h0, gy, gh_T, kernel, seq_len = _check(
        x, h0, seq_len, gy, gh_T, kernel, shapes=lambda T, B, I, H: [(T, B, H), (B, H),
                                                                     (I + H, H)])
    (T, B, I), H = x.shape, h0.shape[1]
    relu, hs, flat = _relu_flag(activation), cache["h"], _flat_steps(seq_len, T, mask_zero)
    gz, gh, gcarry = _scratch_empty("g0", (T, B, H), x.dtype), gh_T.copy(), np.zeros_like(gh_T)
    ghn, khT, none = np.empty_like(gh), kernel[I:].T, np.empty((0, H), x.dtype)
    if small_recurrent(B, H, H):
        _rnn_backward_small(gy, gh, gcarry, ghn, hs, gz, np.ascontiguousarray(khT), seq_len,
                            relu, mask_zero, flat, none)
    else:
        for t in range(T - 1, -1, -1):
            if flat[t]:
                _rnn_step_bwd_flat(t, gy, gh, hs, gz, relu)
            else:
                _rnn_step_bwd(t, gy, gh, gcarry, hs, gz, seq_len, relu, mask_zero)
            np.matmul(gz[t], khT, out=ghn)
            _take_active(t, seq_len, gh, ghn, none)
    return _dot_T(gz, kernel[:I], need_gx), gh, _xh_T_dot(x, hs[:T], gz), _colsum(gz)
