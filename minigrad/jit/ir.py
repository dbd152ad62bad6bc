"""The compiler's program: one traced step as values of known shape and dtype, in plan order.

A lowering (minigrad.jit.lowering) builds values with a `Builder`; each is one of
    ext        an array from outside the compiled code: a feed, a captured array (constants,
               variables), an array made by a Python step or an optimizer's slot
    lit        a scalar constant of a dtype
    ew         an elementwise scalar op over its arguments, broadcast as numpy broadcasts
    reduce     sum or max over axes, in numpy's order (see codegen)
    matmul     a 2-D product as loops (small ones; large ones are Python steps: numpy's BLAS)
    view       a reshape of an array (a copy when `copy`)
    transpose  a permuted copy
    take       x[..., labels[...]] along the last axis (IndexError when out of range)
    arg        argmax / argmin along one axis
and the nodes without a value:
    effect     an in-place update: an optimizer kernel of minigrad.kernels.optim on a variable,
               or an assign
    prelude    Python code an optimizer update needs before the compiled code runs (its
               per-step scalars and slot arrays)
    py         a Python step between compiled segments: an op that falls back, numpy's BLAS
Everything after a `py` node belongs to the next segment: each segment becomes one numba
function, and the Python steps run between them.
"""
import numpy as np


class JitWarning(UserWarning):
    """A step (or a part of it) could not be compiled: it runs as the per-op replay."""


class Unsupported(Exception):
    """A lowering cannot express this op (or this use of it): the op falls back; the message
    says why, for explain()."""


UNARY = {"neg", "exp", "log", "log1p", "sqrt", "tanh", "abs", "sign", "id"}
BINARY = {"add", "sub", "mul", "div", "pow", "max", "min"}
COMPARE = {"gt", "ge", "lt", "le", "eq", "ne"}
FLOAT_ONLY = {"exp", "log", "log1p", "sqrt", "tanh", "div", "pow", "sign"}
SUPPORTED_DTYPES = {np.dtype(t) for t in ("float32", "float64", "bool", "int8", "int16",
                                          "int32", "int64", "uint8", "uint16", "uint32",
                                          "uint64")}


def check_dtype(dtype, what):
    dtype = np.dtype(dtype)
    if dtype not in SUPPORTED_DTYPES or not dtype.isnative:
        raise Unsupported(f"{what} has dtype {dtype}, which the compiler does not handle")
    return dtype


class Val:
    __slots__ = ("kind", "op", "args", "shape", "dtype", "attrs", "pos", "seg", "unit",
                 "uses", "mat", "contig", "src", "id")

    def __init__(self, kind, op, args, shape, dtype, attrs):
        self.kind, self.op, self.args, self.attrs = kind, op, tuple(args), attrs
        self.shape = None if shape is None else tuple(int(n) for n in shape)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.uses = []
        self.mat = False          # codegen: stored (an array, or a scalar local when 0-d)
        self.contig = True        # would eager hold a C-contiguous array (not a broadcast view)
        self.src = None           # ext: how the driver gets it
        self.pos = self.seg = self.unit = self.id = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        return f"<{self.kind} {self.op or ''} {self.shape} {self.dtype} #{self.id}>"


