"""`mg.graph.explore(target)`: the backward pass as a web page, to step through in a browser.

    w, x, b = mg.Variable(-2.0, name="w"), mg.Variable(5.0, name="x"), mg.Variable(3.0, name="b")
    with mg.GradientTape(persistent=True) as tape:
        g = w * x
        f = g + b
    mg.graph.explore(f, "backprop.html", sources={"w": w, "x": x, "b": b}, names={"g": g})

    with mg.graph.capture() as cap:       # any model: keep one training step's graph
        trainer.step(0)
    mg.graph.explore(cap.tape, "step.html")

One HTML file, nothing fetched: the graph (name scopes as boxes that fold), each node's op,
shape and value, and the walk of `mg.trace` (the same Steps, serialised, not a second walk):
buttons and the arrow keys step it forward and back; the current node's rule is shown with its
numbers, each edge shows the gradient it carries once the walk has sent it, and a gradient
summed over several consumers shows the sum. The layout is Graphviz's (`dot -Tsvg` on the DOT
export) where `dot` is installed, else a layered one computed here (minigrad.graph.layout).
"""
import html
import json
import os
import re
import shutil
import subprocess

import numpy as np

from minigrad.core import GradientTape, Tensor, Variable
from minigrad.graph import layout as layered
from minigrad.graph._explore_page import PAGE
from minigrad.graph.capture import capture
from minigrad.graph.dot import to_dot
from minigrad.graph.trace import Trace, _d, fmt, trace
from minigrad.graph.walk import Graph, describe, scope_of

MAX_NODES = 1500        # nodes drawn (ops and their inputs); past it the page gets unusable
FULL = 64               # values with at most this many entries are shown in full
TERMS = 4               # a sum of gradients shows at most this many terms

_RECORD = ("Compute it inside `with mg.GradientTape(persistent=True) as tape:` and call "
           "explore on the result (before tape.gradient() for a non-persistent tape), or run "
           "a model's training step inside `with mg.graph.capture() as cap:` and call "
           "explore(cap.tape).")


def explore(target, path="backprop.html", sources=None, names=None, tape=None, *,
            scope=None, layout="auto", title=None, max_nodes=MAX_NODES):
    """Write the backward pass behind `target` as one self-contained HTML page; returns its path.

    target: a Tensor computed on a GradientTape (the walk starts there), a GradientTape (all
    its nodes; the target is its last float output that nothing consumed: a training step's
    loss; sources default to the tensors it watched), a `mg.graph.capture` (its `.tape`), or a
    `Trace` from mg.trace. sources, names, tape: as for mg.trace. scope: draw only the nodes
    under this name scope ('Layer2'), for graphs too big to draw whole. layout: 'auto' (Graphviz
    when `dot` is installed), 'dot' or 'layered'. title: the page's title. max_nodes: the most
    nodes drawn before explore refuses (the page stays usable to about MAX_NODES).

    Open the file in a browser; at the end of its URL, `#step=N` (or `#step=end`) starts the
    page N steps into the walk (pressing the step button N times), `fold=all` or
    `fold=scope1,scope2` folds name scopes, `zoom=1` shows the current node at that scale:
    `page.html#step=7&zoom=1.15`.
    """
    if layout not in ("auto", "dot", "layered"):
        raise ValueError(f"explore: layout must be 'auto', 'dot' or 'layered', got {layout!r}")
    tr, target_id = _trace(target, sources, names, tape)
    if not tr.steps:
        raise ValueError(f"explore: no gradient flows back from {tr.target}: none of its "
                         f"inputs is a float tensor that depends on the sources")
    model = _Model(tr, target_id, scope)
    model.check_size(max_nodes)
    svg, used = _drawing(model, layout)
    data = model.data(title or f"Backprop of {tr.target}", used)
    fill = {"TITLE": html.escape(data["title"]), "SVG": svg, "DATA": _json_for_script(data)}
    text = re.sub(r"%%(TITLE|SVG|DATA)%%", lambda m: fill[m.group(1)], PAGE)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# --- what to walk ----------------------------------------------------------------------------
