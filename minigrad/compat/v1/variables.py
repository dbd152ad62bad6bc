"""TF1 variables: `tf.Variable`, `tf.get_variable`, `tf.variable_scope`, initializers.

A graph Variable is a symbolic Tensor of its graph and holds a `handle`: an ordinary
`mg.Variable` that minigrad's own code (ops, cells, optimizers) reads and updates. The values
live in the sessions: each Session keeps one array per variable, and before it runs it points
the handles at its own arrays (`Session._bind`), so two sessions on one graph hold separate
values, as in TensorFlow. A variable's initializer is an Operation that writes its initial
value into the running session's array.

Names follow TF1: `tf.Variable(name="w")` takes the name scope (uniquified: "w", "w_1"),
`tf.get_variable("w")` the variable scope, with its reuse rules (tensorflow/python/ops/
variable_scope.py): an existing name needs reuse=True or AUTO_REUSE, a new one must not have
reuse=True.
"""
import numpy as np

import minigrad as mg
from minigrad.compat.v1 import graph as graph_mod
from minigrad.compat.v1.graph import (Operation, Tensor, get_default_graph, graph_of, group,
                                      make_op)
from minigrad.compat.v1.runtime import current_run, default_session_for
from minigrad.core import Variable as EagerVariable, as_dtype, float32, state
from minigrad.core.function import record_effect

GLOBAL_VARIABLES = "variables"
TRAINABLE_VARIABLES = "trainable_variables"
LOCAL_VARIABLES = "local_variables"
GLOBAL_STEP = "global_step"


class _ReuseAuto:
    def __repr__(self):
        return "tf.AUTO_REUSE"


AUTO_REUSE = _ReuseAuto()


class _Handle(EagerVariable):
    """The engine-side face of a graph Variable; its array is the bound session's."""
    __slots__ = ("graph_var",)


class Variable(Tensor):
    """`tf.Variable(initial_value, trainable=True, name=None, dtype=None)` of the default graph.

    initial_value: a Tensor of the graph (e.g. `tf.random_normal([2, 2])`), a value, or a
    callable returning one; it is evaluated when the initializer runs, in a session.
    """

    def __init__(self, initial_value=None, trainable=True, collections=None, name=None,
                 dtype=None, shape=None, _full_name=None, _init_fn=None):
        graph = graph_of([initial_value])
        name = _full_name or graph.unique_name(name or "Variable")
        if _init_fn is None and callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if _init_fn is None and not isinstance(initial_value, Tensor):
            value = initial_value
            with graph.name_scope(name + "/"):
                initial_value = make_op("Const", lambda: mg.constant(value, dtype=dtype),
                                        name="initial_value")
        if isinstance(initial_value, Tensor) and dtype is not None and \
                as_dtype(dtype) != initial_value.dtype:
            initial_value = make_op("Cast", mg.cast, (initial_value, dtype))
        self._init_shape(graph, name, initial_value, shape, dtype, _init_fn)
        self.trainable = bool(trainable)
        self.initial_value = initial_value if isinstance(initial_value, Tensor) else None
        self._init_fn = _init_fn
        self.initializer = Operation(graph, "Assign", name + "/Assign", _initialize,
                                     (self, initial_value) if self.initial_value is not None
                                     else (self,), {}, effect=True)
        self.initializer.initializes = self
        for key in collections or ([GLOBAL_VARIABLES] + ([TRAINABLE_VARIABLES] if trainable
                                                         else [])):
            graph.add_to_collection(key, self)
        graph._variables = getattr(graph, "_variables", []) + [self]

    def _init_shape(self, graph, name, initial_value, shape, dtype, init_fn):
        if isinstance(initial_value, Tensor):
            shape = initial_value._shape if shape is None else tuple(shape)
            dtype = initial_value.dtype
        if shape is None or None in shape:
            raise ValueError(f"Variable '{name}': its initial value's shape {shape} must be "
                             f"fully known (or pass validate_shape=False and a shape)")
        dtype = as_dtype(dtype or float32)
        zeros = np.zeros(tuple(int(n) for n in shape), dtype.np)
        self.handle = _Handle(zeros, trainable=True, name=name, dtype=dtype)
        self.handle.graph_var = self
        graph._handles[self.handle._id] = self
        op = Operation(graph, "VariableV2", name, None, (), {})
        super().__init__(op, 0, tuple(zeros.shape), dtype, (zeros, zeros))
        op.outputs, op.structure = [self], self

    # --- TF's surface -----------------------------------------------------------------------
    def value(self):
        return self

    def read_value(self):
        return make_op("Identity", mg.identity, (self,), name=self.op.name + "/read")

    def assign(self, value, use_locking=None, name=None, read_value=True):
        return _assign_op(self, value, "Assign", lambda h, v: h.assign(v), name)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return _assign_op(self, delta, "AssignAdd", lambda h, v: h.assign_add(v), name)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return _assign_op(self, delta, "AssignSub", lambda h, v: h.assign_sub(v), name)

    def load(self, value, session=None):
        """Write `value` into this variable's array in `session` (the default session)."""
        default_session_for(self, "load", session)._load(self, value)

    def eval(self, feed_dict=None, session=None):
        return default_session_for(self, "eval", session).run(self, feed_dict)

    def _substitute(self, fn):
        return self.handle

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}_ref>"


