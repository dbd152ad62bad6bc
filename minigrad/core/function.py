"""`mg.function`: trace a step once, then replay it as a plan of kernel calls.

The first call (for each input signature) runs the Python function eagerly while a tracer
writes down what happened: every op's forward (the op instance, which tensors went in and
came out), every `tape.gradient` as its backward plan (core.backward: the same plan, run by the same
walk), and every effect (optimizer updates, variable assigns). Later calls replay that list on
the new inputs' arrays: no Tensors, no tape bookkeeping, no argument checks, the same
arithmetic. The eager path is unchanged; tests hold the replay to bit-for-bit parity with it.

Like tf.function, Python control flow and Python values are frozen at trace time; a new
input shape or dtype traces again. Randomness drawn in numpy inside the function would be
frozen too, so the random ops refuse to run while tracing: pass random tensors in as arguments.
Variables may be created on the first trace only, as tf.function allows: layers make their
weights under `mg.init_scope`, so their initial values are drawn once, eagerly.
"""
import threading
import warnings

import numpy as np

from minigrad.core import backward, state
from minigrad.core.nest import flatten, pack_like
from minigrad.core.numerics import check_outputs
from minigrad.core.tensor import Tensor, Variable


_RETRACE_WARNING = 5      # traces of one function before it warns, as tf.function does

# jit_compile=True: compile_plan(plan, name, arrays) -> a plan with the same run(arrays).
# minigrad.jit (which sits above the ops) sets it when imported; the package's __init__ sets
# _load_compiler to import it on first use, so core itself never names it.
_compiler = None
_load_compiler = None


def _jit_compiler():
    if _compiler is None and _load_compiler is not None:
        _load_compiler()
    if _compiler is None:
        raise RuntimeError("mg.function(jit_compile=True): the compiler (minigrad.jit) is not "
                           "available")
    return _compiler


class TracingError(RuntimeError):
    pass


def tracing():
    return state.tracer() is not None


def refuse_while_tracing(what):
    if state.tracer() is not None:
        raise TracingError(f"{what} inside mg.function would be frozen at its traced value; "
                           f"draw it outside the function and pass it in as an argument (or, "
                           f"for a variable's initial value, pass a callable: "
                           f"mg.Variable(lambda: ...))")


def record_effect(fn, tensors):
    """Replay `fn(*arrays)` at this point of the step, with the arrays of `tensors`."""
    tracer = state.tracer()
    if tracer is not None:
        tracer.effect(fn, tensors)


class _Tracer:
    def __init__(self, name, first):
        self.name = name
        self.first = first       # the function's first trace: variables may be created
        self.numerics = state.checking_numerics()
        self.steps = []          # callables taking the value table `vals` (tensor id -> array)
        self.captured = {}       # tensor id -> array, for tensors made outside the trace
        self.known = {}          # ids produced or fed inside the trace

    def variable_created(self, v):
        if not self.first:
            raise ValueError(f"mg.function {self.name}: a Variable ('{v._name}') was created "
                             f"on a later trace; as with tf.function, variables may only be "
                             f"created on the first call. Create it outside the function, or "
                             f"on the first call only (e.g. a layer built once)")

    def _ref(self, t):
        if t._id not in self.known and t._id not in self.captured:
            # a Variable's array is updated in place, so capturing the object keeps it live
            self.captured[t._id] = t._value
        return t._id

    def feed(self, t):
        self.known[t._id] = True

    def forward(self, op, inputs, outs):
        ins = tuple(self._ref(t) for t in inputs)
        out_ids = tuple(t._id for t in outs)
        for i in out_ids:
            self.known[i] = True
        detach = any(type(t) is Variable for t in inputs)
        self.steps.append(_ForwardStep(op, ins, out_ids, detach))
        if self.numerics:
            self.steps.append(_NumericsStep(op, ins, out_ids))

    def gradient(self, targets, output_gradients, plan, sources, result, unconnected):
        t_ids = tuple(self._ref(t) for t in targets)
        cts = (None,) * len(targets) if output_gradients is None else tuple(
            self._ref(c) if isinstance(c, Tensor) else np.asarray(c)
            for c in flatten(output_gradients))
        s_ids = tuple(s._id for s in sources)
        r_ids = tuple(None if r is None else r._id for r in result)
        for r in result:
            if r is not None:
                self.known[r._id] = True
        self.steps.append(_GradientStep(plan, t_ids, cts, s_ids, r_ids, unconnected))

    def effect(self, fn, tensors):
        self.steps.append(_EffectStep(fn, tuple(self._ref(t) for t in tensors)))


class _ForwardStep:
    __slots__ = ("op", "ins", "outs", "detach")

    def __init__(self, op, ins, outs, detach):
        self.op, self.ins, self.outs, self.detach = op, ins, outs, detach

    def __call__(self, vals):
        op = self.op
        xs = tuple([vals[i] for i in self.ins])
        ys = op.forward(*xs)
        if type(ys) is np.ndarray and not self.detach:     # the common case, kept short
            op.xs, op.ys = xs, (ys,)
            vals[self.outs[0]] = ys
            return
        ys = ys if isinstance(ys, tuple) else (ys,)
        ys = tuple(y.copy() if self.detach and isinstance(y, np.ndarray) and y.base is not None
                   else (y if type(y) is np.ndarray else np.asarray(y)) for y in ys)
        op.xs, op.ys = xs, ys
        for i, y in zip(self.outs, ys):
            vals[i] = y


