"""TF1's graph: Graph, Operation, symbolic Tensor, name scopes, collections.

An Operation is a recorded call of one of minigrad's own functions (`mg.matmul`, `mg.nn.
dynamic_rnn`, an optimizer's update) with its arguments, in which some values are symbolic
Tensors: the math is never written twice. A Session runs the calls a fetch needs on real
arrays (minigrad.compat.v1.session), under the tracer of `mg.function`, so that later runs
replay one plan of kernel calls.

Static shapes come from the same functions: when an Operation is made, its call runs on small
stand-in arrays (zeros; each unknown dimension 2, then 3). Output dimensions that differ between
the two runs depend on an unknown one and are None; all others are known. A call that fails on
the stand-ins fails at graph construction, with the op's own error naming the shapes, which is
where TensorFlow raises shape errors too.
"""
import itertools
import threading

import numpy as np

from minigrad.compat.v1.runtime import default_session_for
from minigrad.core import Tensor as EagerTensor, TensorShape, as_dtype, state
from minigrad.core.function import _Tracer
from minigrad.core.nest import flatten, pack_like

_STAND_IN = (2, 3)       # sizes given to unknown dimensions in the two shape-inference runs


class Graph:
    """A TF1 graph: its Operations in creation order, names, collections, variables, seed."""

    def __init__(self):
        self._ops = []
        self._names = {}
        self._collections = {}
        self._name_stack = []
        self._var_scopes = []         # the variable_scope stack (minigrad.compat.v1.variables)
        self._var_store = {}          # full variable name -> Variable (get_variable)
        self._handles = {}            # handle id -> Variable
        self.seed = None
        self.lock = threading.RLock()     # one Session.run at a time binds the variables
        self.bound = None                  # the session whose arrays the handles hold
        self.finalized = False

    # --- default graph ------------------------------------------------------------------
    def as_default(self):
        return _DefaultGraph(self)

    # --- names --------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """'name' the first time, then 'name_1', 'name_2', ... under the current name scope;
        case-insensitive, and never a name already taken (TF's Graph.unique_name)."""
        full = "/".join(self._name_stack + [name]) if self._name_stack else name
        key = full.lower()
        n = self._names.get(key, 0)
        if mark_as_used:
            self._names[key] = n + 1
        if n == 0:
            return full
        base = key
        while key in self._names:
            key = f"{base}_{n}"
            n += 1
        if mark_as_used:
            self._names[key] = 1
        return f"{full}_{n - 1}"

    def name_scope(self, name):
        return _NameScope(self, name)

    def get_name_scope(self):
        return "/".join(self._name_stack)

    # --- lookups ------------------------------------------------------------------------
    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        for op in self._ops:
            if op.name == name:
                return op
        raise KeyError(f"The name '{name}' refers to an Operation not in the graph.")

    def get_tensor_by_name(self, name):
        op_name, _, index = name.rpartition(":")
        if not op_name:
            raise ValueError(f"The name '{name}' looks like an Operation name, not a Tensor "
                             f"name (a Tensor's name ends with ':<output index>')")
        op = self.get_operation_by_name(op_name)
        return op.outputs[int(index)]

    def as_graph_element(self, obj):
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else \
                self.get_operation_by_name(obj)
        return obj

    # --- collections --------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def get_collection(self, name, scope=None):
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        return [v for v in items if getattr(v, "name", "").startswith(scope)]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def finalize(self):
        self.finalized = True

    def _add(self, op):
        if self.finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        op._index = len(self._ops)
        self._ops.append(op)


class _NameScope:
    def __init__(self, graph, name):
        self.graph, self.name = graph, name

    def __enter__(self):
        g = self.graph
        if self.name is None or self.name == "":
            self._saved, g._name_stack = g._name_stack, []
            return ""
        self._saved = None
        if self.name.endswith("/"):          # an absolute scope, reused as it is
            self._saved, g._name_stack = g._name_stack, [self.name.rstrip("/")]
        else:
            g._name_stack = g._name_stack + [g.unique_name(self.name).split("/")[-1]]
        return "/".join(g._name_stack) + "/"

    def __exit__(self, *exc):
        g = self.graph
        if self._saved is not None:
            g._name_stack = self._saved
        else:
            g._name_stack = g._name_stack[:-1]


# --- the default graph (per thread, as TF's default-graph stack) -------------------------------
class _Defaults(threading.local):
    def __init__(self):
        self.stack = []


_defaults = _Defaults()
_global_default = [Graph()]


class _DefaultGraph:
    def __init__(self, graph):
        self.graph = graph

    def __enter__(self):
        _defaults.stack.append(self.graph)
        return self.graph

    def __exit__(self, *exc):
        _defaults.stack.pop()


def get_default_graph():
    return _defaults.stack[-1] if _defaults.stack else _global_default[0]


def reset_default_graph():
    if _defaults.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If "
                             "you need a cleared graph, exit the nesting and create a new graph.")
    _global_default[0] = Graph()