def _initialize(handle, value=None):
    """The initializer op's body, run inside a session (see Session: `current_run`)."""
    session, var = current_run().session, handle.graph_var
    if value is not None:
        var.handle.assign(value)            # replayed with the value's new draw by mg.function
    else:
        draw = _seeded_draw(var)
        var.handle._value[...] = draw()
        record_effect(lambda: var.handle._value.__setitem__(Ellipsis, draw()), [])
    session._initialized.add(var)
    record_effect(lambda: session._initialized.add(var), [])


def _seeded_draw(var):
    """The initializer callable of a variable made by a layer, drawn outside any trace, from
    a stream seeded by the graph-level seed when one is set."""
    from minigrad import random as mg_random
    graph = var.graph
    index = graph._variables.index(var)

    def draw():
        with state.init_scope():
            if graph.seed is None:
                return var._init_fn()
            with mg_random.stream(np.random.default_rng([graph.seed, index, 87654321])):
                return var._init_fn()
    return draw


def _assign_op(var, value, op_type, fn, name):
    op = make_op(op_type, fn, (var, value), name=name or var.op.name + "/" + op_type,
                 effect=True)
    return _AssignResult(op, var)


class _AssignResult:
    """What `v.assign(x)` returns: runnable as an op; `sess.run` gives the new value."""

    def __init__(self, op, var):
        self.op, self.var = op, var
        self.graph, self.name = op.graph, op.name + ":0"

    def __getattr__(self, attr):
        return getattr(self.var, attr)


# --- variable scopes ----------------------------------------------------------------------------
class VariableScope:
    def __init__(self, name, reuse=None, initializer=None, dtype=None):
        self.name, self.reuse, self.initializer, self.dtype = name, reuse, initializer, dtype
        self.original_name_scope = name + "/" if name else ""

    def reuse_variables(self):
        self.reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer


def get_variable_scope():
    g = get_default_graph()
    return g._var_scopes[-1] if g._var_scopes else _root_scope(g)


def _root_scope(g):
    if not hasattr(g, "_root_var_scope"):
        g._root_var_scope = VariableScope("")
    return g._root_var_scope


class variable_scope:
    """`with tf.variable_scope("rnn", reuse=...):` names variables "rnn/...", and opens a name
    scope of the same name for the ops made inside."""

    def __init__(self, name_or_scope=None, default_name=None, values=None, initializer=None,
                 reuse=None, dtype=None, **kwargs):
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        self.name_or_scope, self.default_name = name_or_scope, default_name
        self.initializer, self.reuse, self.dtype = initializer, reuse, dtype
        self.kwargs = kwargs

    def __enter__(self):
        g = get_default_graph()
        parent = get_variable_scope()
        counts = _scope_counts(g)
        if isinstance(self.name_or_scope, VariableScope):
            name = self.name_or_scope.name
            reuse = self.name_or_scope.reuse if self.reuse is None else self.reuse
        else:
            if self.name_or_scope is None and self.reuse is True:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            base = self.name_or_scope or _unique_scope_name(g, parent, self.default_name)
            name = parent.name + "/" + base if parent.name else base
            reuse = parent.reuse if self.reuse is None else self.reuse
        if parent.reuse is True and self.reuse is None:
            reuse = True
        # TF's _VariableScopeStore: every opening counts; re-entering a VariableScope object
        # restores the counts on exit, leaving a named scope resets its subscopes' counts
        counts[name] = counts.get(name, 0) + 1
        self._saved_counts = dict(counts) if isinstance(self.name_or_scope, VariableScope) \
            else None
        self._name = name
        scope = VariableScope(name, reuse, self.initializer or parent.initializer,
                              self.dtype or parent.dtype)
        g._var_scopes.append(scope)
        self._name_scope = None
        if self.kwargs.get("auxiliary_name_scope", True):
            self._name_scope = g.name_scope(name.split("/")[-1] if not isinstance(
                self.name_or_scope, VariableScope) else name + "/")
            self._name_scope.__enter__()
        return scope

    def __exit__(self, *exc):
        g = get_default_graph()
        if self._name_scope is not None:
            self._name_scope.__exit__(*exc)
        g._var_scopes.pop()
        if self._saved_counts is not None:
            g._scope_uses = self._saved_counts
        else:
            prefix = self._name + "/"
            counts = _scope_counts(g)
            for key in counts:
                if key.startswith(prefix):
                    counts[key] = 0


