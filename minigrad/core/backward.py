"""The backward pass: one walk, for GradientTape.gradient, mg.function's replay and the tools.

A gradient request becomes a plan: the recorded nodes a gradient reaches, in reverse recording
order (a reverse topological order: a node is recorded after the nodes that made its inputs),
each with what its backward needs fixed in advance: which inputs want a gradient, their ids,
shapes and dtypes, and which gradients can be dropped once the node has used them. `run` walks a
plan: each node's backward on its outputs' gradients, broadcasting undone here and nowhere else,
gradients summed where a tensor feeds several nodes. The tape runs a plan once; mg.function keeps
it and runs it on every call; mg.trace runs it with an observer that keeps every step.
"""
import numpy as np

from minigrad.core.numerics import check_finite
from minigrad.core.state import checking_numerics
from minigrad.kernels.rowwise import sum_rows


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


class Step:
    """One node of a plan. `ins[k]` is (id, shape, dtype) of input k when it wants a gradient,
    else None; `drop` lists the output ids whose gradients leave the walk after this node."""

    __slots__ = ("op", "outs", "needs", "active", "ins", "drop")

    def __init__(self, op, needs, wanted):
        self.op, self.outs, self.needs, self.active = op, op.out_ids, needs, any(needs)
        self.ins = tuple((t._id, t._value.shape, t._value.dtype) if need else None
                         for t, need in zip(op.inputs, needs))
        self.drop = () if wanted is None else tuple(i for i in op.out_ids if i not in wanted)


def plan(nodes, targets, live, wanted=None, keep_idle=False):
    """The Steps of a backward pass.

    nodes: recorded nodes, latest first. targets: ids holding the seed gradients. live: ids of
    the tensors that depend on a source (only they want gradients). wanted: ids whose gradients
    must survive the walk (None: keep all). A node is planned when a gradient reaches one of
    its outputs and some input wants one back; keep_idle plans the others too (for the tools).
    """
    reached = dict.fromkeys(targets, True)
    steps = []
    for op in nodes:
        if not any(i in reached for i in op.out_ids):
            continue
        needs = tuple(t._id in live and t._value.dtype.kind == "f" for t in op.inputs)
        if any(needs) or keep_idle:
            steps.append(Step(op, needs, wanted))
            reached.update((t._id, True) for t, need in zip(op.inputs, needs) if need)
    return steps


def run(steps, grads, check=False, observe=None):
    """Walk `steps`: `grads` maps tensor id -> gradient array and is updated in place.

    check: assert each gradient's shape and dtype equal its input's (the eager tape; a replay
    ran the same checks when it was traced). observe(step, gys, passed) sees every node run.
    """
    numerics = check and checking_numerics()
    for s in steps:
        op, outs = s.op, s.outs
        if len(outs) == 1:
            g = grads.get(outs[0])
            if g is None:
                continue
            gys = (g,)
        else:
            gys = [grads.get(i) for i in outs]
            if all(g is None for g in gys):
                continue
            gys = [np.zeros_like(y) if g is None else g for g, y in zip(gys, op.ys)]
        passed = [None] * len(s.ins) if observe else None
        if s.active:
            op.needs = s.needs
            for k, (inp, gx) in enumerate(zip(s.ins, op.backward(*gys))):
                if inp is None or gx is None:
                    continue
                i, shape, dtype = inp
                if type(gx) is not np.ndarray:
                    gx = np.asarray(gx)
                if gx.shape != shape:
                    gx = unbroadcast(gx, shape)
                if check:
                    _check(op, k, gx, shape, dtype, numerics)
                grads[i] = grads[i] + gx if i in grads else gx
                if observe:
                    passed[k] = gx
        if observe:
            observe(s, gys, passed)
        for i in s.drop:
            grads.pop(i, None)


def local_gradients(step):
    """What the node of `step` passes to each input for an upstream gradient of ones (for an
    elementwise op, dy/dx itself): one array or None per input."""
    seen = []
    grads = {i: np.ones_like(y) for i, y in zip(step.outs, step.op.ys)}
    run([step], grads, check=True, observe=lambda s, gys, passed: seen.append(passed))
    return seen[0] if seen else [None] * len(step.ins)


def _check(op, k, gx, shape, dtype, numerics):
    """The engine's promise: each gradient has exactly its input's shape and dtype."""
    if gx.shape != shape:
        raise AssertionError(f"{op.name}: gradient shape {gx.shape} != input shape {shape}")
    if gx.dtype != dtype:
        raise AssertionError(f"{op.name}: gradient dtype {gx.dtype} != input dtype {dtype}")
    if numerics:
        check_finite(gx, f"the gradient that {op.type} '{op.name}' passes to its input {k}")
