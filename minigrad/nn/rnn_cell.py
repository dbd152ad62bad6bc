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
from minigrad.initializers import RandomUniform
from minigrad.layers.base import Layer, activation_fn
from minigrad.ops import (cast, clip_by_value, concat, expand_dims, gather, less, matmul, relu,
                          reshape, sigmoid, split, tanh, transpose, zeros)
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


# --- wrappers that add math around a cell --------------------------------------------------------
# TF 1.x's contrib.rnn EmbeddingWrapper, InputProjectionWrapper and OutputProjectionWrapper
# (tensorflow/contrib/rnn/python/ops/core_rnn_cell.py) are cells of their own: their weights
# (embedding; kernel and bias of a linear map) live in the wrapper's scope, the wrapped cell's
# under it. ResidualWrapper (tf_keras/src/layers/rnn/legacy_cell_wrappers.py) has no weights.
def _sequence_mask(seq, y, batch_major, dtype):
    """[B, T, 1] (or [T, B, 1]) of 1 where step t < seq[b], 0 past a row's end: the zeros a
    composite step gives there, for math applied after a fused sequence."""
    T = y.shape[1] if batch_major else y.shape[0]
    keep = less(tensor(np.arange(T, dtype=np.int64))[None, :], expand_dims(seq, 1))   # [B, T]
    keep = cast(keep, dtype)
    return expand_dims(keep if batch_major else transpose(keep, [1, 0]), 2)


def _rows(x):
    """[..., D] -> [N, D] for a per-position map over a whole sequence."""
    return reshape(x, [-1, x.shape[-1]])


class _CellWrapper(RNNCell):
    """A cell around `cell`: its state is the cell's; its weights its own and the cell's, in
    TF's creation order (`_own_first`)."""

    _own_first = True

    def __init__(self, cell, name=None):
        if not isinstance(cell, RNNCell):
            raise TypeError(f"{type(self).__name__}: cell must be an RNNCell, got "
                            f"{type(cell).__module__}.{type(cell).__name__}")
        super().__init__(name=name)
        self.cell = cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        return self.cell.zero_state(batch_size, dtype)

    def check_state(self, state, batch, what="initial_state"):
        return self.cell.check_state(state, batch, what)

    @property
    def weights(self):
        own, inner = list(self._weights), list(self.cell.weights)
        return _once(own + inner if self._own_first else inner + own)

    @property
    def trainable_weights(self):
        own = [w for w in self._weights if w.trainable]
        inner = list(self.cell.trainable_weights)
        return _once(own + inner if self._own_first else inner + own)

    def _build_own(self, depth, dtype):
        """The wrapper's own weights, once (a graph subclass names them in its scope)."""
        if not self.built:
            self.dtype = self.dtype or as_dtype(dtype)
            self.build(depth, self.dtype)
            self.built = True


class DropoutWrapper(_CellWrapper):
    """Dropout on the cell's inputs, outputs and new state (x * (1/keep) * (u >= 1 - keep),
    as tf.nn.dropout); the LSTM memory c is never dropped (TF's default state filter).
    Seeded from `seed` (numpy's stream, not TF's: parity copies weights, not masks)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__(cell, name=f"dropout_wrapper_{getattr(cell, 'name', '')}")
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper: variational_recurrent is not supported")
        self._keep = {}
        for what, p in (("input", input_keep_prob), ("output", output_keep_prob),
                        ("state", state_keep_prob)):
            # NOTE: TF keeps a Python-float probability as a float32 tensor (0.7 becomes
            # 0.699999988), in float64 models too
            p = float(p.numpy()) if isinstance(p, Tensor) else float(np.float32(p))
            if not 0.0 < p <= 1.0:
                raise ValueError(f"DropoutWrapper: {what}_keep_prob must be in (0, 1], got {p}")
            self._keep[what] = p
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def build_for(self, shape, dtype):
        self.cell.build_for(shape, dtype)
        self.built = True

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


def _linear_weights(layer, depth, units, dtype):
    """core_rnn_cell._Linear's variables: kernel [depth, units] (the scope's initializer, else
    glorot-uniform), bias [units] zeros."""
    layer._kernel = layer.add_weight("kernel", [depth, units], dtype, "glorot_uniform")
    layer._bias = layer.add_weight("bias", [units], dtype, "zeros")


class EmbeddingWrapper(_CellWrapper):
    """The cell on embedding[ids]: inputs [batch, 1] integer ids, looked up in `embedding`
    [embedding_classes, embedding_size] (made on the first call, in the state's dtype; default
    initializer uniform(-sqrt(3), sqrt(3)), variance 1, as TF's)."""

    _first_weight = "embedding"

    def __init__(self, cell, embedding_classes, embedding_size, initializer=None, reuse=None,
                 name=None):
        super().__init__(cell, name)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError(f"Both embedding_classes and embedding_size must be > 0: "
                             f"{embedding_classes}, {embedding_size}.")
        self._embedding_classes = int(embedding_classes)
        self._embedding_size = int(embedding_size)
        self._initializer = initializer

    def _embedding_initializer(self):
        sqrt3 = float(np.sqrt(3.0))
        return self._initializer or RandomUniform(-sqrt3, sqrt3)

    def build(self, depth, dtype):
        self._embedding = self.add_weight(
            "embedding", [self._embedding_classes, self._embedding_size], dtype,
            self._embedding_initializer())

    def build_for(self, shape, dtype):
        """Inputs [batch, 1] of integer ids; the weights wait for the state's dtype (call)."""
        if len(shape) != 2 or shape[1] != 1 or as_dtype(dtype).is_floating:
            raise ValueError(f"{self._describe()}: inputs must be integer ids of shape "
                             f"[batch, 1], got {as_dtype(dtype).name} of shape {list(shape)}")
        self._input_depth = 1

    def _embed(self, ids, state):
        dtype = _flatten(state)[0].dtype
        self._build_own(1, dtype)
        E = self._embedding_size
        self.cell.build_for([ids.shape[0], E], self.dtype)
        return gather(self._embedding, reshape(ids, [-1]))

    def call(self, inputs, state):
        return self.cell.call(self._embed(inputs, state), state)

    def fusable(self):
        return self.cell.fusable()

    def fused_run(self, x, state, seq_len, batch_major):
        """The lookup of every step at once (per position, so either layout), then the cell's
        fused sequence."""
        lead = list(x.shape[:2])
        e = reshape(self._embed(reshape(x, [-1, 1]), state), lead + [self._embedding_size])
        return self.cell.fused_run(e, state, seq_len, batch_major)


class InputProjectionWrapper(_CellWrapper):
    """The cell on activation(inputs @ kernel + bias): kernel [I, num_proj], bias zeros; no
    activation by default."""

    def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None, name=None):
        super().__init__(cell, name)
        self._num_proj = int(num_proj)
        self._proj_activation = activation_fn(activation)

    def build(self, depth, dtype):
        _linear_weights(self, depth, self._num_proj, dtype)

    def build_for(self, shape, dtype):
        super().build_for(shape, dtype)
        self.cell.build_for([shape[0], self._num_proj], self.dtype)

    def _project(self, x):
        y = bias_add(matmul(x, self._kernel), self._bias)
        return self._proj_activation(y) if self._proj_activation else y

    def call(self, inputs, state):
        return self.cell.call(self._project(inputs), state)

    def fusable(self):
        return self.cell.fusable()

    def fused_run(self, x, state, seq_len, batch_major):
        """The projection of every step at once (per position), then the cell's sequence."""
        p = reshape(self._project(_rows(x)), list(x.shape[:2]) + [self._num_proj])
        return self.cell.fused_run(p, state, seq_len, batch_major)


