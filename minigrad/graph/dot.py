"""Graphviz pictures of a recorded graph: DOT text in pure Python, SVG when `dot` is installed.

    with mg.GradientTape(persistent=True) as tape:
        loss = model(x)
    text = mg.graph.to_dot(loss, show_values=True, grads=True)
    mg.graph.render(text, "out/model")      # out/model.dot, and out/model.svg if `dot` exists

Ops are boxes (type, name, output shape), leaves are ellipses (Variables by name, constants by
value or shape), edges carry the tensor's shape (and its gradient), name scopes are clusters.
The output depends only on the graph, so the same model gives the same text every time.
"""
import os
import shutil
import subprocess

import numpy as np

from minigrad.core import Tensor, Variable
from minigrad.graph.trace import Trace, fmt, trace
from minigrad.graph.walk import collect, scope_of, tensor_label

_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#dbe8f7"'
_VAR_STYLE = 'shape=ellipse, style=filled, fillcolor="#fde7b0"'
_CONST_STYLE = 'shape=ellipse, style=filled, fillcolor="#eeeeee"'
_OUT_STYLE = 'shape=ellipse, style=filled, fillcolor="#d4f0d4", penwidth=2'


def to_dot(target, show_values=False, grads=None):
    """Graphviz DOT text for the graph behind `target` (a Tensor, a list, or a GradientTape).

    show_values: print each tensor's value (compactly) on its node. grads: gradients to print
    on the edges: True (d target / d every tensor, computed by a trace), a `Trace`, a dict
    {tensor: gradient}, or a list of (gradient, variable) pairs from compute_gradients.
    """
    graph = collect(target, tool="to_dot")
    gmap = _grad_map(grads, target)
    ids = _ids(graph)
    scoped = {(): []}                      # scope path -> its DOT statements
    for t in graph.leaves:
        scope = scope_of(t._name) if isinstance(t, Variable) else ()
        scoped.setdefault(scope, []).append(_leaf_stmt(ids.leaf[t._id], t, show_values, gmap))
    for op in graph.forward_order():
        stmt = _op_stmt(ids.op[id(op)], op, show_values)
        scoped.setdefault(scope_of(op.name), []).append(stmt)
    edges = [_edge(ids, t, op, gmap) for op in graph.forward_order() for t in op.inputs]
    for k, t in enumerate(graph.targets):
        out = f"out{k}"
        scoped[()].append(_target_stmt(out, t, show_values, gmap))
        edges.append(f'  {ids.op[id(t._node)]} -> {out} [label="{_shape(t._value)}"];')
    body = _clusters(scoped, (), "  ", {})
    head = ["digraph minigrad {", "  rankdir=LR;",
            '  node [fontname="Helvetica", fontsize=10];',
            '  edge [fontname="Helvetica", fontsize=9];']
    return "\n".join(head + body + edges + ["}"]) + "\n"


def render(dot_text, path):
    """Write `dot_text` to PATH.dot and, if Graphviz's `dot` is installed, PATH.svg.

    Returns (dot_path, svg_path); svg_path is None without Graphviz (install it, or paste the
    .dot file into any online Graphviz viewer).
    """
    if not isinstance(dot_text, str) or not dot_text.lstrip().startswith(("digraph", "graph")):
        raise ValueError("render: expected DOT text from mg.graph.to_dot (starting 'digraph'), "
                         f"got {type(dot_text).__name__}")
    base, ext = os.path.splitext(os.fspath(path))
    base = base if ext in (".dot", ".gv", ".svg") else base + ext
    os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
    dot_path = base + ".dot"
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(dot_text)
    exe = shutil.which("dot")
    if exe is None:
        return dot_path, None
    svg_path = base + ".svg"
    done = subprocess.run([exe, "-Tsvg", dot_path, "-o", svg_path], capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"render: `dot -Tsvg {dot_path}` failed: {done.stderr.strip()}")
    return dot_path, svg_path


# --- pieces ----------------------------------------------------------------------------------
class _ids:
    """Short DOT ids, numbered in a fixed order: leaves t0.., ops n0.. in forward order."""

    def __init__(self, graph):
        self.leaf = {t._id: f"t{k}" for k, t in enumerate(graph.leaves)}
        self.op = {id(op): f"n{k}" for k, op in enumerate(graph.forward_order())}


