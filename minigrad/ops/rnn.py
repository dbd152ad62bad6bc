"""Fused recurrent ops: one recurrent layer over a whole sequence, forward and backprop through
time, as ONE graph node around the numba kernels in minigrad/kernels/ (rnn_basic.py, lstm.py,
gru.py).

They exist only for speed: the step-by-step composites (minigrad/nn/rnn_cell.py cells under
dynamic_rnn, the Keras layers' step functions) are their tested twins. Inputs are
`(x, *initial_states, *weights, seq_len)`, outputs `(y, *final_states)`; `seq_len` is an int
tensor [B] and gets no gradient. The kernels are time-major; `batch_major_in/out` transpose x
and y inside the node, so a batch-major dynamic_rnn is still one node per layer.

Masking: mask_zero=True is TF1 dynamic_rnn (output zero past a row's length), False is Keras
(output repeats the last one). Both carry the state unchanged past the length.
"""
import contextlib

import numpy as np

from minigrad.core import Op, Tensor, apply, int64, register
from minigrad.ops.shape import cast
from minigrad.kernels import lazy
from minigrad.ops._convert import tensor

# One lazy module per cell family: a model imports (and numba loads) only the kernels it uses.
_BASIC, _LSTM, _GRU = lazy("rnn_basic"), lazy("lstm"), lazy("gru")


_FUSED = [True]


@contextlib.contextmanager
def fused_kernels(enabled):
    """`with fused_kernels(False):` makes dynamic_rnn, static_rnn and the Keras layers take the
    step-by-step composite path (the twin the fused nodes are tested against)."""
    _FUSED.append(bool(enabled))
    try:
        yield
    finally:
        _FUSED.pop()


def fused_enabled():
    return _FUSED[-1]


def _time_major(a, batch_major):
    return np.ascontiguousarray(a.transpose(1, 0, 2)) if batch_major else a


def _check_lengths(op, seq_len, T, B):
    """Every run, not only the first: the kernels index rows by these numbers unchecked."""
    if seq_len.shape != (B,) or (B and (seq_len.min() < 0 or seq_len.max() > T)):
        raise ValueError(f"{op.type}: sequence lengths must be {B} values in [0, {T}], got "
                         f"{np.asarray(seq_len).tolist()}")


class _Sequence(Op):
    """Shared plumbing: layout, the kernel call, the cache, and gradient bookkeeping.

    A subclass gives `n_states`, `_fwd(x, states, weights, seq_len) -> (y, finals, cache)` and
    `_bwd(gy, gfinals, x, states, weights, seq_len, cache) -> (gx, *gstates, *gweights)`; the
    kernels skip gx (None) when `self.needs[0]` says the input wants none (data, a first layer).
    """

    n_states = 1

    def forward(self, x, *rest):
        states, weights, seq_len = (rest[:self.n_states], rest[self.n_states:-1], rest[-1])
        x = _time_major(x, self.batch_major_in)
        _check_lengths(self, seq_len, x.shape[0], x.shape[1])
        y, finals, self.cache = self._fwd(x, states, weights, seq_len)
        self.x_time_major = x              # backward reads it again: transpose once
        return (_time_major(y, self.batch_major_out),) + tuple(finals)

    def backward(self, gy, *gfinals):
        rest = self.xs[1:]
        states, weights, seq_len = (rest[:self.n_states], rest[self.n_states:-1], rest[-1])
        grads = self._bwd(_time_major(gy, self.batch_major_out), gfinals, self.x_time_major,
                          states, weights, seq_len, self.cache)
        gx = grads[0]
        if gx is not None and self.batch_major_in:
            gx = gx.transpose(1, 0, 2)
        return (gx,) + tuple(grads[1:]) + (None,)

    @property
    def _need_gx(self):
        return self.needs[0] if self.needs else True     # a direct backward() call: all

    def release(self):
        super().release()
        self.cache = self.x_time_major = None