# --- Operation and Tensor ----------------------------------------------------------------------
class Operation:
    """A node: `fn(*args, **kwargs)` where args may hold Tensors of this graph."""

    def __init__(self, graph, op_type, name, fn, args, kwargs, control_inputs=(), effect=False):
        self.graph, self.type, self.name = graph, op_type, name
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.inputs = [t for t in flatten([list(args), dict(kwargs)]) if isinstance(t, Tensor)]
        self.control_inputs = [c.op if isinstance(c, Tensor) else c for c in control_inputs]
        self.control_inputs += _control_deps.extra(graph)
        self.effect = effect       # changes state (a variable, an optimizer): never stand-in run
        self.outputs = []
        self.structure = None      # fn's return value with Tensors for its tensor leaves
        self.reads = ()            # Variables the call reads without taking them as inputs
        graph._add(self)

    def run(self, feed_dict=None, session=None):
        default_session_for(self, "run", session).run(self, feed_dict)

    @property
    def node_def(self):
        return self

    def values(self):
        return tuple(self.outputs)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


class Tensor:
    """A symbolic value: output `index` of `op`, with a static shape (None where unknown)."""

    __array_priority__ = 200         # numpy defers: ndarray + Tensor builds a node

    def __init__(self, op, index, shape, dtype, stand_ins):
        self.op, self.value_index = op, index
        self._shape = shape                  # tuple with None dims, or None (unknown rank)
        self.dtype = dtype
        self._stand_ins = stand_ins          # (run 0 array, run 1 array)

    @property
    def name(self):
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self):
        return self.op.graph

    @property
    def shape(self):
        return _StaticShape(self._shape)

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        merged = _StaticShape(self._shape).merge_with(shape)
        self._shape = None if merged.dims is None else tuple(merged.dims)

    @property
    def ndim(self):
        return None if self._shape is None else len(self._shape)

    def eval(self, feed_dict=None, session=None):
        return default_session_for(self, "eval", session).run(self, feed_dict)

    def _substitute(self, fn):
        """What stands for this Tensor when its op's function runs: fn(self) (a Variable
        gives its handle)."""
        return fn(self)

    def consumers(self):
        return [op for op in self.graph._ops if any(t is self for t in op.inputs)]

    def __hash__(self):
        return id(self)

    def __eq__(self, other):          # TF1 graph mode: identity, so Tensors key feed_dicts
        return self is other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed in graph mode. "
                        "Use `if t is not None:` instead of `if t:`, or run it in a Session.")

    def __iter__(self):
        if self._shape is None or not self._shape or self._shape[0] is None:
            raise TypeError(f"Tensor '{self.name}' of shape {self.shape} cannot be iterated "
                            f"(its first dimension is not known)")
        return (self[i] for i in range(self._shape[0]))

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors ({self.name}). Please "
                        f"call `x.shape` rather than `len(x)` for shape information.")

    def __repr__(self):
        return (f"<tf.Tensor '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}>")