def _scope_counts(graph):
    if not hasattr(graph, "_scope_uses"):
        graph._scope_uses = {}
    return graph._scope_uses


def _unique_scope_name(graph, parent, base):
    """TF's _get_unique_variable_scope: `base`, or `base_<i>` with the first i whose scope is
    not open (counted) under the parent."""
    counts = _scope_counts(graph)
    key = (parent.name + "/" if parent.name else "") + base
    if counts.get(key, 0) == 0:
        return base
    i = 1
    while counts.get(f"{key}_{i}", 0) > 0:
        i += 1
    return f"{base}_{i}"


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, **kwargs):
    """TF1's get_variable: the variable `scope/name`, created or reused by the scope's rules."""
    g = get_default_graph()
    scope = get_variable_scope()
    full = scope.name + "/" + name if scope.name else name
    existing = g._var_store.get(full)
    if existing is not None:
        if scope.reuse is None or scope.reuse is False:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             f"reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and tuple(existing.shape.as_list()) != tuple(shape):
            raise ValueError(f"Trying to share variable {full}, but specified shape "
                             f"{tuple(int(n) for n in shape)} and found shape "
                             f"{tuple(existing.shape.as_list())}.")
        return existing
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         f"tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         f"VarScope?")
    var = _new_variable(g, full, shape, dtype or scope.dtype or float32,
                        initializer if initializer is not None else scope.initializer,
                        trainable, collections)
    g._var_store[full] = var
    return var


def _new_variable(g, full, shape, dtype, initializer, trainable, collections=None):
    dtype = as_dtype(dtype)
    if isinstance(initializer, Tensor) or (initializer is not None and not callable(initializer)):
        return Variable(initializer, trainable, collections, dtype=dtype, _full_name=full)
    if shape is None:
        raise ValueError(f"Shape of a new variable ({full}) must be fully defined, but "
                         f"instead was None.")
    shape = tuple(int(n) for n in shape)
    if isinstance(initializer, type):       # TF1 accepts the class: tf.zeros_initializer
        initializer = initializer()
    init = initializer or _default_initializer(dtype)
    return Variable(None, trainable, collections, dtype=dtype, shape=shape, _full_name=full,
                    _init_fn=lambda: np.asarray(_call_initializer(init, shape, dtype),
                                                dtype.np))


def _default_initializer(dtype):
    from minigrad import initializers
    # TF1 get_variable: glorot_uniform for floating variables, zeros otherwise
    return initializers.GlorotUniform() if dtype.is_floating else initializers.Zeros()


def _call_initializer(init, shape, dtype):
    value = init(shape, dtype)
    return value.numpy() if hasattr(value, "numpy") else value


def graph_variable_creator(graph):
    """The creator layers use in graph mode (core.state.variable_creator_scope): a layer's
    weight becomes a get_variable of the current variable scope; its handle is returned."""
    def create(name, shape, dtype, init_fn, trainable):
        with graph.as_default():
            scope = get_variable_scope()
            full = scope.name + "/" + name if scope.name else name
            existing = graph._var_store.get(full)
            if existing is not None:
                return existing.handle
            var = Variable(None, trainable, dtype=dtype, shape=shape, _full_name=full,
                           _init_fn=init_fn)
            graph._var_store[full] = var
            return var.handle
    return create


graph_mod._creator_factory[0] = graph_variable_creator


# --- collections ------------------------------------------------------------------------------
def global_variables(scope=None):
    return get_default_graph().get_collection(GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(LOCAL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init_1")


def initialize_all_variables():
    return global_variables_initializer()


__all__ = ["Variable", "VariableScope", "variable_scope", "get_variable", "get_variable_scope",
           "global_variables", "trainable_variables", "local_variables",
           "global_variables_initializer", "local_variables_initializer",
           "variables_initializer", "initialize_all_variables", "AUTO_REUSE"]
