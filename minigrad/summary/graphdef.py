"""A graph as a TensorFlow GraphDef (tensorboard's protos), for the Graphs tab.

`graph_def(target)`: the graph recorded on a tape. One NodeDef per recorded node, named as the
node (name_scope prefix included, so TensorBoard groups scopes), with its op type, its inputs
('name' or 'name:i') and attrs: `T` (the dtype), `_output_shapes`, and the op's simple
attributes (axis, transpose_a, ...). Leaves become `VariableV2` nodes (Variables, by name) and
`Const` nodes (constants), with `dtype` and `shape`.

`graph_def_of_graph(graph)`: a TF1 graph (minigrad.compat.v1), one NodeDef per Operation.
"""
import numpy as np

from minigrad.core import Variable
from minigrad.graph.walk import collect, tensor_label

_DTYPES = {"float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
           "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
           "uint8": "DT_UINT8", "uint16": "DT_UINT16", "bool": "DT_BOOL",
           "complex64": "DT_COMPLEX64", "complex128": "DT_COMPLEX128",
           "object": "DT_STRING"}        # TF1 graph mode: serialized Summary protos


def graph_def(target):
    """A GraphDef of the graph behind `target` (a Tensor, a list of them, or a GradientTape)."""
    from tensorboard.compat.proto import graph_pb2
    graph = collect(target, tool="summary.graph")
    names, used, nodes = {}, {}, []
    for t in graph.leaves:
        names[("t", t._id)] = name = _unique(_leaf_name(t), used)
        nodes.append(_leaf_node(name, t))
    for op in graph.forward_order():
        names[("n", id(op))] = name = _unique(op.name, used)
        inputs = [_input_name(t, names) for t in op.inputs]
        nodes.append(_op_node(name, op, inputs))
    return graph_pb2.GraphDef(node=nodes)


def graph_def_of_graph(graph):
    """A GraphDef of a TF1 graph (minigrad.compat.v1's Graph, read through the TF1 interface:
    `get_operations()`, each Operation's name, type, inputs, control_inputs and outputs).

    One NodeDef per Operation, in creation order: inputs as 'name' or 'name:i', then the
    variables the call reads without taking them as inputs (a cell's weights), then control
    inputs as '^name'. Attrs: `_output_shapes` (static shapes, -1 where unknown, as TF's
    `as_graph_def(add_shapes=True)`), `dtype` and `shape` for source ops (no inputs), else `T`,
    the type of the first input that is not a string.
    """
    from tensorboard.compat.proto import graph_pb2
    ops = graph.get_operations()
    used, names = {}, {}
    for op in ops:             # first all names: a layer's variables are made after its op
        names[id(op)] = _unique(op.name, used)
    nodes = [_graph_node(op, names) for op in ops]
    return graph_pb2.GraphDef(node=nodes)


def _graph_node(op, names):
    from tensorboard.compat.proto import node_def_pb2

    def ref(t):
        base = names[id(t.op)]
        return base if t.value_index == 0 else f"{base}:{t.value_index}"
    inputs = [ref(t) for t in op.inputs]
    inputs += [ref(v) for v in getattr(op, "reads", ()) if not any(v is t for t in op.inputs)]
    inputs += ["^" + names[id(c)] for c in op.control_inputs]
    return node_def_pb2.NodeDef(name=names[id(op)], op=op.type, input=inputs,
                                attr=_graph_attrs(op))


def _graph_attrs(op):
    attr = {"_output_shapes": _shapes_attr([t.shape.dims for t in op.outputs])}
    if not op.inputs and op.outputs:
        attr["dtype"] = _dtype_attr(op.outputs[0].dtype.np)
        attr["shape"] = _shape_attr(op.outputs[0].shape.dims)
    typed = [t for t in op.inputs if t.dtype.np.kind != "O"]
    if typed:
        attr["T"] = _dtype_attr(typed[0].dtype.np)
    return attr


def _leaf_name(t):
    if isinstance(t, Variable):
        return t._name
    return tensor_label(t).replace(":", "_") if t._node is not None else "Const"


def _leaf_node(name, t):
    from tensorboard.compat.proto import node_def_pb2
    op = "VariableV2" if isinstance(t, Variable) else "Const"
    attr = {"dtype": _dtype_attr(t._value.dtype), "shape": _shape_attr(t._value.shape),
            "_output_shapes": _shapes_attr([t._value.shape])}
    return node_def_pb2.NodeDef(name=name, op=op, attr=attr)


def _op_node(name, op, inputs):
    from tensorboard.compat.proto import node_def_pb2
    attr = {"_output_shapes": _shapes_attr([y.shape for y in op.ys])}
    if op.xs or op.ys:
        attr["T"] = _dtype_attr((op.xs or op.ys)[0].dtype)
    for key, value in op.attrs.items():
        converted = _simple_attr(value)
        if converted is not None:
            attr[key] = converted
    return node_def_pb2.NodeDef(name=name, op=op.type, input=inputs, attr=attr)


def _input_name(t, names):
    if ("t", t._id) in names:
        return names[("t", t._id)]
    base = names[("n", id(t._node))]
    return base if t._index == 0 else f"{base}:{t._index}"


# --- attribute values ------------------------------------------------------------------------
def _dtype_attr(dtype):
    from tensorboard.compat.proto import attr_value_pb2, types_pb2
    enum = types_pb2.DataType.Value(_DTYPES.get(np.dtype(dtype).name, "DT_INVALID"))
    return attr_value_pb2.AttrValue(type=enum)


def _shape_proto(shape):
    """A static shape: None for an unknown rank, None dims unknown (-1, as TF writes them)."""
    from tensorboard.compat.proto import tensor_shape_pb2
    if shape is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    return tensor_shape_pb2.TensorShapeProto(dim=[
        tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if n is None else int(n)) for n in shape])


def _shape_attr(shape):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(shape=_shape_proto(shape))


def _shapes_attr(shapes):
    from tensorboard.compat.proto import attr_value_pb2
    return attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
        shape=[_shape_proto(s) for s in shapes]))


def _simple_attr(value):
    """bool, int, float, str, or a list of ints as an AttrValue; None for anything else."""
    from tensorboard.compat.proto import attr_value_pb2
    AV = attr_value_pb2.AttrValue
    if isinstance(value, (bool, np.bool_)):
        return AV(b=bool(value))
    if isinstance(value, (int, np.integer)):
        return AV(i=int(value))
    if isinstance(value, (float, np.floating)):
        return AV(f=float(value))
    if isinstance(value, str):
        return AV(s=value.encode())
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return AV(list=AV.ListValue(i=[int(v) for v in value]))
    return None


def _unique(name, used):
    """`name`, or `name_1`, `name_2` ... the first not taken yet."""
    candidate, n = name, 0
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    used[candidate] = True
    return candidate
