"""TF1's recurrent API in graph mode: the cells of `tf.nn.rnn_cell` / `tf.contrib.rnn`,
`tf.nn.dynamic_rnn`, `static_rnn`, the bidirectional forms, and contrib's `sequence_loss`.

The cells are minigrad's own (minigrad/nn/rnn_cell.py) with a graph face: called on graph
Tensors, `cell(x, state)` records one Operation whose function is the minigrad cell's call, and
`tf.nn.dynamic_rnn` records one Operation calling `mg.nn.dynamic_rnn` (the fused sequence
kernels), so no recurrent math is written here.

Variable names follow TF1's rules:
- a cell takes its variable scope on its first call (tf_keras/src/legacy_tf_layers/base.py,
  `Layer._set_scope`): `variable_scope(scope, default_name=<base name>)` under the scope it is
  called in, so unnamed cells in one scope are basic_lstm_cell, basic_lstm_cell_1, ...; it keeps
  that scope for every later call (static_rnn's steps, a second dynamic_rnn);
- MultiRNNCell calls layer i inside `cell_i` of its own scope, and DropoutWrapper calls its cell
  in the scope it is called in (tf_keras/src/layers/rnn/legacy_cells.py, legacy_cell_wrappers.py);
- ResidualWrapper calls its cell in the scope it is called in too; EmbeddingWrapper,
  InputProjectionWrapper and OutputProjectionWrapper (TF 1.x's contrib core_rnn_cell.py) are
  cells with a scope of their own (embedding_wrapper, ...), holding their weights, with the
  wrapped cell's scope inside it;
- dynamic_rnn and static_rnn open `scope or "rnn"`; the bidirectional forms
  `scope or "bidirectional_rnn"`, then "fw" and "bw" (tensorflow/python/ops/rnn.py).
A cell's weights are created when its Operation is made (in the stand-in run that infers shapes),
as graph variables named `<cell scope>/<weight>`, in the minigrad cell's order, which is TF's.

Not as in TF: DropoutWrapper draws its masks from numpy's stream, not TF's; MultiRNNCell.weights lists a
cell given twice once.
"""
import contextlib
import functools
import threading
import types
import warnings

import numpy as np

import minigrad as mg
from minigrad.compat.v1.graph import Tensor, get_default_graph, make_op
from minigrad.compat.v1.ops import _rng
from minigrad.compat.v1.runtime import current_run
from minigrad.compat.v1.variables import AUTO_REUSE, VariableScope, variable_scope
from minigrad.core import apply, state as _state
from minigrad.core.nest import flatten, pack_like
from minigrad.layers.base import snake_case
from minigrad.nn import rnn_cell as _mg
from minigrad.ops import random as _random_ops

LSTMStateTuple = _mg.LSTMStateTuple


# --- running minigrad's cells inside an Operation ------------------------------------------------
class _Depth(threading.local):
    def __init__(self):
        self.n = 0


_body = _Depth()


@contextlib.contextmanager
def _eager():
    """Inside an Operation's function the cells are minigrad's eager cells again (mg's
    dynamic_rnn calls `cell.zero_state(B, dtype)` with a number, as a user's graph code does)."""
    _body.n += 1
    try:
        yield
    finally:
        _body.n -= 1


def _in_body():
    return _body.n > 0


def _eager_fn(fn):
    """An activation given as a graph function (tf.tanh, tf.nn.relu) -> the minigrad function it
    records, so the cell keeps its fused path; names and other callables pass through."""
    return getattr(fn, "__wrapped__", fn) if callable(fn) else fn


