"""`mg.trace(target, sources)`: the chain rule, one recorded node at a time, printed.

The walk is the tape's own (`minigrad.core.backward`: the same plan, run by the same walk, with
an observer). The trace only keeps what the tape throws away: every node's inputs, output,
upstream gradient, local derivative and the gradient it passes on to each input.

    w, x, b = mg.Variable(-2.0, name="w"), mg.Variable(5.0, name="x"), mg.Variable(3.0, name="b")
    with mg.GradientTape(persistent=True) as tape:
        g = w * x
        f = g + b
    t = mg.trace(f, [w, x, b], names={"g": g, "f": f})     # prints; t.gradient(w) -> 5.0
"""
import numpy as np

from minigrad.core import Tensor
from minigrad.core import backward
from minigrad.core.nest import flatten
from minigrad.graph.walk import collect, tensor_label


class Step:
    """One node of the backward walk.

    `op`: the recorded node; `rule`: its one-line forward/backward docstring;
    `inputs`/`outputs`: labels; `xs`/`ys`: their values; `upstream`: d target / d output, per
    output; `local`: the node's backward given gy = 1 (for an elementwise op, dy/dx itself; in
    general the sum of dy/dx over the outputs), per input; `passed`: the gradient sent on to each
    input (upstream pushed through backward), None where no gradient is wanted.
    """

    def __init__(self, op, inputs, outputs, upstream, local, passed):
        self.op, self.name, self.type = op, op.name, op.type
        doc = (type(op).__doc__ or "").strip()
        self.rule = doc.splitlines()[0] if doc else ""
        self.inputs, self.outputs = inputs, outputs
        self.xs, self.ys = list(op.xs), list(op.ys)
        self.upstream, self.local, self.passed = upstream, local, passed

    def __repr__(self):
        return f"<Step {self.name}: {self.type}({', '.join(self.inputs)})>"


class Trace:
    """The steps of one backward walk (a sequence of `Step`), and every gradient it found.

    `print(trace)` shows the walk; `trace.gradient(t)` is d target / d t for any tensor of the
    graph, given as the Tensor or its label (None if the target does not depend on it);
    `trace.target_value` is the target's value; `trace.step(name)` the step of one node.
    """

    def __init__(self, target_label, target_value, steps, grads, labels, sources):
        self.target, self.target_value = target_label, target_value
        self.steps, self._grads, self._labels, self.sources = steps, grads, labels, sources

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def step(self, name):
        """The step of the node called `name` (its recorded name, e.g. 'layer1/MatMul')."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no node named {name!r} in this trace; nodes: "
                       f"{[s.name for s in self.steps]}")

    def gradient(self, t):
        """d target / d t (an ndarray shaped like t), or None if t is not reached."""
        return self._grads.get(t._id) if isinstance(t, Tensor) else self._by_label(t)

    def _by_label(self, label):
        for tid, name in self._labels.items():
            if name == label:
                return self._grads.get(tid)
        raise KeyError(f"no tensor labelled {label!r} in this trace")

    @property
    def gradients(self):
        """{label: gradient} for every tensor the walk reached, sources first."""
        return {self._labels[i]: g for i, g in self._grads.items() if i in self._labels}

    def __repr__(self):
        return f"<Trace of {self.target}: {len(self.steps)} steps>"

    def __str__(self):
        return "\n".join(_render(self))


def trace(target, sources=None, tape=None, names=None, verbose=True):
    """Walk the graph behind `target` backwards, printing each node's share of the chain rule.

    target: a floating Tensor computed on a GradientTape (trace before a non-persistent tape's
    gradient() call, which frees the graph). sources: the Tensors/Variables you want gradients
    for (a list, or a dict {label: tensor} that also names them); None: every tensor.
    tape: restrict the walk to that tape's nodes. names: {label: tensor} for other tensors.
    verbose: print the trace. Returns the `Trace`.
    """
    if not isinstance(target, Tensor):
        raise TypeError(f"trace: target must be a Tensor, got {type(target).__name__}")
    if not target.dtype.is_floating:
        raise TypeError(f"trace: cannot differentiate an integer tensor ({target.dtype.name})")
    graph = collect(target, tape=tape, tool="trace")
    labels = _labels(graph, sources, names)
    source_list = _source_list(sources)
    live = _live(graph, source_list)
    steps, grads = _walk(graph.nodes, target, live, labels)
    grads = _sources_first(grads, source_list)
    out = Trace(labels[target._id], target._value, steps, grads, labels,
                [labels[s._id] for s in source_list])
    if verbose:
        print(out)
    return out


def _source_list(sources):
    if sources is None:
        return []
    flat = flatten(list(sources.values()) if isinstance(sources, dict) else sources)
    for s in flat:
        if not isinstance(s, Tensor):
            raise TypeError(f"trace: sources must be Tensors or Variables, "
                            f"got {type(s).__name__}")
    return flat


def _labels(graph, sources, names):
    given = {}
    for mapping in (names or {}), (sources if isinstance(sources, dict) else {}):
        for label, t in mapping.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"trace: names must map labels to Tensors; {label!r} maps to "
                                f"{type(t).__name__}")
            given[t._id] = str(label)
    labels = {}
    for t in graph.leaves + [t for op in graph.forward_order() for t in _outputs(op)]:
        labels[t._id] = tensor_label(t, given)
    for t in _source_list(sources):
        labels.setdefault(t._id, tensor_label(t, given))
    return labels


class _Out:
    """Stands for an output tensor of a node (the Tensor itself is not kept by the node)."""

    def __init__(self, op, i):
        self._id, self._node, self._index = op.out_ids[i], op, i
        self._value = op.ys[i]


def _outputs(op):
    return [_Out(op, i) for i in range(len(op.out_ids))]


def _live(graph, sources):
    """Ids of tensors on a path from a source (all tensors when no sources are given)."""
    if not sources:
        return {t._id: True for t in graph.leaves} | {
            i: True for op in graph.nodes for i in op.out_ids}
    live = {s._id: True for s in sources}
    for op in graph.forward_order():
        if any(t._id in live for t in op.inputs):
            live.update((i, True) for i in op.out_ids)
    return live


def _walk(nodes, target, live, labels):
    """The tape's backward walk, keeping every step and every gradient."""
    grads = {target._id: np.ones_like(target._value)}
    steps = []

    def observe(s, gys, passed):
        op = s.op
        steps.append(Step(op, [labels[t._id] for t in op.inputs],
                          [labels[i] for i in op.out_ids], list(gys),
                          backward.local_gradients(s), passed))
    plan = backward.plan(nodes, [target._id], live, keep_idle=True)
    backward.run(plan, grads, check=True, observe=observe)
    return steps, grads


