"""From the compiler's values (minigrad.jit.ir) to Python source: one numba function per segment,
and the Python driver that calls them, the Python steps between them and the optimizers' preludes.

Fusion: an elementwise value used once, by an elementwise value of the same shape in the same
segment with no update in between, is not stored: its consumer's loop computes it. Every other
value is stored (an array, or a local scalar when it is 0-d). Stored elementwise values are one
loop nest over their shape; inputs of other shapes broadcast by indexing (a size-1 axis reads
index 0).

Orders, so that float64 results round as eager's:
- elementwise: the same operations in the same order (IEEE +, -, *, /, sqrt are exact-rounded,
  so these match bit for bit); exp, log, log1p, tanh, pow come from LLVM's libm where numpy
  uses its own SIMD code: those differ from numpy in the last bit for a few percent of inputs.
- sums: numpy's order. After dropping size-1 axes and merging neighbouring axes that are both
  reduced or both kept, numpy walks the input in memory order and adds into the output from 0:
  the innermost axis, when reduced, by its pairwise summation (minigrad.jit.runtime), else one
  element at a time. The generated loops do the same.
- matmuls as loops: a plain sum over k in order, without fused multiply-adds; numpy's BLAS uses
  FMA and blocked orders, so these differ from eager's in the last bits (larger matmuls call
  numpy's BLAS and match).
"""
import numpy as np

from minigrad.jit.ir import COMPARE

_TAB = "    "
_SIMPLE = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
_CMP = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
_CALL = {"exp": "np.exp", "log": "np.log", "log1p": "np.log1p", "sqrt": "np.sqrt",
         "tanh": "np.tanh", "abs": "np.abs", "max": "_rt_maximum", "min": "_rt_minimum"}
_WRAP_INT = {"add", "sub", "mul", "neg", "abs", "max", "min", "pow"}
_PW_INLINE = 128


class _Idx(tuple):
    """Per-axis index expressions of a loop nest ("0" on axes of length 1). `flat` names the
    one loop variable when the nest is a single flat loop: every array it reads then has the
    nest's `shape` (or one element)."""
    flat = None
    shape = ()


def live_ids(nodes, roots):
    """The ids of the values a step needs: what its effects, preludes, Python steps and
    results read, transitively."""
    live = set()
    stack = [n for n in nodes if n.kind in ("effect", "prelude", "py")] + list(roots)
    while stack:
        v = stack.pop()
        if v.id in live:
            continue
        live.add(v.id)
        stack.extend(v.args)
        if v.kind == "prelude":
            stack.extend(v.attrs["outs"])
    return live


def analyse(nodes, roots):
    """Liveness, uses, exports and which elementwise values are stored. Returns the live nodes
    in order."""
    live = live_ids(nodes, roots)
    order = [n for n in nodes if n.id in live]
    for v in order:
        v.uses = []
    for n in order:
        for a in n.args:
            a.uses.append(n)
    updates = [n.pos for n in order if n.kind == "effect"]
    root_ids = {r.id for r in roots}
    for v in order:
        if v.kind in ("effect", "prelude", "py"):
            continue
        v.attrs["export"] = v.id in root_ids or any(
            u.kind == "py" or u.seg != v.seg for u in v.uses)
        if v.kind != "ew":
            v.mat = True
            continue
        u = v.uses[0] if len(v.uses) == 1 else None
        v.mat = (v.attrs["export"] or u is None or u.kind != "ew" or u.shape != v.shape or
                 u.seg != v.seg or any(v.pos < p < u.pos for p in updates))
    return order


class Segment:
    """One numba function: its name, arguments (values, then out parameters, then the scalars
    array when an update reads one) and source lines."""

    def __init__(self, index, name):
        self.index, self.name = index, name
        self.args, self.outs, self.uses_scalars = [], [], False
        self.aliases = []       # exported views of exported values: the driver reshapes
        self.lines = []