def _trace(target, sources, names, tape):
    """mg.trace on the right target: (Trace, id of the tensor the walk starts from)."""
    if isinstance(target, capture):
        target = target.tape
    if isinstance(target, Trace):
        if sources is not None or names is not None or tape is not None:
            raise ValueError("explore: a Trace is already walked; give sources, names and tape "
                             "to mg.trace instead")
        return target, _target_id(target)
    if isinstance(target, GradientTape):
        if tape is not None and tape is not target:
            raise ValueError("explore: target is a GradientTape; leave `tape` unset")
        t = _loss_of(target)
        if sources is None:
            sources = list(getattr(target, "_watched", target.watched_variables()))
        return trace(t, sources, tape=target, names=names, verbose=False), t._id
    if not isinstance(target, Tensor):
        raise TypeError(f"explore: target must be a Tensor, a GradientTape, a "
                        f"mg.graph.capture or a Trace, got {type(target).__name__}")
    if isinstance(target, Variable):
        raise ValueError(f"explore: {describe(target)} is a Variable, a leaf with no recorded "
                         f"op behind it: there is no backward pass to show. Explore a tensor "
                         f"computed from it. {_RECORD}")
    if target._node is None:
        raise ValueError(f"explore: {describe(target)} was not recorded on any GradientTape "
                         f"(a constant, or computed outside a tape's block, or from inputs no "
                         f"tape watched), so there is no graph behind it. {_RECORD}")
    if not target._node.ys:
        raise ValueError(f"explore: the graph behind {describe(target)} was released: a "
                         f"non-persistent GradientTape frees it in gradient(). {_RECORD}")
    return trace(target, sources, tape=tape, names=names, verbose=False), target._id


def _loss_of(tape):
    """The tensor a tape's backward pass starts from: its last float output nothing consumed
    (a scalar if there is one), as a stand-in Tensor of the recorded node."""
    if not tape.nodes:
        raise ValueError(f"explore: the GradientTape holds no recorded nodes: nothing was "
                         f"computed inside it, or it is non-persistent and gradient() already "
                         f"released them. {_RECORD}")
    used = {t._id for op in tape.nodes for t in op.inputs}
    ends = [(op, i) for op in tape.nodes for i, y in enumerate(op.ys)
            if op.out_ids[i] not in used and np.asarray(y).dtype.kind == "f"]
    if not ends:
        raise ValueError("explore: every output on the tape is consumed or not float: give "
                         "the loss tensor itself, explore(loss, tape=tape)")
    op, i = ([e for e in ends if np.asarray(e[0].ys[e[1]]).size == 1] or ends)[-1]
    t = Tensor.__new__(Tensor)
    t._value, t._id, t._node, t._index = op.ys[i], op.out_ids[i], op, i
    return t


def _target_id(tr):
    first = tr.steps[0] if tr.steps else None
    for tid, label in tr._labels.items():
        if label == tr.target and (first is None or tid in first.op.out_ids):
            return tid
    raise ValueError("explore: cannot find the target of this Trace among its nodes")


