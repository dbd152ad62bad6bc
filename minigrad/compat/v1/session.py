"""`tf.Session`: run the part of the graph that the fetches need, as a replayed plan.

`run(fetches, feed_dict)` prunes the graph to the Operations the fetches reach (stopping at fed
tensors), checks the feeds and the variables, and looks up a plan for this (fetches, fed
tensors, fed shapes and dtypes) signature. The first run of a signature calls each Operation's
function on real arrays, in graph order, under `mg.function`'s tracer (and a persistent tape
when a gradient is among them): that run is eager minigrad, and the tracer writes it down as a
plan of kernel calls, exactly as `mg.function` does. Later runs of the signature replay the
plan: a training loop of `sess.run(train, feed_dict)` runs at compiled speed.

Ops that change state (an optimizer's update, an assign, an initializer) run after the ops
that do not depend on them, so `sess.run([cost, train])` gives the cost before the update, as
the lectures print it.
"""
import contextlib

import numpy as np

from minigrad.compat.v1.config import jit_enabled
from minigrad.compat.v1.graph import Operation, Tensor, get_default_graph, substitute
from minigrad.compat.v1.runtime import (Run, current_run, default_session,  # noqa: F401
                                        default_session_for, get_default_session)
from minigrad.compat.v1.variables import Variable, _AssignResult
from minigrad.core import GradientTape, Tensor as EagerTensor, as_dtype, state
from minigrad.core.errors import FailedPreconditionError, InvalidArgumentError
from minigrad.core.function import _Plan, _Tracer
from minigrad.core.nest import flatten, pack_like


class Session:
    """`with tf.Session() as sess: sess.run(fetches, feed_dict)`; variables live here."""

    def __init__(self, target="", graph=None, config=None):
        self.graph = graph or get_default_graph()
        self._arrays = {}           # Variable -> this session's ndarray
        self._initialized = set()
        self._plans = {}
        self._optimizers = {}       # graph optimizer -> its minigrad optimizer in this session
        self._closed = False
        self._default = None
        self._jit = jit_enabled(config)   # global_jit_level ON_1/ON_2: plans run compiled

    # --- context --------------------------------------------------------------------------
    def as_default(self):
        return default_session(self)

    def __enter__(self):
        self._default = self.as_default()
        self._default.__enter__()
        return self

    def __exit__(self, *exc):
        self._default.__exit__(*exc)
        self.close()

    def close(self):
        self._closed = True
        self._plans.clear()

    @property
    def sess_str(self):
        return ""

    # --- running ----------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        leaves = flatten(fetches)
        targets = [self._fetch_target(f) for f in leaves]
        feeds = self._feeds(feed_dict or {})
        with self.graph.lock:
            self._bind()
            values = self._run(targets, feeds)
        return pack_like(fetches, values)

    def _run(self, targets, feeds):
        key = (tuple(map(id, targets)),
               tuple([(id(t), a.shape, a.dtype) for t, a in feeds.items()]))
        plan = self._plans.get(key)
        if plan is None:
            plan, outs = self._trace(targets, feeds)
            self._plans[key] = plan
        else:
            self._check_initialized(plan.reads, plan.initializes)
            outs = plan.run(list(feeds.values()))
        return [_fetched(t, o) for t, o in zip(targets, outs)]

    def _trace(self, targets, feeds):
        ops = _prune([_op_of(t) for t in targets], feeds)
        _check_placeholders(ops, feeds)
        reads = {v for op in ops for v in op.reads} | {
            op.outputs[0] for op in ops if op.type == "VariableV2"}
        initializes = {op.initializes for op in ops
                       if getattr(op, "initializes", None) is not None}
        self._check_initialized(reads, initializes)
        tracer = _Tracer("Session.run", first=False)
        values = {}
        for t, a in feeds.items():
            values[t] = EagerTensor(a)
            tracer.feed(values[t])
        sources = _gradient_sources(ops)
        tape = GradientTape(persistent=True) if sources else None
        old = state.set_tracer(tracer)
        try:
            with Run(self, tape), (tape if tape is not None else contextlib.nullcontext()):
                for t in feeds:
                    if t in sources:
                        tape.watch(values[t])
                for op in _schedule(ops):
                    _evaluate(op, values, feeds, sources, tape)
        finally:
            state.set_tracer(old)
        outs = [_value_of(t, values) for t in targets]
        plan = _Plan(tracer, [values[t]._id for t in feeds], outs)
        if self._jit:         # compiled on its first replay (minigrad.jit)
            from minigrad.jit import deferred
            plan = deferred(plan, "Session.run")
        plan.reads, plan.initializes = reads, initializes
        return plan, outs

    # --- fetches and feeds --------------------------------------------------------------------
    def _fetch_target(self, f):
        if isinstance(f, str):
            f = self.graph.as_graph_element(f)
        if isinstance(f, _AssignResult):
            return f
        if f is None:
            raise TypeError('Argument `fetch` = None has invalid type "NoneType". Cannot be '
                            'None')
        if not isinstance(f, (Tensor, Operation)):
            raise TypeError(f"Fetch argument {f!r} has invalid type {type(f)}, must be a "
                            f"string or Tensor. (Can not convert a {type(f).__name__} into a "
                            f"Tensor or Operation.)")
        if f.graph is not self.graph:
            raise ValueError(f"Fetch argument {f!r} cannot be interpreted as a Tensor. "
                             f"({f.name} is not an element of this graph.)")
        return f

    def _feeds(self, feed_dict):
        feeds = {}
        for key, value in feed_dict.items():
            t = self.graph.as_graph_element(key) if isinstance(key, str) else key
            if isinstance(t, Variable):
                raise TypeError(f"feeding a Variable ({t.name}) is not supported; use "
                                f"Variable.load(value, sess)")
            if not isinstance(t, Tensor):
                raise TypeError(f"The key of a feed_dict must be a Tensor or its name, got "
                                f"{type(key).__name__}")
            if t.graph is not self.graph:
                raise ValueError(f"Cannot feed {t.name}: it is not an element of this graph.")
            feeds[t] = _feed_value(t, value)
        return feeds

    def _bind(self):
        """Point every variable's handle at this session's array (allocated on first use)."""
        g = self.graph
        variables = getattr(g, "_variables", [])
        if g.bound is self and len(self._arrays) == len(variables):
            return
        for v in variables:
            arr = self._arrays.get(v)
            if arr is None:
                arr = self._arrays[v] = np.zeros(v._shape, v.dtype.np)
            v.handle._value = arr
        g.bound = self

    def _check_initialized(self, reads, initializes):
        missing = [v for v in reads if v not in self._initialized and v not in initializes]
        if missing:
            v = min(missing, key=lambda v: v.op._index)
            raise FailedPreconditionError(None, v.op, (
                f"Attempting to use uninitialized value {v.op.name}\n\t [[node {v.op.name} "
                f"(defined in the program)]] (run tf.global_variables_initializer() first)"))

    def _load(self, var, value):
        with self.graph.lock:
            self._bind()
            arr = np.asarray(value, var.dtype.np)
            if arr.shape != tuple(var._shape):
                raise ValueError(f"Variable.load: {var.name} has shape {var.shape}, the value "
                                 f"has shape {arr.shape}")
            self._arrays[var][...] = arr
            self._initialized.add(var)


