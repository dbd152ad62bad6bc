"""Keras-layout recurrent layers: SimpleRNN, LSTM, GRU (tf_keras/src/layers/rnn/*.py).

Weights in Keras' order and shapes: kernel (I, G*H), recurrent_kernel (H, G*H), bias (G*H,)
(GRU reset_after=True: bias (2, 3H), input and recurrent halves). Gate blocks: LSTM i, f, c, o;
GRU z, r, h. Inputs are batch-major [B, T, I]. A `mask` [B, T] (bool) follows Keras: a masked
step carries the state AND repeats the previous output.

With the default activations the whole sequence runs as one fused node (ops/rnn.py) when the
mask is absent or a prefix mask (each row: steps then padding); otherwise, and for other
activations, each step runs the step function below, which mirrors Keras' own op for op.
"""
import numpy as np

from minigrad.core import constant
from minigrad.layers.base import Layer, activation_fn, initializer
from minigrad.ops import (matmul, relu, sigmoid, split, stack, tanh, unstack, where, zeros,
                          zeros_like)
from minigrad.ops import rnn as fused
from minigrad.ops._convert import tensor
from minigrad.ops.nn import bias_add


class _RNN(Layer):
    """Shared by the three layers: building, input/state checks, masks, output formatting."""

    n_states, gates = 1, 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, name=None, dtype=None,
                 trainable=True, **kwargs):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        if dropout or recurrent_dropout or stateful or time_major:
            raise NotImplementedError(f"{self._describe()}: dropout, recurrent_dropout, "
                                      f"stateful and time_major are not supported")
        self.units = int(units)
        self.activation = activation_fn(activation)
        self.recurrent_activation = activation_fn(recurrent_activation)
        self.use_bias = use_bias
        self.initializers = (kernel_initializer, recurrent_initializer, bias_initializer)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self._input_depth = None

    # --- building -------------------------------------------------------------------------
    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.initializers[2]

    def build(self, depth, dtype):
        G, (kinit, rinit, _) = self.gates * self.units, self.initializers
        self.kernel = self.add_weight("kernel", (depth, G), dtype, kinit)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, G), dtype, rinit)
        self.bias = (self.add_weight("bias", self._bias_shape(), dtype, self._bias_init())
                     if self.use_bias else None)

    def _build_for(self, x):
        if x.ndim != 3:
            raise ValueError(f"{self._describe()}: inputs must have rank 3 [batch, time, "
                             f"depth], got shape {list(x.shape)}")
        if not x.dtype.is_floating:
            raise ValueError(f"{self._describe()}: inputs must be floating, got {x.dtype.name}")
        if not self.built:
            self.dtype = self.dtype or x.dtype
            self.build(x.shape[2], self.dtype)
            self._input_depth, self.built = x.shape[2], True
        elif x.shape[2] != self._input_depth:
            raise ValueError(f"{self._describe()} was built for inputs [batch, time, "
                             f"{self._input_depth}] but got inputs of shape {list(x.shape)}")

    def _states(self, initial_state, B, dtype):
        if initial_state is None:
            return [zeros([B, self.units], dtype) for _ in range(self.n_states)]
        given = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        shapes = [list(np.shape(s)) for s in given]
        if len(given) != self.n_states or any(s != [B, self.units] for s in shapes):
            raise ValueError(f"{self._describe()}: initial_state must be {self.n_states} "
                             f"tensor(s) of shape [{B}, {self.units}], got shapes {shapes}")
        return [tensor(s) for s in given]

    def _bias_or_zeros(self, dtype):
        return self.bias if self.use_bias else zeros(self._bias_shape(), dtype)

    # --- the call -------------------------------------------------------------------------
    def __call__(self, inputs, mask=None, training=None, initial_state=None):
        x = self._cast_input(tensor(inputs))
        self._build_for(x)
        B, T = x.shape[0], x.shape[1]
        states = self._states(initial_state, B, x.dtype)
        mask = _check_mask(self, mask, B, T)
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        seq = _prefix_lengths(mask)
        fusable = fused.fused_enabled() and self.fusable() and T > 0
        if fusable and (mask is None or seq is not None):
            y, finals = self.fused_run(x, states, seq)
            last = y[:, -1] if mask is not None else finals[0]
        else:
            y, last, finals = self._composite(x, states, mask)
        out = y if self.return_sequences else last
        return [out] + list(finals) if self.return_state else out

    def _composite(self, x, states, mask):
        """Keras' backend.rnn: masked steps keep the state and repeat the previous output."""
        outputs, prev = [], None
        for t, x_t in enumerate(unstack(x, axis=1)):
            out, new = self.step(x_t, states)
            if mask is not None and not mask[:, t].all():
                keep = constant(mask[:, t][:, None])
                out = where(keep, out, prev if prev is not None else zeros_like(out))
                new = [where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            prev, states = out, new
        return stack(outputs, axis=1), outputs[-1], states


def _check_mask(layer, mask, B, T):
    if mask is None:
        return None
    m = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask)
    if m.shape != (B, T):
        raise ValueError(f"{layer._describe()}: mask must have shape [{B}, {T}] (batch, time), "
                         f"got {list(m.shape)}")
    return m.astype(bool)