class _GraphCell:
    """The graph face of a minigrad cell (mixed in before the minigrad class)."""

    _first_weight = "kernel"       # named in TF's error for a missing shared variable

    def _graph_init(self, name, reuse):
        self._base_name = name or snake_case(type(self).__name__)
        self._reuse = reuse
        self._tf_scope = None      # the VariableScope TF1 gives the cell on its first call
        self._graph = None

    @property
    def scope_name(self):
        return None if self._tf_scope is None else self._tf_scope.name

    def __call__(self, inputs, state, scope=None):
        if _in_body():
            return super().__call__(inputs, state)
        _take_scopes(self, scope)
        _check_reuse(self)
        keeps = [t for _, _, t in _keep_inputs(self)]
        statics = _batch_statics([inputs], 0, state)
        return make_op(type(self).__name__, functools.partial(_call_body, self, statics),
                       (inputs, state, keeps))

    def zero_state(self, batch_size, dtype):
        """Zeros in the structure of state_size, [batch_size, size] each; batch_size may be a
        graph Tensor (tf.shape(x)[0])."""
        if _in_body():
            return super().zero_state(batch_size, dtype)
        return make_op("ZeroState", functools.partial(_zero_state_body, self, dtype),
                       (batch_size,), name=type(self).__name__ + "ZeroState")

    def build_for(self, shape, dtype):
        if self.built or self._tf_scope is None or _state.variable_creator() is None:
            return super().build_for(shape, dtype)
        # the weights are `<cell scope>/<weight>`: the layer's name is the cell's whole scope,
        # made under the root scope (graph_variable_creator prefixes the current one)
        self.name = self._tf_scope.name
        scopes = self._graph._var_scopes
        scopes.append(VariableScope(""))
        try:
            return super().build_for(shape, dtype)
        finally:
            scopes.pop()

    def add_weight(self, name, shape, dtype, init, trainable=True):
        # TF1's cells leave their kernels' initializer to the variable scope (a scope made with
        # initializer=... gives it); minigrad's cells spell that default "glorot_uniform",
        # get_variable's own default, and give biases theirs explicitly, as TF's do
        scope_init = None if self._tf_scope is None else self._tf_scope.initializer
        if scope_init is not None and isinstance(init, str) and init == "glorot_uniform":
            init = scope_init
        return super().add_weight(name, shape, dtype, init, trainable)

    @property
    def weights(self):
        """The graph Variables (tf.Variable) of the cell, in TF's order, each once (a
        MultiRNNCell given one cell twice lists its weights once; TF's lists them per layer)."""
        return [getattr(w, "graph_var", w) for w in super().weights]

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights


def _call_body(cell, statics, inputs, state, keep_values):
    (inputs,), state = _agree_batch([inputs], 0, state, statics)
    with _eager(), _bound_keeps(cell, keep_values):
        return super(_GraphCell, cell).__call__(inputs, state)


def _zero_state_body(cell, dtype, batch):
    # the batch size comes from a shape (tf.shape(x)[0]), which the session's plans key on
    batch = int(batch.numpy()) if hasattr(batch, "numpy") else int(batch)
    with _eager():
        return cell.zero_state(batch, dtype)


# --- scopes ---------------------------------------------------------------------------------
def _take_scopes(cell, scope=None):
    """Give `cell`, and the cells inside it, the variable scope TF1 gives on a first call, made
    in the current variable scope; cells that have one keep it."""
    if isinstance(cell, (DropoutWrapper, ResidualWrapper)):
        return _take_scopes(cell.cell, scope)
    if cell._tf_scope is None:
        if scope is None and cell._reuse:
            scope = cell._base_name           # reuse=True: the base name, not uniquified
        with variable_scope(scope, default_name=cell._base_name) as captured:
            cell._tf_scope, cell._graph = captured, get_default_graph()
    if isinstance(cell, MultiRNNCell):
        with variable_scope(cell._tf_scope):
            for i, c in enumerate(cell._cells):
                with variable_scope(f"cell_{i}"):
                    _take_scopes(c)
    if isinstance(cell, _ScopedWrapper):      # the wrapped cell is called in the wrapper's scope
        with variable_scope(cell._tf_scope):
            _take_scopes(cell.cell)


def _leaves(cell):
    """The cells holding weights (in call order, each once)."""
    if isinstance(cell, (DropoutWrapper, ResidualWrapper)):
        return _leaves(cell.cell)
    if isinstance(cell, _ScopedWrapper):
        return [cell] + [leaf for leaf in _leaves(cell.cell) if leaf is not cell]
    if isinstance(cell, MultiRNNCell):
        out = []
        for c in cell._cells:
            out += [leaf for leaf in _leaves(c) if all(leaf is not o for o in out)]
        return out
    return [cell]