def _sources_first(grads, sources):
    first = [s._id for s in sources if s._id in grads]
    return {i: grads[i] for i in first + [i for i in grads if i not in first]}


# --- printing ------------------------------------------------------------------------------
def _render(tr):
    f = tr.target
    yield (f"Trace of {f} = {fmt(tr.target_value)}: {len(tr.steps)} node(s), backward order "
           f"(chain rule: passed on = upstream x local)")
    for k, s in enumerate(tr.steps, 1):
        yield ""
        yield f"[{k}] {s.type} '{s.name}'    {s.rule}"
        yield _row("inputs", [_named(n, x) for n, x in zip(s.inputs, s.xs)])
        yield _row("output", [_named(n, y) for n, y in zip(s.outputs, s.ys)])
        yield _row("upstream", [f"{_d(f, n)} = {fmt(g)}" for n, g in zip(s.outputs, s.upstream)])
        out = s.outputs[0] if len(s.outputs) == 1 else s.name
        for n, loc, gx in zip(s.inputs, s.local, s.passed):
            yield from _input_lines(f, out, n, loc, gx)
    if tr.sources:
        yield ""
        yield "Gradients: " + ",  ".join(f"{_d(f, n)} = {fmt(tr._by_label(n))}"
                                         for n in tr.sources)


def _input_lines(f, out, name, local, gx):
    head = f"    {'to ' + name:<9}"
    if gx is None:
        yield f"{head} (no gradient needed)"
        return
    loc, passed = f"local {_d(out, name)} = {fmt(local)}", f"passes {_d(f, name)} = {fmt(gx)}"
    if len(head) + len(loc) + len(passed) < 96:
        yield f"{head} {loc:<26} {passed}"
    else:
        yield from (head.rstrip(), f"        {loc}", f"        {passed}")


def _row(title, items):
    head = f"    {title:<9} "
    line = head + ",  ".join(items)
    return line if len(line) < 100 else head + ("\n" + " " * len(head)).join(items)


def _named(name, value):
    v = fmt(value)
    return v if v == name else f"{name} = {v}"


def _d(f, n):
    """df/dg for short names, d(loss)/d(layer1/MatMul) for long ones."""
    wrap = lambda s: s if len(s) <= 2 and s.isidentifier() else f"({s})"
    return f"d{wrap(f)}/d{wrap(n)}"


def fmt(a):
    """A value, compactly: '5' for one number, '(2, 3) [[0.1, ...]]' for an array."""
    if a is None:
        return "None"
    a = np.asarray(a)
    if a.size == 1:
        v = a.item()
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    body = np.array2string(a, precision=4, threshold=6, edgeitems=2, separator=", ",
                           max_line_width=10 ** 6).replace("\n", "")
    return f"{tuple(a.shape)} {' '.join(body.split())}"