class _StaticShape(TensorShape):
    """TF1's TensorShape: dims may be None; `None` as a whole is an unknown rank."""

    def __new__(cls, dims):
        obj = super().__new__(cls, () if dims is None else tuple(dims))
        obj.dims = None if dims is None else list(dims)
        return obj

    @property
    def ndims(self):
        return None if self.dims is None else len(self.dims)

    @property
    def rank(self):
        return self.ndims

    def as_list(self):
        if self.dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self.dims)

    def is_fully_defined(self):
        return self.dims is not None and all(d is not None for d in self.dims)

    def num_elements(self):
        return int(np.prod(self.dims)) if self.is_fully_defined() else None

    def merge_with(self, other):
        other = other if isinstance(other, _StaticShape) else _StaticShape(
            None if other is None else [None if d is None else int(d) for d in other])
        if self.dims is None:
            return other
        if other.dims is None:
            return self
        if len(self.dims) != len(other.dims) or any(
                a is not None and b is not None and a != b for a, b in zip(self.dims, other.dims)):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return _StaticShape([a if a is not None else b for a, b in zip(self.dims, other.dims)])

    def __getitem__(self, k):
        if self.dims is None:
            return None
        return self.dims[k]

    def __eq__(self, other):
        try:
            return list(self.dims or []) == list(other)
        except TypeError:
            return False

    __hash__ = TensorShape.__hash__

    def __repr__(self):
        if self.dims is None:
            return "<unknown>"
        return "(" + ", ".join("?" if d is None else str(d) for d in self.dims) + (
            ",)" if len(self.dims) == 1 else ")")

    __str__ = __repr__


class _ControlDeps(threading.local):
    def __init__(self):
        self.stack = []       # (graph, [ops])

    def extra(self, graph):
        return [op for g, ops in self.stack if g is graph for op in ops]


_control_deps = _ControlDeps()


class control_dependencies:
    """`with tf.control_dependencies([train]):` ops made inside run after those given."""

    def __init__(self, control_inputs):
        self.ops = [c.op if isinstance(c, Tensor) else c for c in (control_inputs or [])]

    def __enter__(self):
        _control_deps.stack.append((get_default_graph(), self.ops))

    def __exit__(self, *exc):
        _control_deps.stack.pop()


# --- building an Operation ------------------------------------------------------------------
_op_counter = itertools.count()


def graph_of(values, default=None):
    """The one graph the Tensors among `values` belong to (the default graph if none)."""
    graph = None
    for v in flatten(values):
        g = getattr(v, "graph", None) if isinstance(v, (Tensor, Operation)) else None
        if g is None:
            continue
        if graph is not None and g is not graph:
            raise ValueError(f"Tensor {getattr(v, 'name', v)} must be from the same graph as "
                             f"the other inputs of this op")
        graph = g
    if graph is None:
        graph = default or get_default_graph()
    elif graph is not get_default_graph() and default is None and _defaults.stack:
        raise ValueError(f"Tensors of another graph cannot be used with the default graph "
                         f"({[getattr(v, 'name', v) for v in flatten(values)][:3]} ...)")
    return graph


def make_op(op_type, fn, args=(), kwargs=None, name=None, effect=False, control_inputs=()):
    """Record `fn(*args, **kwargs)` as an Operation of the inputs' graph and return fn's result
    structure with symbolic Tensors in place of its tensors (None for an effect with no
    outputs: the Operation itself is returned then)."""
    kwargs = kwargs or {}
    graph = graph_of([list(args), kwargs])
    op = Operation(graph, op_type, graph.unique_name(name or op_type), fn, args, kwargs,
                   control_inputs, effect)
    if effect:
        return op
    _set_outputs(op, _stand_in_runs(op))
    return op.structure


def _stand_in_runs(op):
    """The stand-in runs of `op`. When they fail while some input has unknown dimensions,
    once more with each unknown dimension set to the one size the other inputs agree on at
    that (right-aligned) axis: TF merges a known size into an unknown one the same way, so
    `X - c` with X [?, 3] and c [5, 3] is [5, 3], not a shape error."""
    ks = (0, 1) if _has_unknown(op.inputs) else (0,)
    try:
        return [_stand_in_run(op, k) for k in ks]
    except (ValueError, TypeError) as first:
        sizes = _merged_sizes(op.inputs, [np.shape(v) for v in flatten(
            [list(op.args), dict(op.kwargs)]) if isinstance(v, np.ndarray)])
        if op.type in STAND_IN_SIZES:       # the op's own rule (Reshape: see ops.py)
            sizes.update(STAND_IN_SIZES[op.type](op))
        if not sizes:
            raise
        try:
            return [_stand_in_run(op, k, sizes) for k in ks]
        except (ValueError, TypeError):
            raise first from None