def _leaf_stmt(nid, t, show_values, gmap):
    if isinstance(t, Variable):
        lines, style = [t._name.split("/")[-1], _shape(t._value)], _VAR_STYLE
    else:
        lines, style = [tensor_label(t), _shape(t._value)], _CONST_STYLE
        if t._node is not None:
            lines[0] = f"{lines[0]} (from outside the graph)"
    lines += _value_lines(t._value, show_values) + _grad_lines(gmap.get(t._id))
    return f'    {nid} [{style}, label="{_label(lines)}"];'


def _op_stmt(nid, op, show_values):
    lines = [op.type]
    if op.name.split("/")[-1] != op.type:
        lines.append(op.name.split("/")[-1])
    lines.append(" ".join(_shape(y) for y in op.ys))
    if show_values and len(op.ys) == 1:
        lines += _value_lines(op.ys[0], True)
    return f'    {nid} [{_OP_STYLE}, label="{_label(lines)}"];'


def _target_stmt(nid, t, show_values, gmap):
    lines = [t.name, _shape(t._value)] + _value_lines(t._value, show_values)
    lines += _grad_lines(gmap.get(t._id))
    return f'    {nid} [{_OUT_STYLE}, label="{_label(lines)}"];'


def _edge(ids, t, op, gmap):
    src = ids.leaf.get(t._id) or ids.op[id(t._node)]
    lines = [_shape(t._value)] + _grad_lines(gmap.get(t._id))
    return f'  {src} -> {ids.op[id(op)]} [label="{_label(lines)}"];'


def _clusters(scoped, scope, indent, used):
    """The statements of `scope`, then each child scope as a nested `subgraph cluster_...`."""
    out = [indent + s.strip() for s in scoped.get(scope, [])]
    children = sorted({p[:len(scope) + 1] for p in scoped if len(p) > len(scope)
                       and p[:len(scope)] == scope})
    for child in children:
        name = _unique("_".join(_safe(part) for part in child), used)
        out += [f"{indent}subgraph cluster_{name} {{",
                f'{indent}  label="{_escape(child[-1])}"; style="rounded,dashed";']
        out += _clusters(scoped, child, indent + "  ", used)
        out.append(f"{indent}}}")
    return out


def _grad_map(grads, target):
    """Normalise the `grads` argument to {tensor id: ndarray}."""
    if grads is None or grads is False:
        return {}
    if grads is True:
        if isinstance(target, Tensor):
            return dict(trace(target, verbose=False)._grads)
        raise ValueError("to_dot: grads=True needs a single target Tensor; pass a Trace or a "
                         "dict of gradients for other targets")
    if isinstance(grads, Trace):
        return dict(grads._grads)
    pairs = grads.items() if isinstance(grads, dict) else [(v, g) for g, v in grads]
    out = {}
    for t, g in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot: grads must be keyed by Tensors or Variables, "
                            f"got {type(t).__name__}")
        if g is not None:
            out[t._id] = np.asarray(g._value if isinstance(g, Tensor) else g)
    return out


def _value_lines(value, show):
    return [f"= {_brief(value)}"] if show else []


def _grad_lines(g):
    return [] if g is None else [f"grad {_brief(g)}"]


def _brief(a):
    """A value short enough for a picture: '5', '[1, 2, 3]', or 'in [-0.04, 0.1]'."""
    a = np.asarray(a)
    if a.size <= 4:
        return fmt(a) if a.size == 1 else "[" + ", ".join(f"{v:.4g}" for v in a.ravel()) + "]"
    return f"in [{a.min():.4g}, {a.max():.4g}]"


def _shape(a):
    return "scalar" if a.ndim == 0 else "x".join(str(n) for n in a.shape)


def _label(lines):
    return "\\n".join(_escape(s) for s in lines)


def _escape(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _unique(name, used):
    """`name`, or `name_1`, `name_2` ... the first not taken yet."""
    candidate, n = name, 0
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    used[candidate] = True
    return candidate


def _safe(part):
    return "".join(c if c.isalnum() else "_" for c in part)