# --- the page's model ------------------------------------------------------------------------
class _Model:
    """The walked graph as the page draws it: nodes (ops 'n<k>', leaves 't<k>', numbered as
    the DOT export numbers them), edges in the DOT export's order, steps, gradients."""

    def __init__(self, tr, target_id, scope):
        self.tr, self.target_id = tr, target_id
        want = tuple(p for p in (scope or "").strip("/").split("/") if p)
        self.scope = want
        keep = [s for s in tr.steps if scope_of(s.op.name)[:len(want)] == want]
        if not keep:
            scopes = sorted({"/".join(scope_of(s.op.name)[:1]) for s in tr.steps} - {""})
            raise ValueError(f"explore: no node of the walk lies under the name scope "
                             f"{scope!r}; top-level scopes: {scopes or 'none'}")
        self.steps = keep
        self.graph = Graph([s.op for s in keep], [])
        self.ops = self.graph.forward_order()
        self.op_id = {id(op): f"n{k}" for k, op in enumerate(self.ops)}
        self.leaf_id = {t._id: f"t{k}" for k, t in enumerate(self.graph.leaves)}
        self.made_by = {i: op for op in self.ops for i in op.out_ids}
        self.edges = []              # (edge id, src node, dst node, tensor id, dst op, k)
        for op in self.ops:
            for k, t in enumerate(op.inputs):
                src = self.leaf_id.get(t._id) or self.op_id[id(self.made_by[t._id])]
                self.edges.append((f"e{len(self.edges)}", src, self.op_id[id(op)], t._id, op, k))
        self.edge_of = {(id(e[4]), e[5]): e[0] for e in self.edges}

    def label(self, tid):
        return self.tr._labels.get(tid, f"tensor {tid}")

    @property
    def size(self):
        return len(self.ops) + len(self.graph.leaves)

    def check_size(self, max_nodes):
        if self.size <= max_nodes:
            return
        counts = {}
        for op in self.ops:
            sub = scope_of(op.name)[len(self.scope):len(self.scope) + 1]
            if sub:
                key = "/".join(self.scope + sub)
                counts[key] = counts.get(key, 0) + 1
        big = sorted(counts.items(), key=lambda kv: -kv[1])[:6]
        hint = (f"Draw one name scope: explore(..., scope={big[0][0]!r}) (scopes by ops: "
                + ", ".join(f"{k} {n}" for k, n in big) + "); or e" if big else "E")
        raise ValueError(
            f"explore: the graph has {self.size} nodes ({len(self.ops)} ops, "
            f"{len(self.graph.leaves)} inputs); the page draws at most {max_nodes} and stays "
            f"readable by folding name scopes up to that size. {hint}xplore a smaller step: "
            f"fewer layers or time steps (the node count grows with those, not with the batch), "
            f"or one block's output instead of the loss. max_nodes= raises the limit.")

    # --- drawing pieces --------------------------------------------------------------------
    def layout_nodes(self):
        out = []
        for t in self.graph.leaves:
            kind = ("var" if isinstance(t, Variable) else
                    "ext" if t._node is not None else "const")
            scope = scope_of(t._name) if isinstance(t, Variable) else ()
            name = t._name.split("/")[-1] if isinstance(t, Variable) else self.label(t._id)
            if kind == "ext":
                name = self.label(t._id)
            out.append(layered.Node(self.leaf_id[t._id], kind, scope,
                                    [name, _shape(t._value), f"= {_short(t._value)}"]))
        for op in self.ops:
            lines = [op.type]
            short = op.name.split("/")[-1]
            if short != op.type:
                lines.append(short)
            lines.append(" ".join(_shape(y) for y in op.ys))
            if len(op.ys) == 1:
                lines.append(f"= {_short(op.ys[0])}")
            out.append(layered.Node(self.op_id[id(op)], "op", scope_of(op.name), lines))
        return out

    def scope_counts(self, nodes):
        counts = {}
        for n in nodes:
            for k in range(1, len(n.scope) + 1):
                counts[n.scope[:k]] = counts.get(n.scope[:k], 0) + 1
        return counts

    # --- the data the page script reads -----------------------------------------------------
    def data(self, title, layout_used):
        tr, f = self.tr, self.tr.target
        grads, badges = self._gradients()
        steps = []
        blocks = _trace_blocks(tr)
        index = {id(s): k for k, s in enumerate(tr.steps)}
        for k, s in enumerate(self.steps):
            passes = [{"edge": self.edge_of[(id(s.op), j)],
                       "text": None if g is None else _short(g)}
                      for j, g in enumerate(s.passed)]
            steps.append({"node": self.op_id[id(s.op)], "passes": passes,
                          "html": self._step_html(k, s, blocks[index[id(s)]], grads)})
        drawn = self.layout_nodes()
        scope = {n.id: "/".join(n.scope) for n in drawn}
        nodes = {}
        for t in self.graph.leaves:
            nid = self.leaf_id[t._id]
            nodes[nid] = {"tensors": [str(t._id)], "scope": scope[nid],
                          "html": self._leaf_html(t, grads)}
        for op in self.ops:
            nid = self.op_id[id(op)]
            nodes[nid] = {"tensors": [str(i) for i in op.out_ids], "scope": scope[nid],
                          "html": self._op_html(op, grads)}
        shown = [tid for tid in self._source_ids() if str(tid) in badges] or [
            t._id for t in self.graph.leaves if str(t._id) in badges]
        return {
            "title": title, "target": f, "layout": layout_used,
            "summary": (f"{f} = {_short(tr.target_value)} \u00b7 {self.size} nodes \u00b7 "
                        f"{len(steps)} backward steps \u00b7 layout: {layout_used}"
                        + (f" \u00b7 scope {'/'.join(self.scope)}" if self.scope else "")),
            "nodes": nodes, "steps": steps, "tensors": badges,
            "start": self._start_html(),
            "targetNode": self._node_of(self.target_id),
            "table": [{"tensor": str(tid), "name": _d(f, self.label(tid)),
                       "label": self.label(tid)} for tid in shown],
            "edges": {e[0]: {"src": e[1], "dst": e[2], "tensor": str(e[3])}
                      for e in self.edges},
            "scopes": {"/".join(s): n for s, n in self.scope_counts(drawn).items()},
        }

    def _source_ids(self):
        by_label = {v: k for k, v in self.tr._labels.items()}
        return [by_label[n] for n in self.tr.sources if n in by_label]

    def _node_of(self, tid):
        if tid in self.leaf_id:
            return self.leaf_id[tid]
        op = self.made_by.get(tid)
        return self.op_id[id(op)] if op is not None else None

    def _gradients(self):
        """Every gradient contribution, in walk order: {tensor id: [(step, ndarray)]} (step 0
        is the seed), and per tensor what the page writes after each contribution."""
        parts = {}
        if self.target_id in self.made_by or self.target_id in self.leaf_id:
            parts[self.target_id] = [(0, np.ones_like(self.tr.target_value))]
        for k, s in enumerate(self.steps, 1):
            for t, g in zip(s.op.inputs, s.passed):
                if g is not None:
                    parts.setdefault(t._id, []).append((k, g))
        f, badges = self.tr.target, {}
        for tid, terms in parts.items():
            name, rows, total = _d(f, self.label(tid)), [], None
            for n, (k, g) in enumerate(terms, 1):
                total = g if total is None else total + g
                seen = [x for _, x in terms[:n]]
                rows.append({"step": k, "short": _sum_text(seen, total, _short),
                             "full": _sum_text(seen, total, _full)})
            badges[str(tid)] = {"name": name, "node": self._node_of(tid), "rows": rows}
        return parts, badges

    # --- panels (HTML, escaped here) ----------------------------------------------------------
    def _start_html(self):
        tr, f = self.tr, self.tr.target
        seed = self._node_of(self.target_id)
        where = ("" if seed else " (outside the scope drawn here: the walk enters it "
                 "with the gradients shown on its inputs)")
        return (f"<h3>Before the walk</h3><p>{_e(f)} = <b>{_e(fmt(tr.target_value))}</b>. "
                f"The backward pass starts from the seed <code>{_e(_d(f, f))} = "
                f"{_e(_short(np.ones_like(tr.target_value)))}</code>{where}, then visits the "
                f"{len(self.steps)} node(s) in reverse recording order. At each node: "
                f"<i>passed on = upstream &times; local</i> (the chain rule).</p>"
                f"<p class=hint>&rarr; / &larr; step, Home / End jump; click a node for its "
                f"value, a scope's title to fold it.</p>")

    def _step_html(self, k, s, block, grads):
        f = self.tr.target
        out = [f"<h3>[{k + 1}] {_e(s.type)} <span class=opname>'{_e(s.name)}'</span></h3>",
               f"<div class=rule>{_e(s.rule)}</div>"]
        for n, x in zip(s.inputs, s.xs):
            out.append(_kv("input", n, _full(x)))
        for n, y in zip(s.outputs, s.ys):
            out.append(_kv("output", n, _full(y)))
        for n, i, g in zip(s.outputs, s.op.out_ids, s.upstream):
            terms = [x for step, x in grads.get(i, ()) if step <= k]
            up = _sum_text(terms, g, _full) if len(terms) > 1 else _full(g)
            out.append(_kv("upstream", _d(f, n), up, "sum" if len(terms) > 1 else ""))
        out_name = s.outputs[0] if len(s.outputs) == 1 else s.name
        for n, loc, gx, up in zip(s.inputs, s.local, s.passed, _upstream_for(s)):
            out.append(f"<div class=to><div class=toname>to {_e(n)}</div>")
            if gx is None:
                out.append("<div class=none>no gradient needed</div></div>")
                continue
            out.append(_kv("local", _d(out_name, n), _full(loc)))
            out.append(_kv("passes", _d(f, n), _full(gx), "passed"))
            chain = _chain(f, out_name, n, up, loc, gx)
            if chain:
                out.append(f"<div class=chainrow>{_e(chain)}</div>")
            out.append("</div>")
        if block:
            out.append(f"<details class=tracetext><summary>as mg.trace prints it</summary>"
                       f"<pre>{_e(block)}</pre></details>")
        return "".join(out)

    def _leaf_html(self, t, grads):
        kind = ("Variable" if isinstance(t, Variable) else
                "tensor from outside the drawn graph" if t._node is not None else "constant")
        return self._value_html(f"{_e(self.label(t._id))} &middot; {kind}",
                                [(t._id, t._value)], grads)

    def _op_html(self, op, grads):
        rule = (type(op).__doc__ or "").strip().splitlines()
        head = f"{_e(op.type)} <span class=opname>'{_e(op.name)}'</span>"
        extra = f"<div class=rule>{_e(rule[0])}</div>" if rule else ""
        ins = ", ".join(_e(self.label(t._id)) for t in op.inputs)
        step = next((k for k, s in enumerate(self.steps, 1) if s.op is op), None)
        where = f"; backward step {step} of {len(self.steps)}" if step else ""
        return self._value_html(head, list(zip(op.out_ids, op.ys)), grads,
                                extra + f"<p class=hint>inputs: {ins}{where}</p>")

    def _value_html(self, head, rows, grads, extra=""):
        f = self.tr.target
        out = [f"<h3>{head}</h3>{extra}"]
        for tid, v in rows:
            v = np.asarray(v)
            out.append(_kv("value", self.label(tid), _full(v)))
            out.append(_kv("shape", f"{tuple(v.shape)} {v.dtype}", None))
            terms = [g for _, g in grads.get(tid, ())]
            if terms:
                total = sum(terms[1:], terms[0])
                out.append(_kv("gradient", _d(f, self.label(tid)),
                               _sum_text(terms, total, _full), "sum" if len(terms) > 1 else ""))
        return "".join(out)