def _check_reuse(cell):
    """TF's get_variable rules for a cell about to make its weights: existing weights need a
    reusing scope; reuse=True needs existing weights."""
    for leaf in _leaves(cell):
        if leaf.built:
            continue
        prefix = leaf._tf_scope.name + "/"
        existing = [n for n in leaf._graph._var_store if n.startswith(prefix)]
        reuse = True if leaf._reuse else leaf._tf_scope.reuse
        if existing and reuse is not True and reuse is not AUTO_REUSE:
            raise ValueError(f"Variable {existing[0]} already exists, disallowed. Did you mean "
                             f"to set reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if not existing and reuse is True:
            raise ValueError(f"Variable {prefix}{leaf._first_weight} does not exist, or was not "
                             f"created with tf.get_variable(). Did you mean to set "
                             f"reuse=tf.AUTO_REUSE in VarScope?")


def _check_cell(cell, what):
    if not isinstance(cell, _GraphCell):
        raise TypeError(f"{what}: cell must be a tf.nn.rnn_cell / tf.contrib.rnn cell, got "
                        f"{type(cell).__module__}.{type(cell).__name__}")


# --- the cells -----------------------------------------------------------------------------------
class RNNCell(_GraphCell, _mg.RNNCell):
    """The TF1 cell interface (state_size, output_size, zero_state, __call__), for isinstance
    checks. A subclass's `call` runs inside an Operation on minigrad tensors, so it must use
    minigrad's functions and `add_weight`, not tf.* graph functions or tf.get_variable."""

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, **kwargs):
        _mg.RNNCell.__init__(self, name=name or snake_case(type(self).__name__), dtype=dtype)
        self._graph_init(name, _reuse)


class BasicRNNCell(_GraphCell, _mg.BasicRNNCell):
    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        _mg.BasicRNNCell.__init__(self, num_units, _eager_fn(activation), reuse,
                                  name=name or "basic_rnn_cell", dtype=dtype)
        self._graph_init(name, reuse)


class BasicLSTMCell(_GraphCell, _mg.BasicLSTMCell):
    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        _mg.BasicLSTMCell.__init__(self, num_units, forget_bias, state_is_tuple,
                                   _eager_fn(activation), reuse,
                                   name=name or "basic_lstm_cell", dtype=dtype)
        self._graph_init(name, reuse)


class LSTMCell(_GraphCell, _mg.LSTMCell):
    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        _mg.LSTMCell.__init__(self, num_units, use_peepholes, cell_clip, initializer, num_proj,
                              proj_clip, num_unit_shards, num_proj_shards, forget_bias,
                              state_is_tuple, _eager_fn(activation), reuse,
                              name=name or "lstm_cell", dtype=dtype)
        self._graph_init(name, reuse)


class GRUCell(_GraphCell, _mg.GRUCell):
    _first_weight = "gates/kernel"

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        _mg.GRUCell.__init__(self, num_units, _eager_fn(activation), reuse, kernel_initializer,
                             bias_initializer, name=name or "gru_cell", dtype=dtype)
        self._graph_init(name, reuse)


class MultiRNNCell(_GraphCell, _mg.MultiRNNCell):
    """Cells stacked. The same cell object given twice ([cell] * n, as TF1 decks write) is one
    set of weights used by every layer it stands in, as tf.compat.v1's MultiRNNCell does (it
    warns); its input depth must then equal its output size."""

    def __init__(self, cells, state_is_tuple=True):
        _mg.MultiRNNCell.__init__(self, cells, state_is_tuple)
        self._graph_init(None, None)
        for c in self._cells:
            if not isinstance(c, _GraphCell):
                raise TypeError(f"MultiRNNCell: every cell must be a tf.nn.rnn_cell cell, got "
                                f"{type(c).__module__}.{type(c).__name__}")
        if len({id(c) for c in self._cells}) < len(self._cells):
            warnings.warn("At least two cells provided to MultiRNNCell are the same object and "
                          "will share weights.", stacklevel=2)