@register
class BasicRNNSequence(_Sequence):
    """y_t = h_t = act([x_t, h_{t-1}] @ kernel + bias) over all t (TF1 BasicRNNCell);
    gx, gh0, gkernel, gbias by backprop through time (kernels.rnn_basic.rnn_backward)"""
    tf_name = "nn.dynamic_rnn_basic_rnn_cell"

    def _fwd(self, x, states, weights, seq_len):
        y, h, cache = _BASIC.rnn_forward(x, states[0], *weights, seq_len, self.activation,
                                         self.mask_zero)
        return y, (h,), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        return _BASIC.rnn_backward(gy, gfinals[0], x, states[0], *weights, seq_len, cache,
                                   self.activation, self.mask_zero, self._need_gx)


@register
class BasicLSTMSequence(_Sequence):
    """TF1 BasicLSTMCell over all t: i, j, f, o = split([x, h] @ kernel + bias);
    c' = c * sig(f + forget_bias) + sig(i) * tanh(j); h' = tanh(c') * sig(o); outputs y, h_T, c_T;
    gradients by backprop through time (kernels.lstm.lstm_backward)"""
    tf_name = "nn.dynamic_rnn_basic_lstm_cell"
    n_states = 2

    def _fwd(self, x, states, weights, seq_len):
        y, h, c, cache = _LSTM.lstm_forward(x, *states, *weights, seq_len, self.forget_bias,
                                            self.mask_zero)
        return y, (h, c), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        return _LSTM.lstm_backward(gy, *gfinals, x, *states, *weights, seq_len, cache,
                                   self.forget_bias, self.mask_zero, self._need_gx)


@register
class GRUSequence(_Sequence):
    """TF1 GRUCell over all t: r, u = sig([x, h] @ Kg + bg); c = tanh([x, r*h] @ Kc + bc);
    h' = u*h + (1-u)*c; gradients by backprop through time (kernels.gru.gru_backward)"""
    tf_name = "nn.dynamic_rnn_gru_cell"

    def _fwd(self, x, states, weights, seq_len):
        y, h, cache = _GRU.gru_forward(x, states[0], *weights, seq_len, self.mask_zero)
        return y, (h,), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        return _GRU.gru_backward(gy, gfinals[0], x, states[0], *weights, seq_len, cache,
                                 self.mask_zero, self._need_gx)


@register
class KerasSimpleRNNSequence(_Sequence):
    """Keras SimpleRNN: h' = act(x @ kernel + bias + h @ recurrent_kernel) over all t, as the
    BasicRNN kernel on concat([kernel, recurrent_kernel]); gradients split back"""
    tf_name = "keras.layers.SimpleRNN"

    def _fwd(self, x, states, weights, seq_len):
        kernel, recurrent, bias = weights
        y, h, cache = _BASIC.rnn_forward(x, states[0], np.concatenate([kernel, recurrent]), bias,
                                         seq_len, self.activation, self.mask_zero)
        return y, (h,), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        kernel, recurrent, bias = weights
        gx, gh0, gk, gb = _BASIC.rnn_backward(gy, gfinals[0], x, states[0],
                                              np.concatenate([kernel, recurrent]), bias,
                                              seq_len, cache, self.activation, self.mask_zero,
                                              self._need_gx)
        n = kernel.shape[0]
        return gx, gh0, gk[:n], gk[n:], gb


@register
class KerasLSTMSequence(_Sequence):
    """Keras LSTM over all t: i, f, c, o blocks of x @ kernel + h @ recurrent_kernel + bias;
    c' = sig(f)*c + sig(i)*tanh(g); h' = sig(o)*tanh(c'); gradients by backprop through time"""
    tf_name = "keras.layers.LSTM"
    n_states = 2

    def _fwd(self, x, states, weights, seq_len):
        y, h, c, cache = _LSTM.keras_lstm_forward(x, *states, *weights, seq_len, self.mask_zero)
        return y, (h, c), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        return _LSTM.keras_lstm_backward(gy, *gfinals, x, *states, *weights, seq_len, cache,
                                         self.mask_zero, self._need_gx)


@register
class KerasGRUSequence(_Sequence):
    """Keras GRU over all t (z, r, h blocks): h' = z*h + (1-z)*tanh(xh + r*(h @ Rh + bh)) with
    reset_after, else tanh(xh + (r*h) @ Rh); gradients by backprop through time
    (kernels.gru.keras_gru_backward)"""
    tf_name = "keras.layers.GRU"

    def _fwd(self, x, states, weights, seq_len):
        y, h, cache = _GRU.keras_gru_forward(x, states[0], *weights, seq_len, self.reset_after,
                                             self.mask_zero)
        return y, (h,), cache

    def _bwd(self, gy, gfinals, x, states, weights, seq_len, cache):
        return _GRU.keras_gru_backward(gy, gfinals[0], x, states[0], *weights, seq_len, cache,
                                       self.reset_after, self.mask_zero, self._need_gx)