def _upstream_for(s):
    return [s.upstream[0] if len(s.upstream) == 1 else None] * len(s.inputs)


def _chain(f, out, name, up, local, passed):
    """'df/dw = df/dg x dg/dw = 1 x 5 = 5' where the chain rule is one product (scalars)."""
    if up is None or any(np.asarray(a).size != 1 for a in (up, local, passed)):
        if up is not None and np.shape(up) == np.shape(local) == np.shape(passed):
            return f"{_d(f, name)} = {_d(f, out)} \u00d7 {_d(out, name)}, entry by entry"
        return ""
    return (f"{_d(f, name)} = {_d(f, out)} \u00d7 {_d(out, name)} = {fmt(up)} \u00d7 "
            f"{fmt(local)} = {fmt(passed)}")


def _trace_blocks(tr):
    """mg.trace's printed text, one block per step."""
    text = str(tr).split("\n\nGradients: ")[0]
    blocks = re.split(r"\n\n(?=\[\d+\] )", text)[1:]
    return blocks if len(blocks) == len(tr.steps) else [""] * len(tr.steps)


# --- values as text --------------------------------------------------------------------------
def _shape(a):
    a = np.asarray(a)
    return "scalar" if a.ndim == 0 else "x".join(str(n) for n in a.shape)


def _num(v):
    return f"{v:.4g}"


