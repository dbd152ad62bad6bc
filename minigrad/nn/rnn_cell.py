"""`mg.nn.rnn_cell`: TF1's recurrent cells, with TF1's math and weight layout
(tf_keras/src/layers/rnn/legacy_cells.py and legacy_cell_wrappers.py).

A cell maps (inputs [B, I], state) -> (output, new_state) with primitive ops, so one step is an
ordinary composite with no backward of its own; `mg.nn.dynamic_rnn` runs supported cells over a
whole sequence as one fused node instead (minigrad/ops/rnn.py), and this step-by-step form is
the twin those nodes are tested against. Variables are created on the first call, in TF's
order and shapes (`cell.weights`), so weights copy from a TF cell by position.
"""
import collections

import numpy as np

from minigrad.core import Tensor, as_dtype
from minigrad.layers.base import Layer, activation_fn
from minigrad.ops import (clip_by_value, concat, matmul, relu, sigmoid, split, tanh, zeros)
from minigrad.ops import rnn as fused
from minigrad.ops._convert import tensor
from minigrad.ops.nn import bias_add
from minigrad.random import generator


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h): the LSTM cell state and its output, in that order."""
    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent dtypes for internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def _flatten(s):
    return [leaf for item in s for leaf in _flatten(item)] if isinstance(s, (tuple, list)) \
        else [s]


def _pack_as(structure, flat):
    it = iter(flat)

    def pack(s):
        if isinstance(s, (tuple, list)):
            items = [pack(k) for k in s]
            return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
        return next(it)
    return pack(structure)


def _show(x):
    """A state or state_size, written with shapes: LSTMStateTuple(c=[3, 4], h=[3, 4])."""
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return f"{type(x).__name__}(" + ", ".join(
            f"{k}={_show(v)}" for k, v in zip(x._fields, x)) + ")"
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, (int, np.integer)):
        return f"[batch, {int(x)}]"
    return str(list(np.shape(x))) if hasattr(x, "shape") or isinstance(x, np.ndarray) \
        else type(x).__name__


def _activation(identifier):
    """TF1 cells: None means tanh; 'linear' the identity."""
    if identifier is None:
        return tanh
    return activation_fn(identifier) or (lambda x: x)


def _is_tanh(fn):
    return fn is tanh


class RNNCell(Layer):
    """The TF1 cell interface: state_size, output_size, zero_state, __call__."""

    state_size = output_size = None

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._input_depth = None

    def zero_state(self, batch_size, dtype):
        return _pack_as(self.state_size, [zeros([int(batch_size), n], as_dtype(dtype))
                                          for n in _flatten(self.state_size)])

    def __call__(self, inputs, state, scope=None):
        x = tensor(inputs)
        self.build_for(x.shape, x.dtype)
        state = self.check_state(state, x.shape[0], "state")
        return self.call(x, state)

    # --- building and checking ------------------------------------------------------------
    def build_for(self, shape, dtype):
        """Create the variables for inputs of `shape` [B, I] (once), or check them against it."""
        if len(shape) != 2:
            raise ValueError(f"{self._describe()}: inputs must have rank 2 [batch, depth], got "
                             f"shape {list(shape)}")
        if not as_dtype(dtype).is_floating:
            raise ValueError(f"{self._describe()}: RNN cells only take floating inputs, got "
                             f"{as_dtype(dtype).name}")
        if not self.built:
            self.dtype = self.dtype or as_dtype(dtype)
            self.build(int(shape[1]), self.dtype)
            self._input_depth, self.built = int(shape[1]), True
        elif shape[1] != self._input_depth:
            raise ValueError(f"{self._describe()} was built for inputs [batch, "
                             f"{self._input_depth}] but got inputs of shape {list(shape)}")

    def check_state(self, state, batch, what="initial_state"):
        """`state` as Tensors in the structure of state_size, each [batch, size]; else ValueError
        naming the cell, the expected structure and what was given."""
        def fail():
            raise ValueError(f"{self._describe()}: {what} should be {_show(self.state_size)} "
                             f"with batch {batch}, got {_show(state)}")

        def walk(size, s):
            if isinstance(size, tuple):
                if not isinstance(s, (tuple, list)) or len(s) != len(size):
                    fail()
                out = [walk(z, v) for z, v in zip(size, s)]
                return type(size)(*out) if hasattr(size, "_fields") else tuple(out)
            if isinstance(s, (tuple, list)) or s is None:
                fail()
            t = tensor(s)
            if tuple(t.shape) != (batch, size):
                fail()
            return t
        return walk(self.state_size, state)

    # --- the fused path: a subclass that can run as one node says how ---------------------
    def fusable(self):
        return False

    def fused_run(self, x, state, seq_len, batch_major):
        raise NotImplementedError


class BasicRNNCell(RNNCell):
    """h' = act([x, h] @ kernel + bias); output = state. kernel [I+H, H], bias [H] zeros."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._num_units = int(num_units)
        self._activation = _activation(activation)

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, depth, dtype):
        H = self._num_units
        self._kernel = self.add_weight("kernel", [depth + H, H], dtype, "glorot_uniform")
        self._bias = self.add_weight("bias", [H], dtype, "zeros")

    def call(self, inputs, state):
        z = bias_add(matmul(concat([inputs, state], 1), self._kernel), self._bias)
        out = self._activation(z)
        return out, out

    def fusable(self):
        return self._activation in (tanh, relu)

    def fused_run(self, x, state, seq_len, batch_major):
        kind = "tanh" if self._activation is tanh else "relu"
        y, h = fused.basic_rnn_sequence(x, state, self._kernel, self._bias, seq_len, kind,
                                        batch_major=batch_major)
        return y, h