class DropoutWrapper(_GraphCell, _mg.DropoutWrapper):
    """Dropout on the wrapped cell's inputs, outputs and new state; the masks are drawn by a
    random op on every Session.run (tf.nn.dropout's rule x / keep * (u >= 1 - keep)). A keep
    probability may be a graph Tensor (a fed placeholder): then the dropout ops always run,
    and keep = 1 gives x * 1 * 1, the input exactly."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        if not isinstance(cell, _GraphCell):
            raise TypeError(f"DropoutWrapper: cell must be a tf.nn.rnn_cell cell, got "
                            f"{type(cell).__module__}.{type(cell).__name__}")
        given = {"input": input_keep_prob, "output": output_keep_prob, "state": state_keep_prob}
        self._keep_tensors = {k: p for k, p in given.items() if isinstance(p, Tensor)}
        floats = {k: (1.0 if k in self._keep_tensors else p) for k, p in given.items()}
        _mg.DropoutWrapper.__init__(self, cell, floats["input"], floats["output"],
                                    floats["state"], variational_recurrent, input_size, dtype,
                                    None, dropout_state_filter_visitor)
        self._graph_init(None, None)
        self._draws = _rng(seed)           # the random op's stream (graph and op seeds)
        self._keep_values = {}             # fed keep probabilities, while an op runs

    def fusable(self):
        return not self._keep_tensors and super().fusable()

    def _keep_now(self, what):
        return self._keep_values.get(what, self._keep[what])

    def call(self, inputs, state):
        keep = {what: self._keep_now(what) for what in ("input", "output", "state")}
        if _drops(keep["input"]):
            inputs = self._dropout(inputs, keep["input"])
        output, new_state = self.cell.call(inputs, state)
        if _drops(keep["state"]):
            new_state = self._drop_state(new_state, keep["state"])
        if _drops(keep["output"]):
            output = self._dropout(output, keep["output"])
        return output, new_state

    def _dropout(self, x, keep):
        if isinstance(keep, mg.Tensor):
            keep = mg.cast(keep, x.dtype)      # a float32 keep_prob placeholder, float64 cell
        shape = mg.constant(np.asarray(x.shape, np.int32))
        u = apply(_random_ops.RandomUniform(rng=self._draws, dtype=x.dtype.np), shape)
        mask = mg.cast(mg.greater_equal(u, 1.0 - keep), x.dtype)
        return x * (1.0 / keep) * mask


def _drops(keep):
    return not isinstance(keep, float) or keep < 1.0


def _keep_inputs(cell):
    """(wrapper, what, graph Tensor) for every fed keep probability inside `cell`."""
    if isinstance(cell, DropoutWrapper):
        return [(cell, k, t) for k, t in cell._keep_tensors.items()] + _keep_inputs(cell.cell)
    if isinstance(cell, (ResidualWrapper, _ScopedWrapper)):
        return _keep_inputs(cell.cell)
    if isinstance(cell, MultiRNNCell):
        out = []
        for c in cell._cells:
            out += [e for e in _keep_inputs(c) if all(e[0] is not o[0] for o in out)]
        return out
    return []


@contextlib.contextmanager
def _bound_keeps(cell, values):
    """The fed keep probabilities' values of this run, set on their wrappers while the op's
    function runs."""
    entries = _keep_inputs(cell)
    for (wrapper, what, _), v in zip(entries, values):
        wrapper._keep_values[what] = v
    try:
        yield
    finally:
        for wrapper, what, _ in entries:
            wrapper._keep_values.pop(what, None)


# --- wrappers with math of their own -------------------------------------------------------------
def _wrapped(cell, what):
    if not isinstance(cell, _GraphCell):
        raise TypeError(f"{what}: cell must be a tf.nn.rnn_cell / tf.contrib.rnn cell, got "
                        f"{type(cell).__module__}.{type(cell).__name__}")
    return cell


class _ScopedWrapper(_GraphCell):
    """A contrib wrapper with weights (tensorflow/contrib/rnn/python/ops/core_rnn_cell.py): an
    RNNCell of its own, so it takes a scope on its first call (embedding_wrapper, ...) and calls
    the wrapped cell inside it: rnn/embedding_wrapper/embedding,
    rnn/embedding_wrapper/basic_lstm_cell/kernel."""

    def _build_own(self, depth, dtype):
        # weights made in call (the embedding waits for the state's dtype): named as
        # _GraphCell.build_for names them, `<wrapper scope>/<weight>` from the root scope
        if self.built or self._tf_scope is None or _state.variable_creator() is None:
            return super()._build_own(depth, dtype)
        self.name = self._tf_scope.name
        scopes = self._graph._var_scopes
        scopes.append(VariableScope(""))
        try:
            return super()._build_own(depth, dtype)
        finally:
            scopes.pop()


class EmbeddingWrapper(_ScopedWrapper, _mg.EmbeddingWrapper):
    """The cell on looked-up embeddings of ids [batch, 1]; `embedding` takes the initializer
    given, else the variable scope's, else uniform(-sqrt(3), sqrt(3)) (TF's order)."""

    _first_weight = "embedding"

    def __init__(self, cell, embedding_classes, embedding_size, initializer=None, reuse=None,
                 **kwargs):
        _mg.EmbeddingWrapper.__init__(self, _wrapped(cell, "EmbeddingWrapper"),
                                      embedding_classes, embedding_size, initializer, reuse,
                                      name="embedding_wrapper")
        self._graph_init(None, reuse)

    def _embedding_initializer(self):
        scope_init = None if self._tf_scope is None else self._tf_scope.initializer
        return self._initializer or scope_init or super()._embedding_initializer()


class InputProjectionWrapper(_ScopedWrapper, _mg.InputProjectionWrapper):
    def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None, **kwargs):
        _mg.InputProjectionWrapper.__init__(
            self, _wrapped(cell, "InputProjectionWrapper"), num_proj, _eager_fn(activation),
            input_size, reuse, name="input_projection_wrapper")
        self._graph_init(None, reuse)


class OutputProjectionWrapper(_ScopedWrapper, _mg.OutputProjectionWrapper):
    def __init__(self, cell, output_size, activation=None, reuse=None, **kwargs):
        _mg.OutputProjectionWrapper.__init__(
            self, _wrapped(cell, "OutputProjectionWrapper"), output_size,
            _eager_fn(activation), reuse, name="output_projection_wrapper")
        self._graph_init(None, reuse)


class ResidualWrapper(_GraphCell, _mg.ResidualWrapper):
    """outputs = residual_fn(inputs, outputs), inputs + outputs by default. As TF's wrapper it
    calls its cell in the scope it is called in (no scope, no weights of its own). A given
    residual_fn runs inside the Operation on minigrad tensors (so: arithmetic operators, or
    minigrad functions), like a custom cell's call."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        _mg.ResidualWrapper.__init__(self, _wrapped(cell, "ResidualWrapper"),
                                     _eager_fn(residual_fn))
        self._graph_init(None, None)