def _short(a):
    """For a badge or an edge: '5', '[1, 2, 3]', or '4x10: -0.31..0.52'."""
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a)
    if a.size <= 4:
        return "[" + ", ".join(_num(v) for v in a.ravel()) + "]"
    if a.size == 0:
        return f"{_shape(a)} empty"
    if a.dtype.kind not in "fiu":
        return f"{_shape(a)} {a.dtype}"
    return f"{_shape(a)}: {a.min():.2g}..{a.max():.2g}"


def _full(a):
    """For the panels: small values in full; large ones as shape, min/mean/max, first entries."""
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a)
    if a.size <= FULL:
        body = np.array2string(a, precision=4, separator=", ", threshold=FULL + 1,
                               max_line_width=52)
        flat = " ".join(line.strip() for line in body.splitlines())
        body = flat if len(flat) <= 52 else body           # a short column on one line
        return f"{tuple(a.shape)} {body}"
    flat = a.ravel()
    first = ", ".join(_num(v) if a.dtype.kind == "f" else str(v) for v in flat[:6])
    if a.dtype.kind not in "fiu":
        return f"shape {tuple(a.shape)} {a.dtype}; first [{first}, \u2026]"
    return (f"shape {tuple(a.shape)} {a.dtype}: min {_num(a.min())}, mean {_num(a.mean())}, "
            f"max {_num(a.max())}; first [{first}, \u2026]")