class Module:
    """The generated module: constants, imports and the segments' functions."""

    def __init__(self):
        self.consts = {}          # (dtype str, value repr) -> name
        self.kernels = set()      # minigrad.kernels.optim functions called
        self.segments = []
        self.idle = {}            # index -> a segment of driver-side views only (no function)

    def const(self, value, dtype):
        dtype = np.dtype(dtype)
        if dtype == np.bool_:
            return "True" if value else "False"
        if dtype.kind == "f":
            text = f"np.{dtype.name}(float.fromhex({float(value).hex()!r}))"
        else:
            text = f"np.{dtype.name}({int(value)})"
        key = text
        if key not in self.consts:
            self.consts[key] = f"_k{len(self.consts)}"
        return self.consts[key]

    def source(self, header):
        out = [header, "import numba", "import numpy as np",
               "from minigrad.jit.runtime import maximum as _rt_maximum, minimum as "
               "_rt_minimum, sign as _rt_sign, pairwise_sum as _rt_pairwise_sum"]
        if self.kernels:
            out.append(f"from minigrad.kernels.optim import {', '.join(sorted(self.kernels))}")
        out.append('_jit = numba.njit(cache=True, error_model="numpy", nogil=True)')
        out += [f"{name} = {text}" for text, name in self.consts.items()]
        for seg in self.segments:
            params = [f"a{k}" for k in range(len(seg.args))] + \
                     [f"o{k}" for k in range(len(seg.outs))] + (["sc"] if seg.uses_scalars else [])
            out += ["", "", "@_jit", f"def {seg.name}({', '.join(params)}):"]
            out += [_TAB + line for line in seg.lines] or [_TAB + "pass"]
            out.append(_TAB + "return None")
        return "\n".join(out) + "\n"


