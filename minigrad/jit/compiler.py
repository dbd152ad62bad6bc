"""A traced plan (core.function._Plan) lowered to numba functions, with per-op fallback.

`compile_plan(plan, name, arrays)` takes a plan just traced on `arrays` and returns a plan with
the same `run(arrays)`:
1. shapes: the plan's forward and gradient steps run once more on the trace's arrays (effects
   skipped), which gives every value's shape and dtype, and which gradients each backward node
   passes on;
2. lowering: each unit of the plan in order (an op's forward, one backward node of a gradient
   walk, an effect) through minigrad.jit.lowering, into one program (minigrad.jit.ir). A unit
   that cannot lower becomes a Python step that runs the plan's own code for it; an op whose
   backward falls back runs its forward in Python too (its backward reads what the forward
   kept). The program is rebuilt until every unit lowers or falls back;
3. code: minigrad.jit.codegen writes one numba function per run of compiled units, and a
   Python driver that calls them in order with the Python steps between;
4. compilation now, once per signature (numba's cache makes it a load in later processes).
   Any failure there gives one JitWarning, and the plan replays per op as before.
`explain()` lists where each unit runs and why.
"""
import warnings

import numpy as np

from minigrad.core import backward
from minigrad.core.function import (_EffectStep, _ForwardStep, _GradientStep, _NumericsStep)
from minigrad.core.nest import flatten, pack_like
from minigrad.core.tensor import Tensor
from minigrad.jit import codegen, fusion
from minigrad.jit.ir import Builder, JitWarning, Unsupported  # noqa: F401 (JitWarning: re-export)
from minigrad.jit.lowering import BACKWARD, FORWARD, describe_effect, lower_effect, sum_leading


class _Retry(Exception):
    def __init__(self, keys, reason):
        super().__init__(reason)
        self.keys, self.reason = keys, reason


class _Ctx:
    """What a lowering sees of one op (see minigrad.jit.lowering)."""

    def __init__(self, op, xs, detach, out_shapes):
        self.op, self.xs, self.detach, self.out_shapes = op, xs, detach, out_shapes
        self.ys = ()
        self.saved = None
        self.needs = ()


class _Unit:
    __slots__ = ("label", "where", "detail", "seg")

    def __init__(self, label, where, detail="", seg=None):
        self.label, self.where, self.detail, self.seg = label, where, detail, seg


# --- 1. shapes ---------------------------------------------------------------------------------
def _dry_run(plan, arrays):
    """Every value's (shape, dtype), and per gradient step and node which inputs got a
    gradient, from the plan's forward and gradient steps (no effects) on the trace's arrays."""
    vals = dict(plan.captured)
    vals.update(zip(plan.feed_ids, arrays))
    passed = {}
    # random ops draw from a generator of their own: put each back as it was, so that the
    # compiled plan draws the numbers the replay would have
    rngs = {id(g): (g, g.bit_generator.state) for g in
            (getattr(s.op, "rng", None) for s in plan.steps if isinstance(s, _ForwardStep))
            if isinstance(g, np.random.Generator)}
    try:
        _walk(plan, vals, passed)
    finally:
        for g, state in rngs.values():
            g.bit_generator.state = state
    avals = {i: (np.shape(a), np.asarray(a).dtype) for i, a in vals.items()
             if isinstance(a, (np.ndarray, np.generic))}
    return avals, passed


def _walk(plan, vals, passed):
    for k, step in enumerate(plan.steps):
        if isinstance(step, _ForwardStep):
            step(vals)
        elif isinstance(step, _GradientStep):
            grads = {}
            for t, ct in zip(step.targets, step.cts):
                y = vals[t]
                g = np.ones_like(y) if ct is None else (vals[ct] if isinstance(ct, int) else ct)
                grads[t] = grads[t] + g if t in grads else g

            def observe(s, gys, got, _k=k):
                passed[_k, id(s)] = tuple(g is not None for g in got)
            backward.run(step.steps, grads, observe=observe)
            for s, r in zip(step.sources, step.results):
                if r is not None:
                    g = grads.get(s)
                    vals[r] = np.zeros_like(vals[s]) if g is None else g