def _sum_text(terms, total, show):
    """'a + b = c' for a gradient summed over several consumers (one term: just the value);
    arrays one term a line. A short form (show=_short) of an array sum gives the total only."""
    if len(terms) == 1:
        return show(total)
    more = f" + \u2026 ({len(terms)} terms)" if len(terms) > TERMS else ""
    if all(np.asarray(t).size == 1 for t in terms):
        text = " + ".join(show(t) for t in terms[:TERMS]).replace("+ -", "- ")
        return f"{text}{more} = {show(total)}"
    if show is _short:
        return f"sum of {len(terms)}: {show(total)}"
    lines = ["  " + show(terms[0])] + ["+ " + show(t) for t in terms[1:TERMS]]
    if more:
        lines.append(f"+ \u2026 ({len(terms) - TERMS} more terms)")
    return "\n".join(line.replace("\n", "\n  ") for line in lines + [f"= {show(total)}"])


def _e(s):
    return html.escape(str(s), quote=True)


def _kv(what, name, value, cls=""):
    """One labelled value of a panel: on one line when short, else in a block below."""
    head = f"<span class=k>{_e(what)}</span><code class=n>{_e(name)}</code>"
    if value is None:
        return f"<div class='kv {cls}'>{head}</div>"
    if "\n" in value or len(value) + len(name) > 44:
        return f"<div class='kv {cls}'>{head} =<pre class=v>{_e(value)}</pre></div>"
    return f"<div class='kv {cls}'>{head} = <code class=v>{_e(value)}</code></div>"


def _json_for_script(data):
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")   # no </script>