rnn_cell = types.SimpleNamespace(**{c.__name__: c for c in (
    RNNCell, BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, DropoutWrapper,
    LSTMStateTuple, ResidualWrapper, EmbeddingWrapper, InputProjectionWrapper,
    OutputProjectionWrapper)})          # tf.nn.rnn_cell (TF 1.x: ResidualWrapper; the other
# three were tf.contrib.rnn's only, here in both)


# --- sequence lengths ----------------------------------------------------------------------------
def _lengths(seq, batch, steps):
    """sequence_length as the minigrad RNN takes it, in an Operation's function.

    While the graph is built (stand-in inputs of made-up sizes) the lengths are the full
    length: only shapes are inferred then. In a Session run a graph Tensor's value reaches
    minigrad's RNN as a tensor, which the sequence ops read on every run of the plan."""
    if seq is None:
        return None
    if current_run() is None:
        return np.full(batch, steps, np.int64)
    return seq


def _batch_steps(x, time_major):
    shape = tuple(x.shape)
    return (shape[1], shape[0]) if time_major else (shape[0], shape[1])


def _static(value):
    """A value's static shape as the graph knows it (None where unknown; None for an unknown
    rank); a constant's own shape."""
    if isinstance(value, Tensor):
        return value._shape
    return None if value is None else np.shape(value)


def _dim(shape, axis):
    return None if shape is None or len(shape) <= axis else shape[axis]