# --- calls ------------------------------------------------------------------------------------
def _run(op, x, states, weights, seq_len):
    """Apply a sequence op; seq_len None means every row runs all T steps."""
    x = tensor(x)
    if seq_len is None:
        T = x.shape[1] if op.batch_major_in else x.shape[0]
        B = x.shape[0] if op.batch_major_in else x.shape[1]
        seq_len = np.full(B, T, np.int64)
    if not isinstance(seq_len, Tensor):
        seq_len = tensor(np.asarray(seq_len, np.int64))
    elif seq_len.dtype != int64:     # an op: a traced function takes new lengths each call
        seq_len = cast(seq_len, int64)
    ins = [x] + [tensor(s) for s in states] + [tensor(w) for w in weights] + [seq_len]
    return list(apply(op, *ins))


def _layout(batch_major, mask_zero):
    bm_in, bm_out = (batch_major, batch_major) if np.isscalar(batch_major) else batch_major
    return dict(batch_major_in=bool(bm_in), batch_major_out=bool(bm_out),
                mask_zero=bool(mask_zero))


def basic_rnn_sequence(x, h0, kernel, bias, seq_len=None, activation="tanh", mask_zero=True,
                       batch_major=False):
    """[y, h_T] for TF1 BasicRNNCell over x ([T, B, I], or [B, T, I] if batch_major; a pair
    (in, out) sets the two layouts separately)."""
    op = BasicRNNSequence(activation=activation, **_layout(batch_major, mask_zero))
    return _run(op, x, [h0], [kernel, bias], seq_len)


def basic_lstm_sequence(x, h0, c0, kernel, bias, seq_len=None, forget_bias=1.0, mask_zero=True,
                        batch_major=False):
    """[y, h_T, c_T] for TF1 BasicLSTMCell (kernel [I+H, 4H] in i, j, f, o order)."""
    op = BasicLSTMSequence(forget_bias=float(forget_bias), **_layout(batch_major, mask_zero))
    return _run(op, x, [h0, c0], [kernel, bias], seq_len)


def gru_sequence(x, h0, gate_kernel, gate_bias, cand_kernel, cand_bias, seq_len=None,
                 mask_zero=True, batch_major=False):
    """[y, h_T] for TF1 GRUCell (gates kernel [I+H, 2H] in r, u order; candidate [I+H, H])."""
    op = GRUSequence(**_layout(batch_major, mask_zero))
    return _run(op, x, [h0], [gate_kernel, gate_bias, cand_kernel, cand_bias], seq_len)


def keras_simple_rnn_sequence(x, h0, kernel, recurrent_kernel, bias, seq_len=None,
                              activation="tanh", mask_zero=False, batch_major=True):
    """[y, h_T] for Keras SimpleRNN (kernel (I, H), recurrent_kernel (H, H), bias (H,))."""
    op = KerasSimpleRNNSequence(activation=activation, **_layout(batch_major, mask_zero))
    return _run(op, x, [h0], [kernel, recurrent_kernel, bias], seq_len)


def keras_lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias, seq_len=None,
                        mask_zero=False, batch_major=True):
    """[y, h_T, c_T] for Keras LSTM (kernel (I, 4H), recurrent (H, 4H), bias (4H,); i, f, c, o)."""
    op = KerasLSTMSequence(**_layout(batch_major, mask_zero))
    return _run(op, x, [h0, c0], [kernel, recurrent_kernel, bias], seq_len)


def keras_gru_sequence(x, h0, kernel, recurrent_kernel, bias, seq_len=None, reset_after=True,
                       mask_zero=False, batch_major=True):
    """[y, h_T] for Keras GRU (z, r, h blocks; bias (2, 3H) if reset_after else (3H,))."""
    op = KerasGRUSequence(reset_after=bool(reset_after), **_layout(batch_major, mask_zero))
    return _run(op, x, [h0], [kernel, recurrent_kernel, bias], seq_len)