def _prefix_lengths(mask):
    """Row lengths if every row of the mask is True then False (what the fused kernels take)."""
    if mask is None:
        return None
    lengths = mask.sum(axis=1)
    prefix = np.arange(mask.shape[1])[None, :] < lengths[:, None]
    return lengths.astype(np.int64) if np.array_equal(mask, prefix) else None


class SimpleRNN(_RNN):
    """h' = act(x @ kernel + bias + h @ recurrent_kernel); output = h'."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=None,
                         use_bias=use_bias, **kwargs)

    def step(self, x, states):
        h = matmul(x, self.kernel)
        if self.use_bias:
            h = bias_add(h, self.bias)
        out = h + matmul(states[0], self.recurrent_kernel)
        out = self.activation(out) if self.activation is not None else out
        return out, [out]

    def fusable(self):
        return self.activation in (tanh, relu)

    def fused_run(self, x, states, seq):
        kind = "tanh" if self.activation is tanh else "relu"
        y, h = fused.keras_simple_rnn_sequence(x, states[0], self.kernel, self.recurrent_kernel,
                                               self._bias_or_zeros(x.dtype), seq, kind)
        return y, [h]


class LSTM(_RNN):
    """z = x @ kernel + h @ recurrent_kernel + bias, blocks i, f, c, o;
    c' = f*c + i*act(c_block); h' = o*act(c'). unit_forget_bias: bias f block starts at 1."""

    n_states, gates = 2, 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.initializers[2]
        H, base = self.units, initializer(self.initializers[2])

        def init(shape, dtype):
            b = base((4 * H,), dtype)
            b[H:2 * H] = 1
            return b
        return init

    def step(self, x, states):
        h_tm1, c_tm1 = states
        z = matmul(x, self.kernel) + matmul(h_tm1, self.recurrent_kernel)
        if self.use_bias:
            z = bias_add(z, self.bias)
        z0, z1, z2, z3 = split(z, 4, axis=1)
        ract, act = self.recurrent_activation, self.activation
        i, f = ract(z0), ract(z1)
        c = f * c_tm1 + i * act(z2)
        o = ract(z3)
        h = o * act(c)
        return h, [h, c]

    def fusable(self):
        return self.activation is tanh and self.recurrent_activation is sigmoid

    def fused_run(self, x, states, seq):
        y, h, c = fused.keras_lstm_sequence(x, states[0], states[1], self.kernel,
                                            self.recurrent_kernel,
                                            self._bias_or_zeros(x.dtype), seq)
        return y, [h, c]


class GRU(_RNN):
    """Blocks z, r, h. reset_after=True (default): hh = act(x@Wh + b_in + r*(h@Uh + b_rec)),
    bias (2, 3H); False: hh = act(x@Wh + b + (r*h)@Uh), bias (3H,). h' = z*h + (1-z)*hh."""

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def step(self, x, states):
        h_tm1, H = states[0], self.units
        if self.use_bias:
            b_in, b_rec = unstack(self.bias) if self.reset_after else (self.bias, None)
        matrix_x = matmul(x, self.kernel)
        if self.use_bias:
            matrix_x = bias_add(matrix_x, b_in)
        x_z, x_r, x_h = split(matrix_x, 3, axis=1)
        if self.reset_after:
            inner = matmul(h_tm1, self.recurrent_kernel)
            if self.use_bias:
                inner = bias_add(inner, b_rec)
            rec_z, rec_r, rec_h = split(inner, 3, axis=1)
        else:
            rec_z, rec_r = split(matmul(h_tm1, self.recurrent_kernel[:, :2 * H]), 2, axis=1)
        z = self.recurrent_activation(x_z + rec_z)
        r = self.recurrent_activation(x_r + rec_r)
        if self.reset_after:
            rec_h = r * rec_h
        else:
            rec_h = matmul(r * h_tm1, self.recurrent_kernel[:, 2 * H:])
        hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    def fusable(self):
        return self.activation is tanh and self.recurrent_activation is sigmoid

    def fused_run(self, x, states, seq):
        y, h = fused.keras_gru_sequence(x, states[0], self.kernel, self.recurrent_kernel,
                                        self._bias_or_zeros(x.dtype), seq, self.reset_after)
        return y, [h]