# --- 2. lowering -------------------------------------------------------------------------------
class _Lowering:
    def __init__(self, plan, avals, passed, forced):
        self.plan, self.avals, self.passed, self.forced = plan, avals, passed, forced
        self.b = Builder()
        self.V = {}
        self.feeds = {i: k for k, i in enumerate(plan.feed_ids)}
        self.ctxs = {}
        self.units = []
        self.var_vals = {}

    def val(self, i):
        v = self.V.get(i)
        if v is None:
            if i in self.feeds:
                shape, dtype = self.avals[i]
                v = self.b.ext(("feed", self.feeds[i]), shape, dtype)
            elif i in self.plan.captured:
                a = self.plan.captured[i]
                v = self.b.ext(("const", a), a.shape, a.dtype, contig=a.flags.c_contiguous)
            else:
                raise AssertionError(f"value {i} is neither computed, fed nor captured")
            self.V[i] = v
        return v

    def var_val(self, var):
        """A Variable's array, as an update writes it: the captured one when that is the same
        array, else read from the Variable on each call."""
        if self.plan.captured.get(var._id) is var._value:
            return self.val(var._id)
        v = self.var_vals.get(var._id)
        if v is None:
            v = self.var_vals[var._id] = self.b.ext(("attr", var), var._value.shape,
                                                    var._value.dtype)
        return v

    def build(self):
        for k, step in enumerate(self.plan.steps):
            if isinstance(step, _ForwardStep):
                self.forward(step)
            elif isinstance(step, _GradientStep):
                self.gradient(k, step)
            elif isinstance(step, _EffectStep):
                self.effect(k, step)
            elif isinstance(step, _NumericsStep):
                self.python(step, list(step.ins) + list(step.outs), "numerics check",
                            "check_numerics is on: the op's values are checked in Python")
            else:
                raise Unsupported(f"a plan step of type {type(step).__name__}")
        roots = []
        for i in self.plan.out_ids:
            if i is not None:
                roots.append(self.val(i))
        return roots

    def _compiled(self, label, start):
        """Record a unit lowered from node `start` on: compiled, plus its numpy steps."""
        nodes = self.b.nodes[start:]
        segs = sorted({n.seg for n in nodes if n.kind != "py"})
        for n in nodes:
            if n.kind == "py":
                self.units.append(_Unit(label, "numpy", n.attrs["label"]))
        if any(n.kind != "py" for n in nodes) or not nodes:
            self.units.append(_Unit(label, "compiled", "", segs[-1] if segs else self.b.seg))

    def python(self, step, ins, label, why, outs=()):
        def run(*arrays, _ins=ins, _outs=outs):
            vals = dict(zip(_ins, arrays))
            step(vals)
            return tuple(vals[o] for o in _outs)
        xs = [self.val(i) for i in ins]
        res = self.b.py(run, xs, [self.avals[o] for o in outs], "fallback", label)
        if isinstance(step, _ForwardStep):     # minigrad.jit.fusion may replace its call
            self.b.nodes[-1].attrs.update(op=step.op, role="forward", step=step)
        self.units.append(_Unit(label, "fallback", why))
        return res

    def forward(self, step):
        op = step.op
        key = ("fwd", id(op))
        label = f"{op.type} '{op.name}'"
        xs = [self.val(i) for i in step.ins]
        c = _Ctx(op, xs, step.detach, [self.avals[o][0] for o in step.outs])
        if key in self.forced:
            ys = self.python(step, step.ins, label, self.forced[key], step.outs)
        else:
            lower = FORWARD.get(type(op))
            if lower is None:
                raise _Retry([key], f"no lowering for {op.type}")
            start = len(self.b.nodes)
            self.b.unit = label
            try:
                ys = lower(self.b, c, *xs)
                ys = ys if isinstance(ys, tuple) else (ys,)
                if len(ys) != len(step.outs):
                    raise Unsupported(f"{len(ys)} outputs lowered, the op has "
                                      f"{len(step.outs)}")
                for y, o in zip(ys, step.outs):
                    if (y.shape, y.dtype) != tuple(self.avals[o]):
                        raise Unsupported(f"the lowering gives {y.shape} {y.dtype}, the op "
                                          f"{self.avals[o][0]} {self.avals[o][1]}")
            except Unsupported as e:
                raise _Retry([key], str(e)) from None
            self._compiled(label, start)
        c.ys = tuple(ys)
        for o, y in zip(step.outs, ys):
            self.V[o] = y
        self.ctxs[id(op)] = c

    def gradient(self, k, step):
        b = self.b
        grads = {}
        for t, ct in zip(step.targets, step.cts):
            tv = self.val(t)
            if ct is None:
                g = b.fill(1, tv.shape, tv.dtype)
            elif isinstance(ct, int):
                g = self.val(ct)
            else:
                a = np.asarray(ct)
                g = b.ext(("const", a), a.shape, a.dtype, contig=a.flags.c_contiguous)
            grads[t] = b.add(grads[t], g) if t in grads else g
        for s in step.steps:
            op = s.op
            if len(s.outs) == 1:
                g = grads.get(s.outs[0])
                if g is None:
                    continue
                gys = [g]
            else:
                gys = [grads.get(i) for i in s.outs]
                if all(g is None for g in gys):
                    continue
            if s.active:
                self.node(k, s, op, gys, grads)
            for i in s.drop:
                grads.pop(i, None)
        for src, r in zip(step.sources, step.results):
            if r is not None:
                g = grads.get(src)
                if g is None:
                    sv = self.val(src)
                    g = b.fill(0, sv.shape, sv.dtype)
                self.V[r] = g

    def node(self, k, s, op, gys, grads):
        b = self.b
        key = ("bwd", id(op))
        label = f"{op.type} '{op.name}' gradient"
        passed = self.passed.get((k, id(s)))
        c = self.ctxs.get(id(op))
        why = self.forced.get(key)
        if why is None and c is None:
            why = "the op's forward ran outside this function"
        if why is None and type(op) not in BACKWARD:
            why = f"no lowering for the gradient of {op.type}"
            if ("fwd", id(op)) not in self.forced:      # its backward reads op.xs / op.ys
                raise _Retry([key, ("fwd", id(op))], why)
        if why is None and passed is None:
            why = "this gradient node did not run when the step was traced"
        if why is not None:
            return self.python_node(s, op, gys, grads, passed, label, why)
        if any(g is None for g in gys):
            gys = [b.fill(0, *self.avals[o]) if g is None else g for g, o in zip(gys, s.outs)]
        start = len(b.nodes)
        b.unit = label
        c.needs = s.needs
        try:
            gxs = BACKWARD[type(op)](b, c, *gys)
            updates = []
            for j, (inp, gx) in enumerate(zip(s.ins, gxs)):
                if inp is None or gx is None:
                    if inp is not None and passed[j]:
                        raise Unsupported(f"no gradient lowered for input {j}, the op gives one")
                    continue
                if not passed[j]:
                    raise Unsupported(f"a gradient lowered for input {j}, the op gives none")
                i, shape, dtype = inp
                if gx.shape != shape:
                    gx = _unbroadcast(b, gx, shape)
                if gx.dtype != dtype or gx.shape != shape:
                    raise Unsupported(f"gradient {gx.shape} {gx.dtype} for an input "
                                      f"{shape} {dtype}")
                updates.append((i, gx))
            for i, gx in updates:
                grads[i] = b.add(grads[i], gx) if i in grads else gx
        except Unsupported as e:
            raise _Retry([key, ("fwd", id(op))], str(e)) from None
        self._compiled(label, start)

    def python_node(self, s, op, gys, grads, passed, label, why):
        """One backward node in Python: backward.run on it, with the gradients it reads and
        the sums it adds to."""
        outs = [o for o, g in zip(s.outs, gys) if g is not None]
        targets = list(dict.fromkeys(inp[0] for inp in s.ins if inp is not None))
        before = [i for i in targets if i in grads]
        keys = outs + before
        if passed is None:
            raise Unsupported(f"{label}: {why}, and it did not run when the step was traced")
        gets = {inp[0] for inp, p in zip(s.ins, passed) if inp is not None and p}
        after = [i for i in targets if i in grads or i in gets]
        specs = {inp[0]: (inp[1], inp[2]) for inp in s.ins if inp is not None}

        def run(*arrays, _s=s, _keys=keys, _after=after):
            g = dict(zip(_keys, arrays))
            backward.run([_s], g)
            return tuple(g[i] for i in _after)
        ins = [grads[o] for o in outs] + [grads[i] for i in before]
        res = self.b.py(run, ins, [specs[i] for i in after], "fallback", label)
        self.b.nodes[-1].attrs.update(op=op, role="gradient", first=not before, inputs=[
            next(k for k, inp in enumerate(s.ins) if inp is not None and inp[0] == i)
            for i in after])                 # which of the op's inputs each output is for
        for i, v in zip(after, res):
            grads[i] = v
        self.units.append(_Unit(label, "fallback", why))

    def effect(self, k, step):
        key = ("eff", k)
        label = describe_effect(step.fn)
        args = [self.val(i) for i in step.ins]
        if key in self.forced:
            self.python(step, step.ins, label, self.forced[key])
            return
        start = len(self.b.nodes)
        self.b.unit = label
        try:
            lower_effect(self.b, step.fn, args, self.var_val)
        except Unsupported as e:
            raise _Retry([key], str(e)) from None
        self._compiled(label, start)