class InteractiveSession(Session):
    """A Session that makes itself the default on creation (for `t.eval()` in a shell)."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._default = self.as_default()
        self._default.__enter__()

    def close(self):
        if self._default is not None and get_default_session() is self:
            self._default.__exit__()
        super().close()


# --- pruning and scheduling ------------------------------------------------------------------
def _op_of(target):
    if isinstance(target, _AssignResult):
        return target.op
    return target.op if isinstance(target, Tensor) else target


def _prune(roots, feeds):
    """The Operations the roots need, in creation order; fed tensors' producers are cut off."""
    fed_ops = {id(t.op) for t in feeds if all(o in feeds for o in t.op.outputs)}
    seen, stack = {}, list(roots)
    while stack:
        op = stack.pop()
        if id(op) in seen or id(op) in fed_ops:
            continue
        seen[id(op)] = op
        stack.extend(t.op for t in op.inputs if t not in feeds)
        stack.extend(op.control_inputs)
    return sorted(seen.values(), key=lambda op: op._index)


def _schedule(ops):
    """Creation order, with the state-changing ops (and what depends on them) after the rest:
    a fetched value that does not depend on an update is computed before it."""
    late = set()
    for op in ops:
        if op.effect or any(id(t.op) in late for t in op.inputs) or any(
                id(c) in late for c in op.control_inputs):
            late.add(id(op))
    return [op for op in ops if id(op) not in late] + [op for op in ops if id(op) in late]


def _check_placeholders(ops, feeds):
    for op in ops:
        if op.type == "Placeholder" and op.outputs[0] not in feeds:
            t = op.outputs[0]
            shape = "unknown" if t._shape is None else \
                "[" + ",".join("?" if d is None else str(d) for d in t._shape) + "]"
            raise InvalidArgumentError(None, op, (
                f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                f"{t.dtype.name} and shape {shape}\n\t [[node {op.name}]]"))


def _gradient_sources(ops):
    """Tensors that a gradient op differentiates with respect to (watched on the run's tape)."""
    return {x for op in ops if op.type == "Gradients" for x in op.args[1]}


def _evaluate(op, values, feeds, sources, tape):
    if op.outputs and all(t in feeds for t in op.outputs):
        return
    if op.type == "VariableV2":
        values[op.outputs[0]] = op.outputs[0].handle
        return
    if op.fn is None:
        return
    args, kwargs = substitute([list(op.args), dict(op.kwargs)], lambda t: values[t])
    result = op.fn(*args, **kwargs)
    if op.effect or not op.outputs:
        return
    leaves = [x for x in flatten(result) if isinstance(x, EagerTensor)]
    for t, x in zip(op.outputs, leaves):
        values[t] = x
        if t in sources and tape is not None:
            tape.watch(x)


def _value_of(target, values):
    if isinstance(target, _AssignResult):
        return target.var.handle
    if isinstance(target, Operation):
        return None
    return values[target] if target in values else target.handle


def _fetched(target, out):
    if out is None or isinstance(target, Operation):
        return None
    a = out.numpy() if hasattr(out, "numpy") else np.asarray(out)   # a Variable's: a copy
    return a[()] if a.ndim == 0 else a


def _feed_value(t, value):
    a = value if type(value) is np.ndarray else np.asarray(
        value.numpy() if hasattr(value, "numpy") else value)
    want = t.dtype.np
    if a.dtype != want:
        if a.dtype.kind == "f" and want.kind in "iu":
            raise InvalidArgumentError(None, t.op, (
                f"Cannot feed a {a.dtype} value to Tensor '{t.name}' of dtype {t.dtype.name}"))
        a = a.astype(want)
    shape = t._shape
    if shape is not None and (a.ndim != len(shape) or any(
            d is not None and d != n for d, n in zip(shape, a.shape))):
        raise ValueError(f"Cannot feed value of shape {a.shape} for Tensor {t.name}, which "
                         f"has shape {tuple(shape)}")
    # (np.ascontiguousarray would make a 0-d value 1-d)
    return a if a.flags.c_contiguous else np.array(a, order="C")


__all__ = ["Session", "InteractiveSession", "get_default_session"]
