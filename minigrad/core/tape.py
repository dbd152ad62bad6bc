"""GradientTape: records ops while active, then walks them backwards with the chain rule.

The walk visits recorded nodes in reverse recording order, which is a reverse topological order
(an op is recorded after the ops that made its inputs): iterative, deterministic, no sets.
"""
import numpy as np

from minigrad.kernels.rowwise import sum_rows
from minigrad.core.tensor import Tensor, Variable

_active = []        # tapes recording now, innermost last
_scopes = []        # name_scope stack
_tracer = None      # set while mg.function traces a call (minigrad.core.function)
_captures = []      # open mg.graph.capture() blocks: each keeps every tape made inside it


class name_scope:
    """`with mg.name_scope("layer1"):` prefixes the names of the nodes recorded inside."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        _scopes.append(self.name)
        return _scope_prefix()

    def __exit__(self, *exc):
        _scopes.pop()


def _scope_prefix():
    return "".join(s + "/" for s in _scopes)


def apply(op, *inputs):
    """Run `op` forward on Tensors and record it on every active tape that tracks an input."""
    ys = op.forward(*[t._value for t in inputs])
    single = not isinstance(ys, tuple)
    if any(type(t) is Variable for t in inputs):
        ys = _detach_views(ys, single)
    outs = (Tensor(_nd(ys)),) if single else tuple(Tensor(_nd(y)) for y in ys)
    if _active and op.differentiable:
        tapes = [tape for tape in _active if tape._tracks_any(inputs)]
        if tapes:
            _record(op, inputs, outs, tapes)
    if _tracer is not None:
        _tracer.forward(op, inputs, outs)
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
    op.name = tapes[-1]._unique_name(_scope_prefix() + op.type if _scopes else op.type)
    for i, t in enumerate(outs):
        t._node, t._index = op, i
    op.generation = 1 + max((t._node.generation for t in inputs if t._node is not None),
                            default=0)
    for tape in tapes:
        tape._add(op)


def recording():
    """True while some GradientTape is recording."""
    return bool(_active)


def _flatten(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flatten(item)]
    if isinstance(x, dict):
        return [leaf for k in x for leaf in _flatten(x[k])]
    return [x]


def _pack_like(structure, flat):
    it = iter(flat)

    def pack(s):
        if isinstance(s, (list, tuple)):
            out = [pack(item) for item in s]
            return type(s)(out) if not hasattr(s, "_fields") else type(s)(*out)
        if isinstance(s, dict):
            return {k: pack(s[k]) for k in s}
        return next(it)
    return pack(structure)


def unbroadcast(g, shape):
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    if axes and axes == tuple(range(len(axes))) and g.flags.c_contiguous and g.size:
        # leading axes only (a bias): one matrix-vector product over the rows
        rest = g.shape[len(axes):]
        return sum_rows(g.reshape(-1, int(np.prod(rest, dtype=np.int64)))).reshape(shape)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


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
        self._kept = bool(_captures)    # captured: gradient() keeps the graph for the tools
        for cap in _captures:
            cap._keep(self)

    def __enter__(self):
        _active.append(self)
        return self

    def __exit__(self, *exc):
        _active.remove(self)

    def watch(self, tensor):
        for t in _flatten(tensor):
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
        targets, flat_sources = _flatten(target), _flatten(sources)
        self._check_dtypes(targets, flat_sources)
        grads = self._seed(targets, output_gradients)
        plan = self._plan(targets, flat_sources)
        run_backward(plan, grads, {s._id: True for s in flat_sources})
        result = [self._result(grads.get(s._id), s, unconnected_gradients)
                  for s in flat_sources]
        if _tracer is not None:
            _tracer.gradient(self, targets, output_gradients, plan, flat_sources, result,
                             unconnected_gradients)
        elif not self.persistent:
            self._used = True
            if not self._kept:
                self._release()
        return _pack_like(sources, result)

    def _plan(self, targets, sources):
        """The backward pass as data: [(node, needs)] in the order to run them. A node is in
        the plan when a gradient reaches one of its outputs and some input needs one back."""
        live = self._reachable(sources)
        reached = {t._id: True for t in targets}
        plan = []
        for op in reversed(self.nodes):
            if not any(i in reached for i in op.out_ids):
                continue
            needs = tuple(t._id in live and t._value.dtype.kind == "f" for t in op.inputs)
            if any(needs):
                plan.append((op, needs))
                for t, need in zip(op.inputs, needs):
                    if need:
                        reached[t._id] = True
        return plan

    def _seed(self, targets, output_gradients):
        cts = _flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
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


def run_backward(plan, grads, wanted):
    """Walk a plan: each node's backward on its outputs' gradients, summed into its inputs'.
    `grads` maps tensor id -> gradient array and is updated in place; gradients of tensors not
    `wanted` are dropped as soon as their node has used them."""
    for op, needs in plan:
        gys = [grads.get(i) for i in op.out_ids]
        if all(g is None for g in gys):
            continue
        gys = [np.zeros_like(y) if g is None else g for g, y in zip(gys, op.ys)]
        for t, gx in zip(op.inputs, _node_step(op, gys, needs)):
            if gx is not None:
                grads[t._id] = grads[t._id] + gx if t._id in grads else gx
        for i in op.out_ids:
            if i not in wanted:
                grads.pop(i, None)


def node_backward(op, gys, live):
    """One chain-rule step: op.backward on the output gradients `gys`, for the inputs whose id
    is in `live`, broadcasting undone and checked. One gradient (or None) per input.

    The tape's walk runs the same step for every node; tools (minigrad.graph.trace) call this.
    """
    needs = tuple(t._id in live and t._value.dtype.kind == "f" for t in op.inputs)
    return _node_step(op, gys, needs)


def _node_step(op, gys, needs):
    op.needs = needs
    if not any(needs):
        return [None] * len(op.inputs)
    gxs = op.backward(*gys)
    return [None if gx is None or not need else
            _checked_grad(op, t, unbroadcast(np.asarray(gx), t._value.shape))
            for t, gx, need in zip(op.inputs, gxs, needs)]


def _as_array(ct, target):
    return (ct._value if isinstance(ct, Tensor) else np.asarray(ct)).astype(
        target._value.dtype, copy=False)


def _checked_grad(op, t, gx):
    """The engine's promise: each gradient has exactly its input's shape and dtype."""
    if gx.shape != t._value.shape:
        raise AssertionError(f"{op.name}: gradient shape {gx.shape} != input shape "
                             f"{t._value.shape}")
    if gx.dtype != t._value.dtype:
        raise AssertionError(f"{op.name}: gradient dtype {gx.dtype} != input dtype "
                             f"{t._value.dtype}")
    return gx


class _Paused:
    def __init__(self, tape):
        self.tape = tape

    def __enter__(self):
        _active.remove(self.tape)

    def __exit__(self, *exc):
        _active.append(self.tape)