def _unbroadcast(b, g, shape):
    """core.backward.unbroadcast on values: leading axes of a contiguous gradient through
    sum_rows (numpy's column sums, or BLAS from 512 rows), else a sum over the axes."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    if axes and axes == tuple(range(len(axes))) and g.contig and g.size:
        rest = int(np.prod(g.shape[len(axes):], dtype=np.int64))
        g2 = b.reshape(g, (g.size // max(rest, 1), rest))
        return b.reshape(sum_leading(b, g2, "the gradient of a broadcast"), shape)
    if axes:
        g = b.reduce(g, "sum", axes, keepdims=True)
    return b.reshape(g, shape)


def _lower(plan, avals, passed):
    forced = {}
    for _ in range(4 * len(plan.steps) + 8):
        lowering = _Lowering(plan, avals, passed, forced)
        try:
            roots = lowering.build()
        except _Retry as r:
            for key in r.keys:
                forced.setdefault(key, r.reason if key == r.keys[0] else
                                  f"its gradient falls back ({r.reason})")
            continue
        return lowering, roots
    raise Unsupported("the lowering did not settle")


# --- 3. code and 4. compilation ------------------------------------------------------------------
class _Driver:
    """The Python function that runs a compiled plan: the generated source and its names."""

    def __init__(self, lowering, roots, order, module, functions, plan, scalar_base):
        self.ns = {"_empty": np.empty, "_Tensor": Tensor, "_pack": pack_like,
                   "_outputs": plan.outputs, "_check": _check, "_contig": np.ascontiguousarray}
        self.lines = ["def run(arrays):"]
        feeds = len(plan.feed_ids)
        if feeds:
            self.emit(f"{', '.join(f'f{k}' for k in range(feeds))}, = arrays")
        used = {v.src[1] for seg in module.segments for v in seg.args
                if v.kind == "ext" and v.src[0] == "feed"}
        for k in sorted(used):
            self.emit(f"if not f{k}.flags.c_contiguous:")
            self.emit(f"    f{k} = _contig(f{k})")
        self.sc = np.zeros(max(1, sum(n.attrs["n"] for n in order if n.kind == "prelude")))
        self.ns["_sc"] = self.sc
        compiled_uses = {a.id for n in order if n.kind != "py" for a in n.args}
        segs = {seg.index: seg for seg in module.segments}
        group = []
        for n in order + [None]:
            if n is not None and n.kind != "py":
                group.append(n)
                continue
            # a segment: the preludes of its updates (Python state only), then its function
            for m in group:
                if m.kind == "prelude":
                    fname = self.bind(m.attrs["fn"], "pre")
                    outs = m.attrs["outs"]
                    call = f"{fname}(_sc, {scalar_base[m.id]})"
                    self.emit(f"{', '.join(self.name(v) for v in outs)}, = {call}" if outs
                              else call)
            if group and group[0].seg in segs:
                self.segment(segs[group[0].seg], functions[group[0].seg])
            elif group and group[0].seg in module.idle:
                self.aliases(module.idle[group[0].seg])
            group = []
            if n is not None:
                self.py(n, compiled_uses)
        flat = []
        roots = iter(roots)
        for i, o in zip(plan.out_ids, flatten(plan.outputs)):
            if i is None:
                flat.append(self.bind(o, "out"))
            else:
                flat.append(f"_Tensor({self.name(next(roots))})")
        outputs = plan.outputs
        nested = (list, tuple, dict)
        if not isinstance(outputs, nested):
            self.emit(f"return {flat[0]}")
        elif type(outputs) in (list, tuple) and not any(isinstance(o, nested) for o in outputs):
            items = ", ".join(flat) + ("," if type(outputs) is tuple and len(flat) == 1 else "")
            self.emit(f"return [{items}]" if type(outputs) is list else f"return ({items})")
        else:
            self.emit(f"return _pack(_outputs, [{', '.join(flat)}])")
        self.source = "\n".join(self.lines) + "\n"
        exec(compile(self.source, "<minigrad.jit driver>", "exec"), self.ns)
        self.run = self.ns["run"]

    def emit(self, line):
        self.lines.append("    " + line)

    def bind(self, obj, stem):
        name = f"_{stem}{len(self.ns)}"
        self.ns[name] = obj
        return name

    def name(self, v):
        if v.kind == "ext":
            kind = v.src[0]
            if kind == "feed":
                return f"f{v.src[1]}"
            if kind == "const":
                key = f"_c{v.id}"
                self.ns[key] = v.src[1]
                return key
            if kind == "attr":
                key = f"_v{v.id}"
                self.ns[key] = v.src[1]
                return f"{key}._value"
        return f"x{v.id}"

    def segment(self, seg, fn):
        args = [self.name(v) for v in seg.args]
        for v in seg.outs:
            dt = self.bind(v.dtype.type, "dt")
            self.emit(f"{self.name(v)} = _empty({v.shape}, {dt})")
        args += [self.name(v) for v in seg.outs]
        if seg.uses_scalars:
            args.append("_sc")
        self.emit(f"{self.bind(fn, 'seg')}({', '.join(args)})")
        self.aliases(seg)

    def aliases(self, seg):
        for v in seg.aliases:       # a view of a value the driver holds (see codegen.node)
            self.emit(f"{self.name(v)} = {self.name(v.args[0])}.reshape({v.shape})")

    def py(self, n, compiled_uses):
        fname = self.bind(n.attrs["fn"], "py")
        outs = n.attrs["outs"]
        args = ", ".join(self.name(v) for v in n.args)
        names = [self.name(v) if v is not None else "_" for v in outs]
        self.emit(f"{', '.join(names)}, = {fname}({args})" if outs else f"{fname}({args})")
        for v in outs:
            if v is not None and v.id in compiled_uses:
                self.emit(f"_check({self.name(v)}, {v.shape}, {self.bind(v.dtype, 'dt')}, "
                          f"{n.attrs['label']!r})")


def _check(a, shape, dtype, label):
    if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
        a = np.asarray(a)
        raise RuntimeError(f"minigrad.jit: {label} gave {a.shape} {a.dtype} here but "
                           f"{shape} {dtype} when the step was traced: its output depends on "
                           f"the data, which a compiled step cannot follow; use "
                           f"jit_compile=False for this function")


def _signature(seg):
    import numba
    from numba.core import types

    def t(v):
        if v.kind == "ext" and v.src[0] == "const":
            return numba.typeof(v.src[1])
        return types.Array(numba.from_dtype(v.dtype), v.ndim, "C")
    sig = [t(v) for v in seg.args] + [t(v) for v in seg.outs]
    if seg.uses_scalars:
        sig.append(types.Array(types.float64, 1, "C"))
    return tuple(sig)


# --- the compiled plan ---------------------------------------------------------------------------
def _signature_text(arrays):
    return "(" + ", ".join(f"{a.dtype.name}{list(a.shape)}" for a in arrays) + ")"


class CompiledPlan:
    """A plan whose steps run as compiled segments; `run(arrays)` as core.function._Plan's."""

    def __init__(self, plan, name, signature, units, driver, source):
        self.plan, self.name, self.signature = plan, name, signature
        self.units, self.driver, self.source = units, driver, source
        self.run = driver.run
        self.outputs = plan.outputs

    def explain(self):
        return _explain(self.name, self.signature, self.units, None)