class Builder:
    """Builds the values of one step. Python numbers given to the elementwise methods become
    literals of the other operand's dtype, as numpy treats Python scalars."""

    def __init__(self):
        self.nodes = []        # values and value-less nodes, in plan order
        self.seg = 0           # the segment new nodes go to
        self.unit = None       # the plan unit being lowered (for explain)
        self._ids = 0

    # --- bookkeeping ----------------------------------------------------------------------
    def _new(self, kind, op, args, shape, dtype, attrs=None, placed=True):
        if dtype is not None and kind not in ("ext", "lit"):
            check_dtype(dtype, f"a {kind} value")
        v = Val(kind, op, args, shape, dtype, attrs or {})
        v.id = self._ids
        self._ids += 1
        if placed:
            v.pos, v.seg, v.unit = len(self.nodes), self.seg, self.unit
            self.nodes.append(v)
        return v

    def ext(self, src, shape, dtype, contig=True):
        v = self._new("ext", None, (), shape, dtype, placed=False)
        v.src, v.contig = src, contig
        return v

    def lit(self, value, dtype):
        dtype = np.dtype(dtype)
        return self._new("lit", None, (), (), dtype, {"value": dtype.type(value)}, placed=False)

    def _val(self, x, dtype):
        return x if isinstance(x, Val) else self.lit(x, dtype)

    # --- elementwise ------------------------------------------------------------------------
    def ew(self, op, *args, dtype=None, shape=None, **attrs):
        like = next((a.dtype for a in (args[1:] if op == "where" else args)
                     if isinstance(a, Val)), None)
        args = [self._val(a, like) for a in args]
        for a in args:
            check_dtype(a.dtype, "an operand")
        value_args = args[1:] if op == "where" else args
        if op in BINARY or op in UNARY or op == "where":
            dts = {a.dtype for a in value_args}
            if len(dts) != 1:
                raise Unsupported(f"elementwise {op} of mixed dtypes {sorted(map(str, dts))}")
            out_dt = value_args[0].dtype
            if op in FLOAT_ONLY and out_dt.kind != "f":
                raise Unsupported(f"{op} of {out_dt} (floating types only)")
            if op == "where" and args[0].dtype != np.bool_:
                raise Unsupported("where with a non-bool condition")
        elif op in COMPARE:
            if args[0].dtype != args[1].dtype:
                raise Unsupported(f"comparison of {args[0].dtype} and {args[1].dtype}")
            out_dt = np.dtype(np.bool_)
        elif op == "cast":
            out_dt = check_dtype(dtype, "a cast")
        else:
            raise ValueError(f"unknown elementwise op {op}")
        try:
            full = np.broadcast_shapes(*[a.shape for a in args])
            if shape is not None:
                full = np.broadcast_shapes(full, shape)
                if full != tuple(shape):
                    raise ValueError
        except ValueError:
            raise Unsupported(f"shapes {[a.shape for a in args]} do not broadcast"
                              f"{'' if shape is None else f' to {shape}'}") from None
        return self._new("ew", op, args, full, out_dt, attrs)

    def iota(self, shape, axis):
        """The index along `axis` (int64), for comparisons with labels."""
        return self._new("iota", None, (), shape, np.int64, {"axis": axis}, placed=False)

    def broadcast_to(self, x, shape):
        if x.shape == tuple(shape):
            return x
        v = self.ew("id", x, shape=shape)
        v.contig = False              # eager: np.broadcast_to, a view
        return v

    def fill(self, value, shape, dtype):
        """An array of `value` (np.ones_like / np.zeros_like)."""
        return self._new("ew", "id", (self.lit(value, dtype),), shape, dtype)

    def cast(self, x, dtype):
        return x if x.dtype == np.dtype(dtype) else self.ew("cast", x, dtype=dtype)

    def __getattr__(self, name):
        # b.add(x, y), b.exp(x), b.gt(x, y) ...: the elementwise op of that name
        op = {"maximum": "max", "minimum": "min", "identity": "id"}.get(name, name)
        if op in UNARY or op in BINARY or op in COMPARE or op == "where":
            return lambda *args: self.ew(op, *args)
        raise AttributeError(name)

    # --- the rest -------------------------------------------------------------------------
    def reduce(self, x, how, axes, keepdims=False):
        axes = tuple(sorted(a % max(x.ndim, 1) for a in axes))
        if how == "sum" and x.dtype.kind != "f":
            raise Unsupported(f"a sum of {x.dtype} (numpy widens integer sums)")
        kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        shape = kept if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in axes)
        if not axes:
            return self.ew("id", x)
        if x.size == 0 and how != "sum":
            raise Unsupported(f"{how} over an empty array")
        return self._new("reduce", how, (x,), shape, x.dtype, {"axes": axes})

    def argmax(self, x, axis, dtype, smallest=False):
        """np.argmax (np.argmin when smallest) along one axis: the first extreme, or the
        first NaN."""
        if x.ndim == 0 or x.shape[axis] == 0:
            raise Unsupported("an argmax over an empty axis")
        shape = x.shape[:axis] + x.shape[axis + 1:]
        return self._new("arg", "min" if smallest else "max", (x,), shape, dtype,
                         {"axis": axis % x.ndim})

    def matmul(self, a, b, ta=False, tb=False):
        if a.ndim != 2 or b.ndim != 2:
            raise Unsupported(f"a matmul of ranks {a.ndim} and {b.ndim} (2-D only)")
        if a.dtype != b.dtype or a.dtype.kind != "f":
            raise Unsupported(f"a matmul of {a.dtype} and {b.dtype}")
        m, k = a.shape[::-1] if ta else a.shape
        k2, n = b.shape[::-1] if tb else b.shape
        if k != k2:
            raise Unsupported(f"matmul inner sizes {k} and {k2} differ")
        return self._new("matmul", None, (a, b), (m, n), a.dtype, {"ta": ta, "tb": tb})

    def reshape(self, x, shape, copy=False):
        shape = tuple(int(n) for n in shape)
        if int(np.prod(shape, dtype=np.int64)) != x.size:
            raise Unsupported(f"reshape of {x.shape} to {shape}")
        if x.shape == shape and not copy:
            return x
        if x.size == 1:
            # one element: read it at any rank (codegen indexes size-1 leaves with zeros)
            return self._new("ew", "id", (x,), shape, check_dtype(x.dtype, "a value"))
        if x.kind == "ew" and x.op == "id" and x.args[0].size == 1:
            # a broadcast scalar stays one: no array to view
            v = self._new("ew", "id", (x.args[0],), shape, x.dtype)
            v.contig = x.contig
            return v
        v = self._new("view", None, (x,), shape, x.dtype, {"copy": copy})
        v.contig = x.contig or copy
        return v

    def transpose(self, x, perm):
        perm = tuple(int(p) for p in perm)
        if perm == tuple(range(x.ndim)):
            return x
        return self._new("transpose", None, (x,), tuple(x.shape[p] for p in perm), x.dtype,
                         {"perm": perm})

    def take_last(self, x, labels):
        if labels.dtype.kind not in "iu" or tuple(labels.shape) != x.shape[:-1]:
            raise Unsupported(f"take along the last axis with labels {labels.dtype} "
                              f"{labels.shape} for {x.shape}")
        return self._new("take", None, (x, labels), x.shape[:-1], x.dtype)

    def effect(self, call, args):
        """An in-place update: `call` is (function name, argument tokens); see codegen."""
        return self._new("effect", None, args, None, None, {"call": call})

    def prelude(self, fn, n_scalars, lives):
        """`fn(sc, base)` runs in Python before the segment: it writes n_scalars scalars into
        sc[base:] and returns the live arrays (shape, dtype given in `lives`), which become ext
        values of this segment. Returns the node and the live values."""
        node = self._new("prelude", None, (), None, None, {"fn": fn, "n": n_scalars})
        outs = []
        for k, (shape, dtype) in enumerate(lives):
            v = self.ext(("live", node.id, k), shape, dtype)
            outs.append(v)
        node.attrs["outs"] = outs
        return node, outs

    def py(self, fn, inputs, outs, where, label=None):
        """A Python step: `fn(*arrays of inputs)` returns a tuple of the arrays of `outs`
        [(shape, dtype)]. The next nodes start a new segment."""
        node = self._new("py", None, inputs, None, None, {"fn": fn, "where": where,
                                                           "label": label})
        vals = []
        for k, spec in enumerate(outs):
            if spec is None:
                vals.append(None)
                continue
            shape, dtype = spec
            v = self.ext(("py", node.id, k), shape, dtype)
            v.seg = self.seg
            vals.append(v)
        node.attrs["outs"] = vals
        self.seg += 1
        return vals