class SegmentWriter:
    def __init__(self, module, seg, nodes, scalar_base):
        self.m, self.seg, self.nodes = module, seg, nodes
        self.scalar_base = scalar_base        # prelude node id -> offset in sc
        self.names, self.forms = {}, {}       # value id -> name; "array" | "scalar"
        self.lines = seg.lines
        self.depth = 0
        self._tmp = 0
        self._open = []
        self._hoist = None        # inside nest(): lines that go before its loops
        self.flat_views = {}

    # --- helpers --------------------------------------------------------------------------
    def emit(self, line):
        self.lines.append(_TAB * self.depth + line)

    def tmp(self, stem="q"):
        self._tmp += 1
        return f"{stem}{self._tmp}"

    def arg(self, v):
        if v.id not in self.names:
            self.names[v.id] = f"a{len(self.seg.args)}"
            self.forms[v.id] = "array"
            self.seg.args.append(v)
        return self.names[v.id]

    def ref(self, v):
        """The name of a stored value, registering it as an argument when it comes from
        outside this segment."""
        if v.id in self.names:
            return self.names[v.id]
        if v.kind == "ext" or v.seg != self.seg.index:
            return self.arg(v)
        raise AssertionError(f"{v} used before it is computed")

    def array(self, v):
        """The name of an array holding v (a one-element copy for a scalar local)."""
        name = self.ref(v)
        if self.forms[v.id] != "scalar":
            return name
        key = ("array", v.id)
        if key not in self.names:
            t = self.names[key] = self.tmp("s")
            self.pre(f"{t} = np.empty({v.shape}, np.{v.dtype.name})")
            self.pre(f"{t}[{_first(v)}] = {name}")
        return self.names[key]

    def pre(self, line):
        """A statement that must run before the loop nest being written (at its start when
        none is)."""
        if self._hoist is not None:
            self._hoist.append(line)
        else:
            self.emit(line)

    def flatview(self, v):
        """A 1-D view of v's array (made once per segment, before the loops that read it)."""
        fv = self.flat_views.get(v.id)
        if fv is None:
            name = self.contiguous(v)
            if v.ndim == 1 and name == self.names.get(v.id):
                fv = name
            else:
                fv = f"{self.names.get(v.id, 'x')}f" if name == self.names.get(v.id) \
                    else self.tmp("c")
                self.pre(f"{fv} = {name}.reshape({v.size})")
            self.flat_views[v.id] = fv
        return fv

    def nest(self, shape, body, flat=False):
        """Loops over `shape` around the statements body(idx) writes; the flat views and
        arrays those statements need are made before the loops. flat: one loop over all
        elements (the body then indexes with idx.flat only)."""
        if flat:
            idx = _Idx(["?"] * len(shape))
            idx.flat = "q"
        else:
            idx = _Idx(["0" if n == 1 else f"i{d}" for d, n in enumerate(shape)])
        idx.shape = tuple(shape)
        saved = self.lines, self.depth, self._hoist
        self.lines, self.depth, self._hoist = [], 0, []
        body(idx)
        lines, hoist = self.lines, self._hoist
        self.lines, self.depth, self._hoist = saved
        for line in hoist:
            self.emit(line)
        if flat:
            self.emit(f"for q in range({int(np.prod(shape, dtype=np.int64))}):")
            opened = 1
        else:
            opened = 0
            for d, n in enumerate(shape):
                if n != 1:
                    self.emit(f"{_TAB * opened}for i{d} in range({n}):")
                    opened += 1
        for line in lines:
            self.emit(_TAB * opened + line)

    def element(self, v, idx):
        """The element of array value v at the nest's indices (right-aligned broadcast)."""
        fv = self.flatview(v)
        if idx.flat is not None:
            return f"{fv}[{idx.flat}]"
        lead = len(idx) - v.ndim
        terms, stride = [], 1
        for k in reversed(range(v.ndim)):
            i = idx[lead + k]
            if v.shape[k] != 1 and i != "0":
                terms.append(i if stride == 1 else f"{i} * {stride}")
            stride *= v.shape[k]
        return f"{fv}[{' + '.join(reversed(terms)) or '0'}]"

    def contiguous(self, v):
        # NOTE: every array from outside the segment, not only those seen non-contiguous when
        # it was compiled: a later call may pass a view (numba then types it layout 'A', and
        # reshape refuses it); for a C array numba's ascontiguousarray is the array itself
        name = self.array(v)
        if v.kind == "ext" and (v.ndim >= 1 or not v.contig):
            return f"np.ascontiguousarray({name})"
        return name

    def flat(self, v):
        """A 1-D C-contiguous array holding v."""
        name = self.contiguous(v)
        return name if v.ndim == 1 and name == self.names.get(v.id) else \
            f"{name}.reshape({v.size})"

    def loops(self, shape, stem="i"):
        """Open a loop per axis longer than 1; the index names (\"0\" for the others)."""
        idx = []
        for d, n in enumerate(shape):
            if n == 1:
                idx.append("0")
                continue
            self.emit(f"for {stem}{d} in range({n}):")
            self.depth += 1
            idx.append(f"{stem}{d}")
        self._open.append(sum(n != 1 for n in shape))
        return tuple(idx)

    def end_loops(self, shape=None):
        self.depth -= self._open.pop()

    # --- expressions ----------------------------------------------------------------------
    def leaf(self, v, idx):
        """v's element at loop indices idx (over the consumer's shape, rank len(idx))."""
        if v.kind == "lit":
            return self.m.const(v.attrs["value"], v.dtype)
        if v.kind == "iota":
            return idx[len(idx) - v.ndim + v.attrs["axis"]]
        if v.kind == "ew" and not v.mat:
            return self.render(v, idx)
        name = self.ref(v)
        if self.forms[v.id] == "scalar":
            return name
        if v.ndim == 0:
            return f"{name}[()]"
        if v.size == 1:
            return f"{name}[{', '.join('0' * v.ndim)}]"
        return self.element(v, idx)

    def render(self, v, idx):
        """The scalar expression of elementwise value v at indices idx (v's own shape)."""
        args = [self.leaf(a, idx) for a in v.args]
        op = v.op
        if op in _SIMPLE:
            text = f"({args[0]} {_SIMPLE[op]} {args[1]})"
        elif op in COMPARE:
            text = f"({args[0]} {_CMP[op]} {args[1]})"
        elif op in _CALL:
            text = f"{_CALL[op]}({', '.join(args)})"
        elif op == "neg":
            text = f"(-{args[0]})"
        elif op == "id":
            text = args[0]
        elif op == "sign":
            one, zero = self.m.const(1, v.dtype), self.m.const(0, v.dtype)
            text = f"_rt_sign({args[0]}, {one}, {zero})"
        elif op == "where":
            text = f"({args[1]} if {args[0]} else {args[2]})"
        elif op == "cast":
            return self.cast(args[0], v.args[0].dtype, v.dtype)
        else:
            raise AssertionError(op)
        if op in _WRAP_INT and v.dtype.kind in "iu":
            text = f"np.{v.dtype.name}({text})"       # numba widens small ints
        return text

    @staticmethod
    def cast(text, src, dst):
        if src == dst:
            return text
        if dst == np.bool_:
            return f"({text} != 0)"
        return f"np.{dst.name}({text})"

    # --- nodes ----------------------------------------------------------------------------
    def write(self, nodes, host):
        """Emit the segment. Neighbouring stored values of one shape (elementwise ones and
        matmuls) share one loop nest; a value whose every use is inside that nest is a scalar
        of the loop body, never an array."""
        todo = [n for n in nodes if n.kind != "prelude" and (n.kind != "ew" or n.mat)]
        i = 0
        while i < len(todo):
            n = todo[i]
            if not self._loop_member(n):
                self.node(n)
                i += 1
                continue
            group, ids = [n], {n.id}
            j = i + 1
            while j < len(todo) and self._loop_member(todo[j]) and \
                    todo[j].shape == n.shape and not (
                        todo[j].kind == "matmul" and any(a.id in ids for a in todo[j].args)):
                group.append(todo[j])
                ids.add(todo[j].id)
                j += 1
            self.loop_group(group, ids, host)
            i = j

    @staticmethod
    def _loop_member(n):
        return n.kind in ("ew", "matmul") and n.size > 1

    def loop_group(self, group, ids, host):
        local = {m.id for m in group if not m.attrs["export"] and
                 all(host(u).id in ids for u in m.uses)}
        shape = group[0].shape
        dests = {}
        for m in group:
            if m.id in local:
                self.names[m.id], self.forms[m.id] = f"v{m.id}", "scalar"
            elif m.attrs["export"] and m.kind == "ew":
                dests[m.id] = self.out_param(m)
                self.names[m.id], self.forms[m.id] = dests[m.id], "array"
                m.attrs["written"] = True
            else:
                dests[m.id] = self.local(m)
                self.emit(f"{dests[m.id]} = np.empty({m.shape}, np.{m.dtype.name})")
        def body(idx):
            for m in group:
                text = self.render(m, idx) if m.kind == "ew" else self.matmul_element(m, idx)
                if m.id in local:
                    self.emit(f"v{m.id} = {text}")
                else:
                    self.emit(f"{self.element(m, idx)} = {text}")
        self.nest(shape, body, flat=self._flat_ok(group, shape))
        for m in group:
            if m.attrs["export"] and not m.attrs.get("written"):
                self.export_copy(m)

    @staticmethod
    def _flat_ok(group, shape):
        """One flat loop serves a group whose members are elementwise and read only arrays of
        its shape, single elements and literals."""
        for m in group:
            if m.kind != "ew":
                return False
            stack = list(m.args)
            while stack:
                a = stack.pop()
                if a.kind == "lit":
                    continue
                if a.kind == "iota":
                    return False
                if a.kind == "ew" and not a.mat:
                    stack.extend(a.args)
                elif a.size != 1 and a.shape != shape:
                    return False
        return True

    def node(self, v):
        kind = v.kind
        if kind == "effect":
            return self.effect(v)
        if kind == "ew" or kind == "matmul" and v.size == 1:
            return self.store_ew(v) if kind == "ew" else self.store_matmul1(v)
        getattr(self, "node_" + kind)(v)
        if v.attrs.get("export"):
            if kind == "view" and not v.attrs["copy"] and (
                    v.args[0].attrs.get("export") or v.args[0].kind == "ext"):
                self.seg.aliases.append(v)      # no copy: the driver reshapes the base
            else:
                self.export_copy(v)

    def out_param(self, v):
        k = len(self.seg.outs)
        self.seg.outs.append(v)
        return f"o{k}"

    def local(self, v, form="array"):
        name = f"t{v.id}"
        self.names[v.id], self.forms[v.id] = name, form
        return name

    def store_ew(self, v):
        """A stored elementwise value of one element: a local scalar."""
        name = self.local(v, "scalar")
        self.emit(f"{name} = {self.render(v, ('0',) * v.ndim)}")
        if v.attrs["export"]:
            self.emit(f"{self.out_param(v)}[{_first(v)}] = {name}")

    def export_copy(self, v):
        name = self.names[v.id]
        dest = self.out_param(v)
        if self.forms[v.id] == "scalar":
            self.emit(f"{dest}[{_first(v)}] = {name}")
            return
        src, dst = self.tmp("cs"), self.tmp("cd")
        self.emit(f"{src} = {name}.reshape({v.size})")
        self.emit(f"{dst} = {dest}.reshape({v.size})")
        self.emit(f"for q in range({v.size}):")
        self.emit(f"{_TAB}{dst}[q] = {src}[q]")

    def node_view(self, v):
        x = v.args[0]
        text = f"{self.contiguous(x)}.reshape({v.shape})"
        if v.attrs["copy"]:
            text += ".copy()"
        self.emit(f"{self.local(v)} = {text}")

    def node_transpose(self, v):
        x = v.args[0]
        src = self.array(x)
        name = self.local(v)
        self.emit(f"{name} = np.empty({v.shape}, np.{v.dtype.name})")
        idx = self.loops(v.shape)
        inv = np.argsort(v.attrs["perm"])
        self.emit(f"{name}[{', '.join(idx)}] = {src}[{', '.join(idx[p] for p in inv)}]")
        self.end_loops(v.shape)

    def store_matmul1(self, v):
        name = self.local(v, "scalar")
        self.emit(f"{name} = {self.matmul_element(v, ('0', '0'))}")
        if v.attrs["export"]:
            self.emit(f"{self.out_param(v)}[{_first(v)}] = {name}")

    def matmul_element(self, v, idx):
        """Statements for element idx of a matmul (a sum over k in order); its name."""
        a, b = v.args
        af, bf = self.flatview(a), self.flatview(b)
        ta, tb = v.attrs["ta"], v.attrs["tb"]
        k = a.shape[0] if ta else a.shape[1]
        i, j = idx
        m, n = v.shape

        def at(row, row_len, col):
            terms = ([] if row == "0" else [f"{row} * {row_len}" if row_len != 1 else row]) + \
                ([] if col == "0" else [col])
            return " + ".join(terms) or "0"
        acc = self.tmp("acc")
        self.emit(f"{acc} = {self.m.const(0, v.dtype)}")
        self.emit(f"for k in range({k}):")
        ai = f"{af}[{at('k', m, i)}]" if ta else f"{af}[{at(i, k, 'k')}]"
        bi = f"{bf}[{at(j, k, 'k')}]" if tb else f"{bf}[{at('k', n, j)}]"
        self.emit(f"{_TAB}{acc} += {ai} * {bi}")
        return acc

    def node_take(self, v):
        x, labels = v.args
        c = x.shape[-1]
        rows = x.size // max(c, 1)
        xf, lf = self.tmp("tx"), self.tmp("tl")
        self.emit(f"{xf} = {self.contiguous(x)}.reshape(({rows}, {c}))")
        self.emit(f"{lf} = {self.contiguous(labels)}.reshape({rows})")
        name = self.local(v, "scalar" if v.ndim == 0 else "array")
        out = self.tmp("tf")
        self.emit(f"{out} = np.empty({rows}, np.{v.dtype.name})")
        j = self.tmp("lab")
        self.emit(f"for r in range({rows}):")
        self.emit(f"{_TAB}{j} = {lf}[r]")
        self.emit(f"{_TAB}if {j} < 0:")
        self.emit(f"{_TAB * 2}{j} += {c}")
        self.emit(f"{_TAB}if {j} < 0 or {j} >= {c}:")
        self.emit(f"{_TAB * 2}raise IndexError('a label is outside the valid range "
                  f"[0, {c})')")
        self.emit(f"{_TAB}{out}[r] = {xf}[r, {j}]")
        self.emit(f"{name} = {out}[0]" if v.ndim == 0 else f"{name} = {out}.reshape({v.shape})")

    def node_arg(self, v):
        x = v.args[0]
        axis = v.attrs["axis"]
        a = int(np.prod(x.shape[:axis], dtype=np.int64))
        n = x.shape[axis]
        b = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
        xf, of = self.tmp("x"), self.tmp("of")
        self.emit(f"{xf} = {self.flat(x)}")
        self.emit(f"{of} = np.empty({a * b}, np.{v.dtype.name})")
        better = ">" if v.op == "max" else "<"
        best, at, u = self.tmp("best"), self.tmp("at"), self.tmp("u")
        self.emit(f"for ja in range({a}):")
        self.emit(f"{_TAB}for jb in range({b}):")
        body = [f"{best} = {xf}[ja * {n * b} + jb]", f"{at} = 0",
                f"for jn in range(1, {n}):",
                f"{_TAB}{u} = {xf}[(ja * {n} + jn) * {b} + jb]",
                f"{_TAB}if {u} {better} {best} or ({u} != {u} and {best} == {best}):",
                f"{_TAB * 2}{best} = {u}",
                f"{_TAB * 2}{at} = jn",
                f"{of}[ja * {b} + jb] = {at}"]
        for line in body:
            self.emit(_TAB * 2 + line)
        name = self.local(v, "scalar" if v.size == 1 else "array")
        self.emit(f"{name} = {of}[0]" if v.size == 1 else f"{name} = {of}.reshape({v.shape})")

    def node_reduce(self, v):
        x = v.args[0]
        how, axes = v.op, v.attrs["axes"]
        dims = []                    # [size, reduced] after dropping 1s and merging
        for i, n in enumerate(x.shape):
            if n == 1:
                continue
            red = i in axes
            if dims and dims[-1][1] == red:
                dims[-1][0] *= n
            else:
                dims.append([n, red])
        scalar = v.size == 1
        name = self.local(v, "scalar" if scalar else "array")
        if x.size == 0:
            # numpy: a sum of nothing is 0 (a max of nothing raised at trace time)
            if scalar:
                self.emit(f"{name} = {self.m.const(0, v.dtype)}")
            else:
                self.emit(f"{name} = np.zeros({v.shape}, np.{v.dtype.name})")
            return
        xf = self.tmp("x")
        self.emit(f"{xf} = {self.flat(x)}")
        strides, s = [], 1
        for n, _ in reversed(dims):
            strides.append(s)
            s *= n
        strides.reverse()
        kstrides, s = {}, 1
        for d in reversed(range(len(dims))):
            if not dims[d][1]:
                kstrides[d] = s
                s *= dims[d][0]
        inner = dims[-1][0] if dims and dims[-1][1] and how == "sum" else None
        outer = dims[:-1] if inner is not None else dims
        if scalar:
            acc = name
            self.emit(f"{acc} = {xf}[0]" if how != "sum" else
                      f"{acc} = {self.m.const(0, v.dtype)}")
        else:
            acc = self.tmp("of")
            alloc = "zeros" if how == "sum" else "empty"
            self.emit(f"{acc} = np.{alloc}({v.size}, np.{v.dtype.name})")
        js = self.loops([n for n, _ in outer], stem="j")
        off = " + ".join(f"{j} * {st}" for j, st in zip(js, strides)) or "0"
        ko = " + ".join(f"{js[d]} * {kstrides[d]}" for d in range(len(outer))
                        if d in kstrides) or "0"
        target = acc if scalar else f"{acc}[{ko}]"
        if how == "sum":
            block = self.pairwise(xf, off, inner, v.dtype) if inner is not None else f"{xf}[{off}]"
            self.emit(f"{target} += {block}")
        else:
            fn = "_rt_maximum" if how == "max" else "_rt_minimum"
            if scalar:
                self.emit(f"{target} = {fn}({target}, {xf}[{off}])")
            else:
                first = " and ".join(f"{js[d]} == 0" for d in range(len(outer))
                                     if dims[d][1]) or "True"
                self.emit(f"if {first}:")
                self.emit(f"{_TAB}{target} = {xf}[{off}]")
                self.emit("else:")
                self.emit(f"{_TAB}{target} = {fn}({target}, {xf}[{off}])")
        self.end_loops(outer)
        if not scalar:
            self.emit(f"{name} = {acc}.reshape({v.shape})")

    def pairwise(self, xf, off, n, dtype):
        """Statements computing numpy's pairwise sum of xf[off:off + n]; returns its name."""
        if n > _PW_INLINE:
            return f"_rt_pairwise_sum({xf}, {off}, {n})"
        p = self.tmp("p")
        base = self.tmp("b")
        self.emit(f"{base} = {off}")
        if n < 8:
            self.emit(f"{p} = {self.m.const(0, dtype)}")
            for i in range(n):
                self.emit(f"{p} += {xf}[{base} + {i}]")
            return p
        r = [self.tmp("r") for _ in range(8)]
        for i, ri in enumerate(r):
            self.emit(f"{ri} = {xf}[{base} + {i}]")
        stop = n - n % 8
        if stop > 8:
            self.emit(f"for q in range({base} + 8, {base} + {stop}, 8):")
            for i, ri in enumerate(r):
                self.emit(f"{_TAB}{ri} += {xf}[q + {i}]")
        self.emit(f"{p} = (({r[0]} + {r[1]}) + ({r[2]} + {r[3]})) + "
                  f"(({r[4]} + {r[5]}) + ({r[6]} + {r[7]}))")
        for i in range(stop, n):
            self.emit(f"{p} += {xf}[{base} + {i}]")
        return p

    def effect(self, v):
        fn, tokens = v.attrs["call"]
        if fn in ("assign", "assign_add", "assign_sub"):
            target, value = v.args
            t = self.ref(target)

            def body(idx):
                loc = f"{t}[()]" if target.ndim == 0 else self.element(target, idx)
                val = self.cast(self.leaf(value, idx), value.dtype, target.dtype)
                if fn == "assign":
                    text = val
                else:
                    text = f"({loc} {'+' if fn == 'assign_add' else '-'} {val})"
                    if target.dtype.kind in "iu":
                        text = f"np.{target.dtype.name}({text})"
                self.emit(f"{loc} = {text}")
            self.nest(target.shape, body)
            return
        self.m.kernels.add(fn)
        args = []
        for tok in tokens:
            if tok[0] == "flat":
                args.append(self.flat(v.args[tok[1]]))
            elif tok[0] in ("scalar", "int"):
                self.seg.uses_scalars = True
                ref = f"sc[{self.scalar_base[tok[1].id] + tok[2]}]"
                args.append(ref if tok[0] == "scalar" else f"np.int64({ref})")
            else:
                args.append(repr(tok[1]))
        self.emit(f"{fn}({', '.join(args)})")


def _first(v):
    """The index of v's first element: () or 0, 0, ..."""
    return ", ".join("0" * v.ndim) if v.ndim else "()"


def write_module(order, nseg, scalar_base):
    """The module for the live nodes `order`: one function per non-empty segment."""
    module = Module()

    def host(u):
        # the stored node whose loop computes u (u itself when stored)
        while u.kind == "ew" and not u.mat:
            u = u.uses[0]
        return u
    by_seg = {}
    for n in order:
        if n.kind != "py":
            by_seg.setdefault(n.seg, []).append(n)
    for s in range(nseg):
        nodes = by_seg.get(s, [])
        if not any(n.kind != "prelude" and (n.kind != "ew" or n.mat) for n in nodes):
            continue
        seg = Segment(s, f"segment_{s}")
        writer = SegmentWriter(module, seg, nodes, scalar_base)
        writer.write(nodes, host)
        alias_ids = {v.id for v in seg.aliases}
        if not seg.outs and all(n.kind == "prelude" or n.id in alias_ids or
                                (n.kind == "ew" and not n.mat) for n in nodes):
            module.idle[s] = seg        # only views the driver makes: nothing to call
        else:
            module.segments.append(seg)
    return module