def _agree(values, known, axes):
    """While the graph is built, values whose dimension `axes[i]` is unknown (stand-in sizes
    2, then 3) take the size the others know, as zeros: TF merges an unknown dimension with a
    known one (zero_state(1, ...) with a [None, ...] placeholder has batch 1). Only shapes are
    inferred then; a Session run uses the values as given, and checks them."""
    sizes = {k for k in known if k is not None}
    if current_run() is not None or len(sizes) != 1:
        return values
    size = sizes.pop()
    return [_resized(v, a, size) if k is None and v is not None else v
            for v, k, a in zip(values, known, axes)]


def _resized(value, axis, size):
    t = mg.convert_to_tensor(value)
    if t.ndim <= axis or t.shape[axis] == size:
        return t
    shape = list(t.shape)
    shape[axis] = size
    return mg.zeros(shape, t.dtype)


def _batch_statics(xs, axis, state):
    """The static batch size of each input (at `axis`) and of each tensor of the state."""
    return ([_dim(_static(x), axis) for x in xs], [_dim(_static(v), 0) for v in flatten(state)])


def _agree_batch(xs, axis, state, statics):
    """The inputs' and the initial state's batch sizes made to agree in stand-in runs."""
    x_known, s_known = statics
    leaves = flatten(state)
    out = _agree(list(xs) + leaves, x_known + s_known, [axis] * len(xs) + [0] * len(leaves))
    return out[:len(xs)], pack_like(state, out[len(xs):])


# --- dynamic_rnn and static_rnn ------------------------------------------------------------------
def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Run `cell` over inputs [batch, time, depth] ([time, batch, depth] if time_major) as one
    Operation: (outputs, final state), the state in the cell's structure (LSTMStateTuple(c, h)
    for LSTM cells); past a row's sequence_length its outputs are zero and its state is kept."""
    _check_cell(cell, "dynamic_rnn")
    if initial_state is None and dtype is None:
        raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
    with variable_scope(scope or "rnn"):
        _take_scopes(cell)
        _check_reuse(cell)
        keeps = [t for _, _, t in _keep_inputs(cell)]
        statics = _batch_statics([inputs], 1 if time_major else 0, initial_state)
        body = functools.partial(_dynamic_body, cell, dtype, time_major, statics)
        return make_op("DynamicRNN", body, (inputs, sequence_length, initial_state, keeps))