class _NumericsStep:
    """enable_check_numerics at trace time: the replay checks this op's outputs too."""
    __slots__ = ("op", "ins", "outs")

    def __init__(self, op, ins, outs):
        self.op, self.ins, self.outs = op, ins, outs

    def __call__(self, vals):
        check_outputs(self.op, [vals[i] for i in self.ins], [vals[i] for i in self.outs])


class _GradientStep:
    """A tape.gradient call, replayed: the eager walk's plan (core.backward), run by the same
    walk on the new arrays. The shape/dtype checks ran during the trace, and the signature pins
    both."""
    __slots__ = ("steps", "targets", "cts", "sources", "results", "unconnected")

    def __init__(self, steps, targets, cts, sources, results, unconnected):
        self.steps, self.targets, self.cts = steps, targets, cts
        self.sources, self.results, self.unconnected = sources, results, unconnected

    def __call__(self, vals):
        grads = {}
        for t, ct in zip(self.targets, self.cts):
            y = vals[t]
            g = np.ones_like(y) if ct is None else (vals[ct] if isinstance(ct, int) else ct)
            grads[t] = grads[t] + g if t in grads else g
        backward.run(self.steps, grads)
        for s, r in zip(self.sources, self.results):
            if r is not None:
                g = grads.get(s)
                vals[r] = np.zeros_like(vals[s]) if g is None else g


class _EffectStep:
    __slots__ = ("fn", "ins")

    def __init__(self, fn, ins):
        self.fn, self.ins = fn, ins

    def __call__(self, vals):
        self.fn(*[vals[i] for i in self.ins])


class _Plan:
    def __init__(self, tracer, feed_ids, outputs):
        self.steps = tracer.steps
        self.captured = tracer.captured
        self.feed_ids = feed_ids
        self.outputs = outputs            # the traced return value, structure kept
        # outputs made inside the trace are rebuilt from the new values; anything else
        # (Python values, Variables, captured tensors) is returned as it was
        self.out_ids = [t._id if isinstance(t, Tensor) and t._id in tracer.known
                        and not isinstance(t, Variable) else None for t in flatten(outputs)]

    def run(self, arrays):
        vals = dict(self.captured)
        for i, a in zip(self.feed_ids, arrays):
            vals[i] = a
        for step in self.steps:
            step(vals)
        flat = [Tensor(vals[i]) if i is not None else o
                for i, o in zip(self.out_ids, flatten(self.outputs))]
        return pack_like(self.outputs, flat)


class Function:
    """A Python function traced once per input signature and replayed as a plan."""

    def __init__(self, fn, jit_compile=False):
        self.fn = fn
        self.plans = {}
        self.jit_compile = jit_compile
        self._traced = False     # a trace has run (variables may be made only by the first)
        # a plan's ops hold the arrays of the call running them: one call at a time
        self._lock = threading.RLock()
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", "function")

    def __call__(self, *args):
        arrays, key = [], []
        for a in args:
            if isinstance(a, (Tensor, np.ndarray)):
                v = a._value if isinstance(a, Tensor) else a
                if isinstance(a, Variable):
                    raise TypeError(f"{self.__name__}: pass Variables by closure, not as "
                                    f"arguments (they are captured by reference)")
                arrays.append(v)
                key.append(("array", v.shape, v.dtype.str))
            else:
                key.append(("py", repr(a)))
        key = (tuple(key), state.checking_numerics())
        with self._lock:
            plan = self.plans.get(key)
            if plan is not None:
                return plan.run(arrays)
            plan, out = self._trace(args)
            if self.jit_compile:
                plan = _jit_compiler()(plan, self.__name__, arrays)
            self.plans[key] = plan
        if len(self.plans) == _RETRACE_WARNING:
            warnings.warn(f"mg.function {self.__name__} has been traced {len(self.plans)} "
                          f"times: each new Python argument value or array shape traces "
                          f"again; pass changing values as arrays", stacklevel=2)
        return out

    def _trace(self, args):
        if state.tracer() is not None:
            raise TracingError("mg.function calls cannot be nested")
        tracer = _Tracer(self.__name__, first=not self._traced)
        feeds, call_args = [], []
        for a in args:
            if isinstance(a, (Tensor, np.ndarray)):
                t = Tensor(a._value if isinstance(a, Tensor) else np.asarray(a))
                tracer.feed(t)
                feeds.append(t._id)
                call_args.append(t)
            else:
                call_args.append(a)
        state.set_tracer(tracer)
        try:
            out = self.fn(*call_args)
        finally:
            state.set_tracer(None)
        self._traced = True
        return _Plan(tracer, feeds, out), out

    def trace_count(self):
        return len(self.plans)

    def explain(self):
        """jit_compile=True: for each traced signature, where each op runs (compiled, numpy,
        or Python as a fallback) and why."""
        if not self.jit_compile:
            return f"mg.function {self.__name__}: jit_compile is off; each step replays per op"
        if not self.plans:
            return f"mg.function {self.__name__}: not traced yet"
        return "\n".join(p.explain() for p in self.plans.values())


def function(fn=None, jit_compile=None, **kwargs):
    """Decorator: `@mg.function` (or `mg.function(fn)`), as tf.function. jit_compile=True
    compiles each traced step to numba code (minigrad.jit)."""
    if jit_compile not in (None, True, False):
        raise TypeError(f"mg.function: jit_compile must be True, False or None, got "
                        f"{jit_compile!r}")
    if fn is None:
        return lambda f: Function(f, bool(jit_compile))
    return Function(fn, bool(jit_compile))
