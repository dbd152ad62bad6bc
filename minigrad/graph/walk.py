"""Reach the recorded graph behind some tensors: their nodes, in backward order, and its leaves.

Shared by the trace, the DOT export and the TensorBoard GraphDef. The walk starts at each
target's `_node` and follows `.inputs[*]._node` with an explicit stack (no recursion). The
nodes come out in reverse recording order, the tape's own order (a node is recorded after the
nodes that made its inputs, so this is a reverse topological order): tensor ids count up as
tensors are made, so a node's first output id is its place in the recording.
"""
from minigrad.core import GradientTape, Tensor, Variable
from minigrad.core.nest import flatten


class Graph:
    """`nodes`: recorded Ops, consumers before producers (the backward order).
    `leaves`: input Tensors no node in `nodes` produced (Variables, constants, watched inputs).
    `targets`: the tensors the walk started from (empty for a whole tape)."""

    def __init__(self, nodes, targets):
        self.nodes, self.targets = nodes, targets
        inside = {id(op): True for op in nodes}
        seen, self.leaves = {}, []
        for op in reversed(nodes):
            for t in op.inputs:
                if not _made_inside(t, inside) and t._id not in seen:
                    seen[t._id] = True
                    self.leaves.append(t)

    def forward_order(self):
        return self.nodes[::-1]


def _made_inside(t, inside):
    return t._node is not None and id(t._node) in inside


def collect(target, tape=None, tool="trace"):
    """The Graph behind `target` (a Tensor, a list of them, or a GradientTape: all its nodes)."""
    if isinstance(target, GradientTape):
        return Graph(_tape_nodes(target, tool)[::-1], [])
    targets = flatten(target)
    if not targets:
        raise ValueError(f"{tool}: no target tensors given")
    for t in targets:
        _check_recorded(t, tool)
    nodes = _reach([t._node for t in targets])
    if tape is not None:
        nodes = _restrict_to_tape(nodes, tape, targets, tool)
    return Graph(nodes, targets)


def _reach(roots):
    """Every live node behind `roots`, latest recorded first. A released node is a boundary."""
    found, stack = {}, []
    for op in roots:
        if id(op) not in found:
            found[id(op)] = op
            stack.append(op)
    while stack:
        op = stack.pop()
        for t in op.inputs:
            src = t._node
            if src is not None and src.ys and id(src) not in found:
                found[id(src)] = src
                stack.append(src)
    return sorted(found.values(), key=lambda op: -op.out_ids[0])


def _restrict_to_tape(nodes, tape, targets, tool):
    """Keep the tape's own nodes: those recorded elsewhere become leaves (as in tape.gradient)."""
    index = {id(op): i for i, op in enumerate(_tape_nodes(tape, tool))}
    for t in targets:
        if id(t._node) not in index:
            raise ValueError(f"{tool}: {describe(t)} was not recorded on the given tape")
    return [op for op in nodes if id(op) in index]


def _tape_nodes(tape, tool):
    if not tape.nodes:
        raise ValueError(f"{tool}: the GradientTape holds no recorded nodes: either nothing was "
                         f"computed inside it, or it is non-persistent and gradient() already "
                         f"released them. {_ADVICE}")
    return tape.nodes


_ADVICE = ("Record with `mg.GradientTape(persistent=True)`, or call this before "
           "tape.gradient().")


def _check_recorded(t, tool):
    if not isinstance(t, Tensor):
        raise TypeError(f"{tool}: expected a Tensor, got {type(t).__name__}")
    if isinstance(t, Variable):
        raise ValueError(f"{tool}: {describe(t)} is a Variable, a leaf of the graph with no "
                         f"recorded op behind it; pass a tensor computed from it inside a "
                         f"`with mg.GradientTape() as tape:` block")
    if t._node is None:
        raise ValueError(f"{tool}: {describe(t)} was not recorded on a GradientTape: it is a "
                         f"constant, or was computed outside any `with mg.GradientTape() as "
                         f"tape:` block (or from inputs the tape does not watch, or by an op "
                         f"with no gradient). Compute it inside the tape's block. {_ADVICE}")
    if not t._node.ys:
        raise ValueError(f"{tool}: the graph behind {describe(t)} was released: a "
                         f"non-persistent GradientTape frees its nodes in gradient(). {_ADVICE}")


def describe(t):
    """'add:0 (float32, shape (2, 3))' or 'a float32 tensor of shape (2, 3)'."""
    what = f"{t.dtype.name}, shape {tuple(t.shape)}"
    if isinstance(t, Variable) or t._node is not None:
        return f"'{t.name}' ({what})"
    return f"a tensor ({what})"


def tensor_label(t, names=None):
    """A short name for a tensor: a given name, the Variable's name, the node's name, or a
    constant's value (`1`) or shape (`const(2, 3)`)."""
    if names and t._id in names:
        return names[t._id]
    if isinstance(t, Variable):
        return t._name
    if t._node is not None:
        node = t._node
        return node.name if len(node.out_ids) <= 1 else f"{node.name}:{t._index}"
    if t._value.size == 1:
        return f"{t._value.item():.6g}"
    return f"const{tuple(t._value.shape)}"


def scope_of(name):
    """'layer1/dense/MatMul' -> ('layer1', 'dense')"""
    return tuple(name.split("/")[:-1])