class OutputProjectionWrapper(_CellWrapper):
    """activation(cell output @ kernel + bias) as the output, the cell's state as the state:
    kernel [cell.output_size, output_size], bias zeros (made after the cell's weights)."""

    _own_first = False

    def __init__(self, cell, output_size, activation=None, reuse=None, name=None):
        super().__init__(cell, name)
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._output_size = int(output_size)
        self._proj_activation = activation_fn(activation)

    @property
    def output_size(self):
        return self._output_size

    def build_for(self, shape, dtype):
        self.cell.build_for(shape, dtype)
        RNNCell.build_for(self, shape, dtype)     # checks the input depth on later calls

    def build(self, depth, dtype):
        # the kernel maps the cell's output, whatever the input depth
        _linear_weights(self, self.cell.output_size, self._output_size, dtype)

    def _project(self, y):
        z = bias_add(matmul(y, self._kernel), self._bias)
        return self._proj_activation(z) if self._proj_activation else z

    def call(self, inputs, state):
        output, new_state = self.cell.call(inputs, state)
        return self._project(output), new_state

    def fusable(self):
        return self.cell.fusable()

    def fused_run(self, x, state, seq_len, batch_major):
        """The cell's fused sequence, then the projection of every step at once; past a row's
        end the output is zero, as dynamic_rnn's step-wise masking makes it."""
        y, final = self.cell.fused_run(x, state, seq_len, batch_major)
        p = reshape(self._project(_rows(y)), list(y.shape[:2]) + [self._output_size])
        if seq_len is not None:
            p = p * _sequence_mask(seq_len, p, batch_major[1], p.dtype)
        return p, final


class ResidualWrapper(_CellWrapper):
    """output = residual_fn(inputs, cell output), by default inputs + output (the two must have
    one shape); the state is the cell's. No weights of its own."""

    def __init__(self, cell, residual_fn=None, name=None):
        super().__init__(cell, name)
        self._residual_fn = residual_fn

    def build_for(self, shape, dtype):
        self.cell.build_for(shape, dtype)
        self.built = True

    def _residual(self, inputs, output):
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output)
        if tuple(inputs.shape) != tuple(output.shape):
            raise ValueError(f"{self._describe()}: the inputs {list(inputs.shape)} and the "
                             f"cell's output {list(output.shape)} must have one shape to be "
                             f"added")
        return inputs + output

    def call(self, inputs, state):
        output, new_state = self.cell.call(inputs, state)
        return self._residual(inputs, output), new_state

    def fusable(self):
        return self._residual_fn is None and self.cell.fusable()

    def fused_run(self, x, state, seq_len, batch_major):
        """The cell's fused sequence plus the inputs (in the output's layout), zero past a
        row's end as the step-wise masking makes it."""
        bm_in, bm_out = batch_major
        y, final = self.cell.fused_run(x, state, seq_len, batch_major)
        if bm_in != bm_out:
            x = transpose(x, [1, 0, 2])
        if seq_len is not None:
            x = x * _sequence_mask(seq_len, x, bm_out, x.dtype)
        return self._residual(x, y), final


__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "LSTMStateTuple", "EmbeddingWrapper", "InputProjectionWrapper",
           "OutputProjectionWrapper", "ResidualWrapper"]