class UncompiledPlan:
    """A plan that could not be compiled at all: it replays per op; explain() says why."""

    def __init__(self, plan, name, signature, reason, units=()):
        self.plan, self.name, self.signature = plan, name, signature
        self.reason, self.units = reason, list(units)
        self.run = plan.run
        self.outputs = plan.outputs

    def explain(self):
        return _explain(self.name, self.signature, self.units, self.reason)


def _explain(name, signature, units, failed):
    head = f"{name}{signature}: "
    if failed:
        head += f"not compiled ({failed}); every op replays in Python"
    else:
        segs = sorted({u.seg for u in units if u.where == "compiled"})
        py = sum(u.where != "compiled" for u in units)
        head += (f"{len(segs)} compiled segment(s), {py} unit(s) in Python "
                 f"({sum(u.where == 'fallback' for u in units)} fallback)")
    lines = [head]
    for u in units:
        if failed:
            where = "python"
        elif u.where == "compiled":
            where = f"compiled [segment {u.seg}]"
        else:
            where = u.where
        lines.append(f"  {where:22s} {u.label}" + (f": {u.detail}" if u.detail else ""))
    return "\n".join(lines)


def _warn(message):
    warnings.warn(f"minigrad.jit: {message}", JitWarning, stacklevel=4)


def compile_plan(plan, name, arrays, quiet=False):
    """The compiled twin of `plan` (just traced on `arrays`), or an UncompiledPlan replaying
    it (with one JitWarning) when nothing of it can be compiled. quiet: no warning when the
    plan simply has nothing to compile (a Session's initializer, a fetch of variables)."""
    sig = _signature_text(arrays)
    try:
        avals, passed = _dry_run(plan, arrays)
    except Exception as e:        # the step itself fails on a second run: leave it alone
        _warn(f"{name}{sig}: not compiled: running the step to find its shapes failed "
              f"({type(e).__name__}: {e})")
        return UncompiledPlan(plan, name, sig, f"running it to find shapes failed: {e}")
    try:
        lowering, roots = _lower(plan, avals, passed)
    except Unsupported as e:
        _warn(f"{name}{sig}: not compiled: {e}")
        return UncompiledPlan(plan, name, sig, str(e))
    units = lowering.units
    into = fusion.fuse(lowering.b.nodes, roots)
    for u in units:
        if u.where in ("compiled", "fallback", "numpy") and u.label in into:
            u.where, u.detail = "fused", f"into the kernel call of {into[u.label]}"
    if not any(u.where in ("compiled", "fused") for u in units):
        why = ("the step has no ops" if not units else
               "none of its ops can be compiled (see explain())")
        if not quiet:
            _warn(f"{name}{sig}: nothing to compile: {why}")
        return UncompiledPlan(plan, name, sig, f"nothing to compile: {why}", units)
    try:
        order = codegen.analyse(lowering.b.nodes, roots)
        scalar_base, base = {}, 0
        for n in order:
            if n.kind == "prelude":
                scalar_base[n.id] = base
                base += n.attrs["n"]
        module = codegen.write_module(order, lowering.b.seg + 1, scalar_base)
        from minigrad.jit import cache
        source = module.source(f"# minigrad.jit: {name}{sig}\n# runtime {cache.stamp()}")
        mod = cache.load(source)
        functions = {}
        for seg in module.segments:
            functions[seg.index] = cache.compile_function(getattr(mod, seg.name),
                                                          _signature(seg))
        driver = _Driver(lowering, roots, order, module, functions, plan, scalar_base)
    except Exception as e:
        _warn(f"{name}{sig}: compilation failed, the step replays per op "
              f"({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e) else ''})")
        return UncompiledPlan(plan, name, sig, f"compilation failed: {type(e).__name__}",
                              units)
    return CompiledPlan(plan, name, sig, units, driver, source)


class DeferredPlan:
    """A plan compiled on its first replay (a Session's: a fetch run once never compiles)."""

    def __init__(self, plan, name):
        self.plan, self.name, self.outputs = plan, name, plan.outputs
        self.compiled = None

    def run(self, arrays):
        self.compiled = compile_plan(self.plan, self.name, arrays, quiet=True)
        self.run = self.compiled.run
        return self.run(arrays)

    def explain(self):
        if self.compiled is None:
            return f"{self.name}: not compiled yet (a Session plan compiles on its first replay)"
        return self.compiled.explain()


def deferred(plan, name):
    return DeferredPlan(plan, name)