class BasicLSTMCell(RNNCell):
    """i, j, f, o = split([x, h] @ kernel + bias, 4); c' = c*sig(f + forget_bias) +
    sig(i)*act(j); h' = act(c')*sig(o); state LSTMStateTuple(c, h). kernel [I+H, 4H]."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._num_units = int(num_units)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        H = self._num_units
        return LSTMStateTuple(H, H) if self._state_is_tuple else 2 * H

    @property
    def output_size(self):
        return self._num_units

    def build(self, depth, dtype):
        H = self._num_units
        self._kernel = self.add_weight("kernel", [depth + H, 4 * H], dtype, "glorot_uniform")
        self._bias = self.add_weight("bias", [4 * H], dtype, "zeros")

    def call(self, inputs, state):
        c, h = state if self._state_is_tuple else split(state, 2, axis=1)
        z = bias_add(matmul(concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = split(z, 4, axis=1)
        act = self._activation
        new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * act(j)
        new_h = act(new_c) * sigmoid(o)
        new_state = (LSTMStateTuple(new_c, new_h) if self._state_is_tuple
                     else concat([new_c, new_h], 1))
        return new_h, new_state

    def fusable(self):
        return self._state_is_tuple and _is_tanh(self._activation)

    def fused_run(self, x, state, seq_len, batch_major):
        y, h, c = fused.basic_lstm_sequence(x, state.h, state.c, self._kernel, self._bias,
                                            seq_len, self._forget_bias, batch_major=batch_major)
        return y, LSTMStateTuple(c, h)


class LSTMCell(BasicLSTMCell):
    """BasicLSTMCell plus peepholes (w_f_diag, w_i_diag, w_o_diag), cell_clip, and a projection
    (num_proj, proj_clip). Weights: kernel [I+P, 4H], bias, [3 diagonals], [projection [H, P]]
    where P = num_proj or H."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None):
        super().__init__(num_units, forget_bias, state_is_tuple, activation, name=name,
                         dtype=dtype)
        self._use_peepholes = use_peepholes
        self._cell_clip, self._proj_clip = cell_clip, proj_clip
        self._num_proj = num_proj
        self._initializer = initializer or "glorot_uniform"

    @property
    def state_size(self):
        H, P = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(H, P) if self._state_is_tuple else H + P

    @property
    def output_size(self):
        return self._num_proj or self._num_units

    def build(self, depth, dtype):
        H, P, init = self._num_units, self._num_proj or self._num_units, self._initializer
        self._kernel = self.add_weight("kernel", [depth + P, 4 * H], dtype, init)
        self._bias = self.add_weight("bias", [4 * H], dtype, "zeros")
        if self._use_peepholes:
            self._w_f_diag = self.add_weight("w_f_diag", [H], dtype, init)
            self._w_i_diag = self.add_weight("w_i_diag", [H], dtype, init)
            self._w_o_diag = self.add_weight("w_o_diag", [H], dtype, init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_weight("projection/kernel", [H, P], dtype, init)

    def call(self, inputs, state):
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = split(state, [self._num_units, self.output_size], axis=1)
        z = bias_add(matmul(concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = split(z, 4, axis=1)
        act, fb = self._activation, self._forget_bias
        if self._use_peepholes:
            c = (sigmoid(f + fb + self._w_f_diag * c_prev) * c_prev +
                 sigmoid(i + self._w_i_diag * c_prev) * act(j))
        else:
            c = sigmoid(f + fb) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        m = (sigmoid(o + self._w_o_diag * c) if self._use_peepholes else sigmoid(o)) * act(c)
        if self._num_proj is not None:
            m = matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else concat([c, m], 1)
        return m, new_state

    def fusable(self):
        return (super().fusable() and not self._use_peepholes and self._cell_clip is None
                and self._num_proj is None)


class GRUCell(RNNCell):
    """r, u = split(sig([x, h] @ gates/kernel + gates/bias), 2); c = act([x, r*h] @
    candidate/kernel + candidate/bias); h' = u*h + (1-u)*c. Gates bias starts at 1."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._num_units = int(num_units)
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer or "glorot_uniform"
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, depth, dtype):
        H, kinit, binit = self._num_units, self._kernel_initializer, self._bias_initializer
        self._gate_kernel = self.add_weight("gates/kernel", [depth + H, 2 * H], dtype, kinit)
        self._gate_bias = self.add_weight("gates/bias", [2 * H], dtype, binit or "ones")
        self._candidate_kernel = self.add_weight("candidate/kernel", [depth + H, H], dtype, kinit)
        self._candidate_bias = self.add_weight("candidate/bias", [H], dtype, binit or "zeros")

    def call(self, inputs, state):
        gates = sigmoid(bias_add(matmul(concat([inputs, state], 1), self._gate_kernel),
                                 self._gate_bias))
        r, u = split(gates, 2, axis=1)
        candidate = bias_add(matmul(concat([inputs, r * state], 1), self._candidate_kernel),
                             self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h

    def fusable(self):
        return _is_tanh(self._activation)

    def fused_run(self, x, state, seq_len, batch_major):
        y, h = fused.gru_sequence(x, state, self._gate_kernel, self._gate_bias,
                                  self._candidate_kernel, self._candidate_bias, seq_len,
                                  batch_major=batch_major)
        return y, h


def _once(weights):
    """Each weight once, in first-use order: a cell given twice ([cell] * n) shares one set of
    weights, which an optimizer must update once per step."""
    out, seen = [], set()
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


class MultiRNNCell(RNNCell):
    """Cells stacked: layer k's output is layer k+1's input; the state is the tuple of the
    layers' states; weights are the layers' lists concatenated, each weight once (the same cell
    object given for several layers shares its weights, as TF1's MultiRNNCell does)."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("MultiRNNCell: must specify at least one cell")
        if not isinstance(cells, (list, tuple)):
            raise TypeError(f"MultiRNNCell: cells must be a list or tuple, got {cells!r}")
        if not state_is_tuple and any(isinstance(c.state_size, tuple) for c in cells):
            raise ValueError(f"MultiRNNCell: some cells have tuple states but state_is_tuple "
                             f"is False; state sizes {[c.state_size for c in cells]}")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self._cells)
        return sizes if self._state_is_tuple else sum(sizes)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        if self._state_is_tuple:
            return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
        return super().zero_state(batch_size, dtype)

    @property
    def weights(self):
        return _once(w for c in self._cells for w in c.weights)

    @property
    def trainable_weights(self):
        return _once(w for c in self._cells for w in c.trainable_weights)

    def build_for(self, shape, dtype):
        if len(shape) != 2:
            raise ValueError(f"{self._describe()}: inputs must have rank 2 [batch, depth], got "
                             f"shape {list(shape)}")
        for cell in self._cells:
            cell.build_for(shape, dtype)
            shape = [shape[0], cell.output_size]
        self.built = True

    def _layer_states(self, state):
        if self._state_is_tuple:
            return list(state)
        return split(state, [c.state_size for c in self._cells], axis=1)

    def call(self, inputs, state):
        out, new_states = inputs, []
        for cell, s in zip(self._cells, self._layer_states(state)):
            out, s = cell.call(out, s)
            new_states.append(s)
        return out, (tuple(new_states) if self._state_is_tuple else concat(new_states, 1))

    def fusable(self):
        return self._state_is_tuple and all(c.fusable() for c in self._cells)

    def fused_run(self, x, state, seq_len, batch_major):
        """One fused node per layer: with TF's masking, running the layers one after another
        over the whole sequence gives exactly the step-interleaved values."""
        bm_in, bm_out = batch_major
        last = len(self._cells) - 1
        finals = []
        for k, (cell, s) in enumerate(zip(self._cells, state)):
            x, s = cell.fused_run(x, s, seq_len, (bm_in and k == 0, bm_out and k == last))
            finals.append(s)
        return x, tuple(finals)


class DropoutWrapper(RNNCell):
    """Dropout on the cell's inputs, outputs and new state (x * (1/keep) * (u >= 1 - keep),
    as tf.nn.dropout); the LSTM memory c is never dropped (TF's default state filter).
    Seeded from `seed` (numpy's stream, not TF's: parity copies weights, not masks)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__(name=f"dropout_wrapper_{cell.name}")
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper: variational_recurrent is not supported")
        self.cell = cell
        self._keep = {}
        for what, p in (("input", input_keep_prob), ("output", output_keep_prob),
                        ("state", state_keep_prob)):
            p = float(p.numpy()) if isinstance(p, Tensor) else float(p)
            if not 0.0 < p <= 1.0:
                raise ValueError(f"DropoutWrapper: {what}_keep_prob must be in (0, 1], got {p}")
            self._keep[what] = p
        self._rng = np.random.default_rng(seed) if seed is not None else None

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        return self.cell.zero_state(batch_size, dtype)

    @property
    def weights(self):
        return self.cell.weights

    @property
    def trainable_weights(self):
        return self.cell.trainable_weights

    def build_for(self, shape, dtype):
        self.cell.build_for(shape, dtype)
        self.built = True

    def check_state(self, state, batch, what="initial_state"):
        return self.cell.check_state(state, batch, what)

    def fusable(self):
        """With every keep probability 1 the wrapper is the bare cell (fused if that is)."""
        return all(p == 1.0 for p in self._keep.values()) and self.cell.fusable()

    def fused_run(self, x, state, seq_len, batch_major):
        return self.cell.fused_run(x, state, seq_len, batch_major)

    def _dropout(self, x, keep):
        rng = self._rng or generator()
        mask = (rng.uniform(size=tuple(x.shape)) >= 1.0 - keep).astype(x.dtype.np)
        return x * (1.0 / keep) * mask

    def call(self, inputs, state):
        keep = self._keep
        if keep["input"] < 1:
            inputs = self._dropout(inputs, keep["input"])
        output, new_state = self.cell.call(inputs, state)
        if keep["state"] < 1:
            new_state = self._drop_state(new_state, keep["state"])
        if keep["output"] < 1:
            output = self._dropout(output, keep["output"])
        return output, new_state

    def _drop_state(self, s, keep):
        if isinstance(s, LSTMStateTuple):
            return LSTMStateTuple(s.c, self._dropout(s.h, keep))
        if isinstance(s, (tuple, list)):
            return type(s)(self._drop_state(v, keep) for v in s)
        return self._dropout(s, keep)


__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "LSTMStateTuple"]