# --- the drawing -----------------------------------------------------------------------------
def _drawing(model, layout):
    """(SVG text, 'graphviz' | 'layered')."""
    exe = shutil.which("dot") if layout in ("auto", "dot") else None
    if layout == "dot" and exe is None:
        raise RuntimeError("explore: layout='dot' needs Graphviz's `dot` program on PATH "
                           "(apt-get install graphviz); layout='auto' falls back to the "
                           "layered layout")
    if exe is not None:
        return _graphviz(model, exe), "graphviz"
    nodes = model.layout_nodes()
    edges = [(eid, a, b, "" if op.xs[k].ndim == 0 else _shape(op.xs[k]))
             for eid, a, b, _, op, k in model.edges]
    size = layered.layout(nodes, [(a, b) for _, a, b, _ in edges])
    return layered.svg(nodes, edges, size, size[2]), "layered"


class _Recorded(GradientTape):
    """The walked nodes, as a tape, so the DOT export draws exactly the graph of the walk."""

    def __init__(self, ops):                    # not GradientTape's: nothing is recorded
        self.nodes = list(ops)


def _graphviz(model, exe):
    dot = to_dot(_Recorded(model.ops), show_values=True)
    dot = dot.replace("  rankdir=LR;\n", "  rankdir=LR; nodesep=0.5; ranksep=0.75;\n", 1)
    done = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"explore: `dot -Tsvg` failed: {done.stderr.strip()}")
    return _annotate(done.stdout, model)


_SVG = "http://www.w3.org/2000/svg"


def _annotate(svg_text, model):
    """Graphviz's SVG with the page's ids: data-node / data-edge / data-scope attributes."""
    import xml.etree.ElementTree as ET          # only here: `import minigrad` stays lean
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(svg_text)
    root.set("id", "graph")
    root.set("class", "graphviz")
    pairs = {}
    for e in model.edges:
        pairs.setdefault(f"{e[1]}->{e[2]}", []).append(e[0])
    centers, clusters = {}, []
    for g in root.iter(f"{{{_SVG}}}g"):
        kind, title = g.get("class"), g.find(f"{{{_SVG}}}title")
        name = title.text if title is not None else ""
        if title is not None and kind in ("node", "edge", "cluster"):
            g.remove(title)
        if kind == "node":
            g.set("data-node", name)
            centers[name] = _center(g)
        elif kind == "edge" and pairs.get(name):
            g.set("data-edge", pairs[name].pop(0))
        elif kind == "cluster":
            clusters.append(g)
    scope_of_node = {n.id: n.scope for n in model.layout_nodes()}
    for g in clusters:
        scope = _cluster_scope(g, centers, scope_of_node)
        if scope:
            g.set("data-scope", "/".join(scope))
    return ET.tostring(root, encoding="unicode")


def _points(g):
    nums = []
    for el in g.iter():
        for attr in ("points", "d"):
            if el.get(attr):
                nums += [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", el.get(attr))]
        if el.get("cx") is not None:
            cx, cy = float(el.get("cx")), float(el.get("cy"))
            nums += [cx - float(el.get("rx", 0)), cy, cx + float(el.get("rx", 0)), cy]
    return list(zip(nums[0::2], nums[1::2]))


def _center(g):
    pts = _points(g)
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _cluster_scope(g, centers, scope_of_node):
    """The name scope a Graphviz cluster stands for: the nodes inside its box share it."""
    pts = _points(g)
    text = g.find(f"{{{_SVG}}}text")
    if not pts or text is None:
        return None
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    inside = [scope_of_node[n] for n, c in centers.items()
              if c and n in scope_of_node and x0 <= c[0] <= x1 and y0 <= c[1] <= y1]
    if not inside:
        return None
    common = inside[0]
    for s in inside[1:]:
        k = 0
        while k < min(len(common), len(s)) and common[k] == s[k]:
            k += 1
        common = common[:k]
    while common and common[-1] != (text.text or "").strip():
        common = common[:-1]
    return common or None
