"""GradientTape: records ops while active; `gradient` plans and runs the backward walk
(core.backward).

`apply` is where every op call enters the engine: forward on ndarrays, then, when a tape in this
thread tracks an input, a recorded node; then the mg.function tracer, if one is tracing.
"""
import numpy as np

from minigrad.core import backward, state
from minigrad.core.nest import flatten, pack_like
from minigrad.core.numerics import check_outputs
from minigrad.core.tensor import Tensor, Variable


def apply(op, *inputs):
    """Run `op` forward on Tensors and record it on every active tape that tracks an input."""
    ys = op.forward(*[t._value for t in inputs])
    single = not isinstance(ys, tuple)
    if any(type(t) is Variable for t in inputs):
        ys = _detach_views(ys, single)
    outs = (Tensor(_nd(ys)),) if single else tuple(Tensor(_nd(y)) for y in ys)
    if state.checking_numerics():
        check_outputs(op, [t._value for t in inputs], [t._value for t in outs])
    tapes = state.active_tapes()
    if tapes and op.differentiable:
        tapes = [tape for tape in tapes if tape._tracks_any(inputs)]
        if tapes:
            _record(op, inputs, outs, tapes)
    tracer = state.tracer()
    if tracer is not None:
        tracer.forward(op, inputs, outs)
    return outs[0] if single else outs


def _detach_views(ys, single):
    # A variable is updated in place: a view of it (reshape, slice) must not change with it
    copy = lambda y: y.copy() if isinstance(y, np.ndarray) and y.base is not None else y
    return copy(ys) if single else tuple(copy(y) for y in ys)


def _nd(y):
    # numpy returns scalars (np.float32) for 0-d results; a Tensor always holds an ndarray
    return y if type(y) is np.ndarray else np.asarray(y)


def _record(op, inputs, outs, tapes):
    op.inputs = inputs
    op.xs = tuple(t._value for t in inputs)
    op.ys = tuple(t._value for t in outs)
    op.out_ids = tuple(t._id for t in outs)
    op.name = tapes[-1]._unique_name(state.scoped_name(op.type))
    for i, t in enumerate(outs):
        t._node, t._index = op, i
    for tape in tapes:
        tape._add(op)


def recording():
    """True while some GradientTape is recording in this thread."""
    return bool(state.active_tapes())


class GradientTape:
    """TF2's tape: `with mg.GradientTape() as tape: ...; tape.gradient(loss, [w, b])`."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.nodes = []         # the recorded graph, in recording order
        self._tracked = {}      # tensor id -> True, for watched tensors and recorded outputs
        self._watched = []      # explicitly watched or automatically watched tensors
        self._names = {}
        self._used = False
        captures = state.active_captures()
        self._kept = bool(captures)    # captured: gradient() keeps the graph for the tools
        for cap in captures:
            cap._keep(self)

    def __enter__(self):
        state.push_tape(self)
        return self

    def __exit__(self, *exc):
        state.pop_tape(self)

    def watch(self, tensor):
        for t in flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a Tensor or Variable, "
                                f"got {type(t).__name__}")
            if t._id not in self._tracked:
                self._tracked[t._id] = True
                self._watched.append(t)

    def watched_variables(self):
        return tuple(t for t in self._watched if isinstance(t, Variable))

    def stop_recording(self):
        return _Paused(self)

    def reset(self):
        self._release()
        self.__init__(self.persistent, self.watch_accessed_variables)

    # --- recording ------------------------------------------------------------------------
    def _tracks_any(self, inputs):
        hit = False
        for t in inputs:
            if t._id in self._tracked:
                hit = True
            elif (self.watch_accessed_variables and isinstance(t, Variable) and t.trainable):
                self.watch(t)
                hit = True
        return hit

    def _add(self, op):
        self.nodes.append(op)
        op._tapes += 1
        for i in op.out_ids:
            self._tracked[i] = True

    def _unique_name(self, name):
        n = self._names.get(name, 0)
        self._names[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    # --- the backward pass ----------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """d(sum of targets)/d(source) for each source, shaped like `sources`; None if
        unconnected."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one "
                               "set of gradients (or jacobians); use persistent=True")
        targets, flat_sources = flatten(target), flatten(sources)
        self._check_dtypes(targets, flat_sources)
        grads = self._seed(targets, output_gradients)
        wanted = {s._id: True for s in flat_sources}
        steps = backward.plan(reversed(self.nodes), [t._id for t in targets],
                              self._reachable(flat_sources), wanted)
        backward.run(steps, grads, check=True)
        result = [self._result(grads.get(s._id), s, unconnected_gradients)
                  for s in flat_sources]
        tracer = state.tracer()
        if tracer is not None:
            tracer.gradient(targets, output_gradients, steps, flat_sources, result,
                            unconnected_gradients)
        elif not self.persistent:
            self._used = True
            if not self._kept:
                self._release()
        return pack_like(sources, result)

    def _seed(self, targets, output_gradients):
        cts = flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        if len(cts) != len(targets):
            raise ValueError(f"gradient: {len(targets)} targets but {len(cts)} output_gradients")
        grads = {}
        for t, ct in zip(targets, cts):
            g = np.ones_like(t._value) if ct is None else _as_array(ct, t)
            if g.shape != t._value.shape:
                raise ValueError(f"gradient: output_gradients shape {g.shape} does not match "
                                 f"target shape {t._value.shape}")
            grads[t._id] = grads[t._id] + g if t._id in grads else g
        return grads

    def _reachable(self, sources):
        """Ids of tensors that depend on a source: only these need gradients."""
        live = {s._id: True for s in sources if s._id in self._tracked}   # unwatched: None
        for op in self.nodes:
            if any(t._id in live for t in op.inputs):
                for i in op.out_ids:
                    live[i] = True
        return live

    def _check_dtypes(self, targets, sources):
        for t in targets:
            if not isinstance(t, Tensor):
                raise TypeError(f"gradient: target must be a Tensor, got {type(t).__name__}")
            if not t.dtype.is_floating:
                made_by = f" (output of {t._node.name})" if t._node is not None else ""
                raise TypeError(f"gradient: cannot differentiate an integer tensor: the target "
                                f"is {t.dtype.name}{made_by}")
        for s in sources:
            if not isinstance(s, Tensor):
                raise TypeError(f"gradient: sources must be Tensors or Variables, "
                                f"got {type(s).__name__}")
            if not s.dtype.is_floating:
                made_by = f"output of {s._node.name}" if s._node is not None else "a source"
                raise TypeError(f"gradient: cannot differentiate with respect to an integer "
                                f"tensor ({made_by}, {s.dtype.name})")

    @staticmethod
    def _result(g, source, unconnected):
        if g is None:
            return Tensor(np.zeros_like(source._value)) if unconnected == "zero" else None
        return Tensor(g)

    def _release(self):
        for op in self.nodes:
            op._tapes -= 1
            if op._tapes == 0:
                op.release()
        self.nodes = []
        self._tracked = {}


def _as_array(ct, target):
    return (ct._value if isinstance(ct, Tensor) else np.asarray(ct)).astype(
        target._value.dtype, copy=False)


class _Paused:
    def __init__(self, tape):
        self.tape = tape

    def __enter__(self):
        state.pop_tape(self.tape)

    def __exit__(self, *exc):
        state.push_tape(self.tape)