# op type -> fn(op) giving {(input id, axis): size} for unknown dims, when the broadcasting rule
# of _merged_sizes does not apply to the op (filled by ops.py)
STAND_IN_SIZES = {}


def _merged_sizes(inputs, array_shapes):
    """{(input id, axis): size} for unknown dims that the known ones (of the other inputs and
    of array arguments) fix (see above)."""
    ranked = [t for t in inputs if t._shape is not None]
    shapes = [t._shape for t in ranked] + list(array_shapes)
    rank = max((len(s) for s in shapes), default=0)
    sizes = {}
    for a in range(1, rank + 1):            # axes counted from the right
        known = {s[-a] for s in shapes if len(s) >= a} - {None, 1}
        if len(known) != 1:
            continue
        size = known.pop()
        for t in ranked:
            if len(t._shape) >= a and t._shape[-a] is None:
                sizes[id(t), len(t._shape) - a] = size
    return sizes


def _resized(t, k, sizes):
    a = t._stand_ins[k]
    shape = tuple(sizes.get((id(t), i), n) for i, n in enumerate(a.shape))
    return a if shape == a.shape else np.resize(a, shape)


def _has_unknown(inputs):
    """Does any input differ between the two stand-in runs: an unknown dimension, or known
    shape but values that depend on one (`tf.shape(x)` of a [None, 3] x feeding a
    `tf.random_uniform`, whose output shape is then unknown too)."""
    return any(t._shape is None or None in t._shape or _differs(*t._stand_ins) for t in inputs)


def _differs(a, b):
    return a is not b and (a.shape != b.shape or not np.array_equal(a, b))


def _stand_in_run(op, k, sizes=None):
    """fn on stand-in arrays (run k, unknown dims resized by `sizes`); returns its result."""
    graph = op.graph
    args, kwargs = substitute([list(op.args), dict(op.kwargs)],
                              lambda t: EagerTensor(_resized(t, k, sizes or {})))
    tracer = _Tracer(op.name, first=(k == 0))
    with np.errstate(all="ignore"), state.init_scope(), \
            state.variable_creator_scope(variable_creator(graph)):
        old = state.set_tracer(tracer)
        try:
            result = op.fn(*args, **kwargs)
        finally:
            state.set_tracer(old)
    if k == 0:
        op.reads = tuple(graph._handles[i] for i in tracer.captured if i in graph._handles)
    return result


def _set_outputs(op, runs):
    leaves0 = flatten(runs[0])
    leaves1 = flatten(runs[-1])
    outputs, flat = [], []
    for a, b in zip(leaves0, leaves1):
        if isinstance(a, EagerTensor):
            t = Tensor(op, len(outputs), _static_shape(op, a._value, b._value),
                       as_dtype(a._value.dtype), (a._value, b._value))
            outputs.append(t)
            flat.append(t)
        else:
            flat.append(a)
    op.outputs = outputs
    op.structure = pack_like(runs[0], flat)


def _static_shape(op, a, b):
    if any(t._shape is None for t in op.inputs):
        return None
    if a.ndim != b.ndim:
        return None
    return tuple(None if m != n else int(m) for m, n in zip(a.shape, b.shape))


def substitute(structure, fn):
    """`structure` with every graph Tensor t replaced by fn(t) (a Variable by its handle;
    lists, tuples, dicts, namedtuples kept)."""
    def sub(s):
        if isinstance(s, Tensor):
            return s._substitute(fn)
        if isinstance(s, (list, tuple)):
            out = [sub(v) for v in s]
            return type(s)(*out) if hasattr(s, "_fields") else type(s)(out)
        if isinstance(s, dict):
            return {k: sub(v) for k, v in s.items()}
        return s
    return sub(structure)


def variable_creator(graph):
    """How a layer called inside an op's stand-in run makes its weights: set by variables.py
    (graph variables named by the variable scope), the layer below it cannot import it."""
    return _creator_factory[0](graph)


_creator_factory = [None]


def group(*inputs, name=None):
    """An Operation that runs all of `inputs` (TF's tf.group)."""
    g = get_default_graph()
    ops = [x.op if isinstance(x, Tensor) else x for x in inputs]
    return Operation(g, "NoOp", g.unique_name(name or "group_deps"), None, (), {},
                     control_inputs=ops)