def _dynamic_body(cell, dtype, time_major, statics, inputs, seq, initial_state, keep_values):
    (x,), initial_state = _agree_batch([inputs], 1 if time_major else 0, initial_state, statics)
    x = mg.convert_to_tensor(x)
    with _eager(), _bound_keeps(cell, keep_values):
        if x.ndim == 3:
            seq = _lengths(seq, *_batch_steps(x, time_major))
        return mg.nn.dynamic_rnn(cell, x, sequence_length=seq, initial_state=initial_state,
                                 dtype=dtype, time_major=time_major)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Run `cell` over a list of T inputs [batch, depth] as one Operation: (list of T outputs,
    final state)."""
    _check_cell(cell, "static_rnn")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    if initial_state is None and not dtype:
        raise ValueError("If no initial_state is provided, dtype must be specified")
    with variable_scope(scope or "rnn"):
        _take_scopes(cell)
        _check_reuse(cell)
        keeps = [t for _, _, t in _keep_inputs(cell)]
        body = functools.partial(_static_body, cell, dtype,
                                 _batch_statics(inputs, 0, initial_state))
        return make_op("StaticRNN", body, (list(inputs), sequence_length, initial_state, keeps))


def _static_body(cell, dtype, statics, inputs, seq, initial_state, keep_values):
    xs, initial_state = _agree_batch(inputs, 0, initial_state, statics)
    xs = [mg.convert_to_tensor(x) for x in xs]
    with _eager(), _bound_keeps(cell, keep_values):
        if xs[0].ndim == 2:
            seq = _lengths(seq, xs[0].shape[0], len(xs))
        outputs, state = mg.nn.static_rnn(cell, xs, initial_state=initial_state, dtype=dtype,
                                          sequence_length=seq)
        return list(outputs), state


# --- bidirectional -------------------------------------------------------------------------------
def _reverse(x, seq, time_axis):
    """TF's reverse_sequence on axis `time_axis` (0 or 1; the batch is the other): each row's
    first seq[b] steps reversed, the rest in place; all steps reversed when seq is None. A
    gather of rows, so the gradient flows back through the same index."""
    x = mg.convert_to_tensor(x)
    n_t, n_b = x.shape[time_axis], x.shape[1 - time_axis]
    t = np.arange(n_t)[:, None]
    lengths = np.full(n_b, n_t) if seq is None else np.asarray(
        seq.numpy() if hasattr(seq, "numpy") else seq).astype(np.int64)
    src = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)     # [T, B]
    b = np.arange(n_b)[None, :]
    index = src * n_b + b if time_axis == 0 else (b * n_t + src).T
    rest = list(x.shape[2:])
    flat = mg.reshape(x, [-1] + rest)
    return mg.reshape(mg.gather(flat, index.reshape(-1).astype(np.int64)), list(x.shape))


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """((outputs_fw, outputs_bw), (state_fw, state_bw)): cell_bw runs over the reversed
    sequences (each row reversed within its length) and its outputs are reversed back."""
    _check_cell(cell_fw, "bidirectional_dynamic_rnn")
    _check_cell(cell_bw, "bidirectional_dynamic_rnn")
    for init in (initial_state_fw, initial_state_bw):
        if init is None and dtype is None:
            raise ValueError("If no initial_state is provided, argument `dtype` must be "
                             "specified")
    with variable_scope(scope or "bidirectional_rnn"):
        _directions(cell_fw, cell_bw)
        keeps = [t for c in (cell_fw, cell_bw) for _, _, t in _keep_inputs(c)]
        statics = _batch_statics([inputs], 1 if time_major else 0,
                                 (initial_state_fw, initial_state_bw))
        body = functools.partial(_bidirectional_body, cell_fw, cell_bw, dtype, time_major,
                                 statics, _dim(_static(sequence_length), 0))
        return make_op("BidirectionalRNN", body, (inputs, sequence_length, initial_state_fw,
                                                  initial_state_bw, keeps))


def _directions(cell_fw, cell_bw):
    for cell, name in ((cell_fw, "fw"), (cell_bw, "bw")):
        with variable_scope(name):
            _take_scopes(cell)
            _check_reuse(cell)


def _split_keeps(cell_fw, values):
    n = len(_keep_inputs(cell_fw))
    return values[:n], values[n:]


def _bidirectional_body(cell_fw, cell_bw, dtype, time_major, statics, seq_batch, inputs, seq,
                        init_fw, init_bw, keep_values):
    (x,), (init_fw, init_bw) = _agree_batch([inputs], 1 if time_major else 0,
                                            (init_fw, init_bw), statics)
    x = mg.convert_to_tensor(x)
    keep_fw, keep_bw = _split_keeps(cell_fw, keep_values)
    time_axis = 0 if time_major else 1
    with _eager():
        if x.ndim == 3:
            seq = _lengths(seq, *_batch_steps(x, time_major))
        with _bound_keeps(cell_fw, keep_fw):
            out_fw, state_fw = mg.nn.dynamic_rnn(cell_fw, x, seq, init_fw, dtype,
                                                 time_major=time_major)
        x_bw, seq_bw = _backward_stand_in(_reverse(x, seq, time_axis), seq, seq_batch,
                                          1 - time_axis, x.shape[time_axis])
        with _bound_keeps(cell_bw, keep_bw):
            out, state_bw = mg.nn.dynamic_rnn(cell_bw, x_bw, seq_bw, init_bw, dtype,
                                              time_major=time_major)
        return (out_fw, _reverse(out, seq_bw, time_axis)), (state_fw, state_bw)


def _backward_stand_in(x_reversed, seq, seq_batch, batch_axis, steps):
    """TF's reverse_sequence takes its static batch from the lengths' shape, so the backward
    direction's results have a known batch where the lengths do: while the graph is built, the
    reversed inputs (and their lengths) take that size."""
    if current_run() is not None or seq_batch is None:
        return x_reversed, seq
    x_reversed = _agree([x_reversed, None], [None, seq_batch], [batch_axis, 0])[0]
    return x_reversed, np.full(seq_batch, steps, np.int64)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """(outputs, state_fw, state_bw): outputs[t] = concat([fw_t, bw_t], 1), where bw runs over
    the reversed inputs and its outputs are reversed back."""
    _check_cell(cell_fw, "static_bidirectional_rnn")
    _check_cell(cell_bw, "static_bidirectional_rnn")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a list")
    if not inputs:
        raise ValueError("inputs must not be empty")
    for init in (initial_state_fw, initial_state_bw):
        if init is None and not dtype:
            raise ValueError("If no initial_state is provided, dtype must be specified")
    with variable_scope(scope or "bidirectional_rnn"):
        _directions(cell_fw, cell_bw)
        keeps = [t for c in (cell_fw, cell_bw) for _, _, t in _keep_inputs(c)]
        statics = _batch_statics(inputs, 0, (initial_state_fw, initial_state_bw))
        body = functools.partial(_static_bidirectional_body, cell_fw, cell_bw, dtype, statics,
                                 _dim(_static(sequence_length), 0))
        return make_op("StaticBidirectionalRNN", body, (list(inputs), sequence_length,
                                                        initial_state_fw, initial_state_bw,
                                                        keeps))


def _static_bidirectional_body(cell_fw, cell_bw, dtype, statics, seq_batch, inputs, seq,
                               init_fw, init_bw, keep_values):
    xs, (init_fw, init_bw) = _agree_batch(inputs, 0, (init_fw, init_bw), statics)
    xs = [mg.convert_to_tensor(x) for x in xs]
    keep_fw, keep_bw = _split_keeps(cell_fw, keep_values)
    with _eager():
        if xs[0].ndim == 2:
            seq = _lengths(seq, xs[0].shape[0], len(xs))
        with _bound_keeps(cell_fw, keep_fw):
            out_fw, state_fw = mg.nn.static_rnn(cell_fw, xs, init_fw, dtype, seq)
        if seq is None:
            xs_bw, seq_bw = xs[::-1], None
        else:
            x_bw, seq_bw = _backward_stand_in(_reverse(mg.stack(xs), seq, 0), seq, seq_batch,
                                              1, len(xs))
            xs_bw = mg.unstack(x_bw)
        with _bound_keeps(cell_bw, keep_bw):
            out, state_bw = mg.nn.static_rnn(cell_bw, xs_bw, init_bw, dtype, seq_bw)
        out_bw = out[::-1] if seq is None else mg.unstack(_reverse(mg.stack(out), seq_bw, 0))
        outputs = [mg.concat(_agree([f, b], [None, seq_batch], [0, 0]), 1)
                   for f, b in zip(out_fw, out_bw)]
        return outputs, state_fw, state_bw


# --- contrib.seq2seq -----------------------------------------------------------------------------
def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, softmax_loss_function=None, name=None,
                  sum_over_timesteps=False, sum_over_batch=False):
    """tf.contrib.seq2seq.sequence_loss: the weighted cross-entropy of logits [batch, time,
    classes] against targets [batch, time], averaged as asked (mg.seq2seq.sequence_loss)."""
    if sum_over_timesteps or sum_over_batch:
        raise NotImplementedError("sequence_loss: sum_over_timesteps / sum_over_batch are not "
                                  "supported (the average_across_* forms are)")
    statics = [_static(v) for v in (logits, targets, weights)]
    body = functools.partial(_sequence_loss_body, statics, average_across_timesteps,
                             average_across_batch, _eager_fn(softmax_loss_function))
    return make_op("SequenceLoss", body, (logits, targets, weights),
                   name=name or "sequence_loss")


def _sequence_loss_body(statics, across_timesteps, across_batch, loss_fn, *values):
    values = list(values)
    for axis in (0, 1):       # a [None, T] targets placeholder with logits of a fixed batch
        values = _agree(values, [_dim(s, axis) for s in statics], [axis] * 3)
    return mg.seq2seq.sequence_loss(*values, average_across_timesteps=across_timesteps,
                                    average_across_batch=across_batch,
                                    softmax_loss_function=loss_fn)


__all__ = ["rnn_cell", "RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell",
           "MultiRNNCell", "DropoutWrapper", "ResidualWrapper", "EmbeddingWrapper",
           "InputProjectionWrapper", "OutputProjectionWrapper", "LSTMStateTuple", "dynamic_rnn",
           "static_rnn",
           "bidirectional_dynamic_rnn", "static_bidirectional_rnn", "sequence_loss"]
