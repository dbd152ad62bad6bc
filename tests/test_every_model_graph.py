"""Every tutorial model's graph, untouched model code: mg.graph.capture() around one training
step, then the DOT picture and the TensorBoard graph + loss scalar, read back.

The models are the parity cases (parity.harness.CASES), so a case added later is covered with
no change here. One step per model, generated data (cases needing real data absent here skip).
"""
import glob
import re
import shutil
import subprocess

import numpy as np
import pytest

import minigrad as mg
import parity.cases  # noqa: F401  (registers every case)
from minigrad.data import DataError
from parity.harness import CASES

DTYPE = np.float32

# op types a case's graph must name; a case not listed must show some layer op (a matmul, a
# convolution or a fused RNN sequence)
_LSTM_CHARS = {"BasicLSTMSequence", "MatMul", "SparseSoftmaxCrossEntropyWithLogits"}
EXPECTED_OPS = {
    "xor": {"MatMul", "Sigmoid", "Log"},
    "xor_wide": {"MatMul", "Sigmoid", "Log"},
    "mnist_softmax": {"MatMul", "Softmax"},
    "mnist_cnn": {"Conv2D", "MaxPool", "Relu", "MatMul"},
    "text_cnn": {"GatherV2", "Conv2D", "MaxPool", "ConcatV2", "MatMul"},
    "rnn_basics": {"BasicRNNSequence", "BasicLSTMSequence", "GRUSequence"},
    "hihello": _LSTM_CHARS, "char_seq": _LSTM_CHARS, "char_stacked": _LSTM_CHARS,
    "rnn_mnist": {"BasicRNNSequence", "MatMul"},
    "rnn_mnist_stacked": {"BasicRNNSequence", "MatMul"},
    "lstm_mnist": {"BasicLSTMSequence", "MatMul"},
    "stock_lstm": {"BasicLSTMSequence", "MatMul"},
    "keras_lstm": {"KerasLSTMSequence", "MatMul"},
    "keras_gru": {"KerasGRUSequence", "MatMul"},
}


def is_layer_op(op_type):
    return op_type in ("MatMul", "BatchMatMulV2", "Conv2D") or op_type.endswith("Sequence")


_BUILT = {}     # case name -> (case, data) or the loading error: data made once per session


def case_and_data(name):
    """The case instance and its generated data (data() first: a case may size its weights
    from the data, as run_case calls them)."""
    if name not in _BUILT:
        case = CASES[name]()
        try:
            _BUILT[name] = case, case.data(None, DTYPE)
        except (DataError, FileNotFoundError) as e:
            _BUILT[name] = e
    if isinstance(_BUILT[name], Exception):
        pytest.skip(f"case {name!r} needs real data that is absent here: {_BUILT[name]}")
    return _BUILT[name]


def build(name, compiled=False):
    """A fresh minigrad trainer of case `name`, from the seed-0 weights (as run_case)."""
    case, data = case_and_data(name)
    weights = case.init_weights(np.random.default_rng(0), DTYPE)
    # fresh arrays: a Variable may update its array in place, and trainers must not share
    weights = {k: np.array(v, DTYPE) for k, v in weights.items()}
    if compiled:
        return case.build_minigrad(weights, data, DTYPE, compiled=True)
    return case.build_minigrad(weights, data, DTYPE)


def captured_step(name):
    trainer = build(name)
    with mg.graph.capture() as cap:
        loss = float(trainer.step(0))
    return trainer, cap, loss


def op_types(cap):
    return {op.type for tape in cap.tapes for op in tape.nodes}


def parse_dot(dot):
    """Structural check of DOT text: balanced braces outside strings, every edge endpoint
    declared as a node. Returns (node ids, edges)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot)        # quoted strings out of the way
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a closing brace before its opening one"
    assert depth == 0, "unbalanced braces"
    assert bare.startswith("digraph ") and bare.rstrip().endswith("}")
    nodes = [n for n in re.findall(r"^\s*(\w+) \[", bare, flags=re.M)
             if n not in ("node", "edge", "graph")]
    assert len(nodes) == len(set(nodes)), "a node declared twice"
    edges = re.findall(r"^\s*(\w+) -> (\w+)", bare, flags=re.M)
    declared = set(nodes)
    for a, b in edges:
        assert a in declared and b in declared, f"edge {a} -> {b}: endpoint not declared"
    return nodes, edges


def read_events(logdir):
    """Every Event of the one event file in `logdir`, with tensorboard's record reader."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.tensorflow_stub import errors
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New
    path, = glob.glob(str(logdir / "events.out.tfevents.*"))
    reader, events = PyRecordReader_New(path), []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return events
        events.append(event_pb2.Event.FromString(reader.record()))


CASE_NAMES = sorted(CASES)


def test_cases_registered():
    assert {"xor", "xor_wide"} <= set(CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_dot_of_one_step(name):
    _, cap, loss = captured_step(name)
    assert np.isfinite(loss)
    dot = mg.graph.to_dot(cap.tape)
    nodes, edges = parse_dot(dot)
    n_ops = len(cap.tape.nodes)
    assert len(nodes) > n_ops and len(edges) >= n_ops      # ops plus their leaves, wired
    types = op_types(cap)
    want = EXPECTED_OPS.get(name, set())
    assert want <= types, f"{name}: graph lacks {sorted(want - types)}; has {sorted(types)}"
    assert any(is_layer_op(t) for t in types), f"{name}: no layer op in {sorted(types)}"
    for t in {op.type for op in cap.tape.nodes}:
        assert re.search(rf'label="{t}\\n', dot), f"{name}: op type {t} not drawn"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_tensorboard_graph_and_loss(name, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import graph_pb2
    from tensorboard.util import tensor_util
    _, cap, loss = captured_step(name)
    writer = mg.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert mg.summary.graph(cap.tape)
        assert mg.summary.scalar("loss", loss, step=7)
    writer.close()
    events = read_events(tmp_path)
    graphs = [graph_pb2.GraphDef.FromString(e.graph_def) for e in events if e.graph_def]
    assert len(graphs) == 1
    names = {n.name for n in graphs[0].node}
    assert {op.name for op in cap.tape.nodes} <= names
    assert {op.type for op in cap.tape.nodes} <= {n.op for n in graphs[0].node}
    for node in graphs[0].node:      # every input refers to a node of the graph
        assert all(i.split(":")[0] in names for i in node.input), node.name
    scalars = [(e.step, tensor_util.make_ndarray(v.tensor)) for e in events
               for v in e.summary.value if v.tag == "loss"]
    assert len(scalars) == 1 and scalars[0][0] == 7
    assert scalars[0][1] == np.float32(loss)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_capture_changes_no_number(name):
    """Two trainers from the same weights: step 0 under capture or not, then step 1 plain:
    bit-identical losses and weights."""
    plain, kept = build(name), build(name)
    losses_plain = [float(plain.step(0)), float(plain.step(1))]
    with mg.graph.capture() as cap:
        first = float(kept.step(0))
    losses_kept = [first, float(kept.step(1))]
    assert cap.nodes > 0
    assert losses_kept == losses_plain
    w_plain, w_kept = plain.weights(), kept.weights()
    assert w_plain.keys() == w_kept.keys()
    for k in w_plain:
        np.testing.assert_array_equal(w_kept[k], w_plain[k], err_msg=k)


def test_render_svg(tmp_path):
    """Graphviz accepts the DOT of a tutorial model (the largest one drawn here)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed")
    name = "mnist_cnn" if "mnist_cnn" in CASES else "xor_wide"
    _, cap, _ = captured_step(name)
    dot_path, svg_path = mg.graph.render(mg.graph.to_dot(cap.tape), tmp_path / name)
    svg = open(svg_path, encoding="utf-8").read()
    assert "<svg" in svg and "MatMul" in svg
    done = subprocess.run(["dot", "-Tplain", dot_path], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- capture itself ------------------------------------------------------------------------
def small_step(opt, w, x):
    return opt.minimize(lambda: mg.reduce_sum(mg.square(mg.matmul(x, w))), [w])


def test_capture_keeps_a_hidden_tape():
    w = mg.Variable(np.ones((2, 1), np.float32), name="w")
    x = mg.constant(np.ones((3, 2), np.float32))
    opt = mg.train.GradientDescentOptimizer(0.1)
    small_step(opt, w, x)                                # outside: nothing kept
    with mg.graph.capture() as cap:
        small_step(opt, w, x)
    assert len(cap) == 1 and [op.type for op in cap.tape.nodes] == ["MatMul", "Square", "Sum"]
    assert cap.tape.nodes[0].ys, "the graph was released"
    small_step(opt, w, x)                                # after: no longer captured
    assert len(cap) == 1
    assert "capture: 1 tape(s), 3 node(s)" in repr(cap)


def test_capture_nests_and_unwinds():
    w = mg.Variable(np.ones((2, 1), np.float32), name="w")
    x = mg.constant(np.ones((3, 2), np.float32))
    opt = mg.train.GradientDescentOptimizer(0.1)
    with mg.graph.capture() as outer:
        with mg.graph.capture() as inner:
            small_step(opt, w, x)
        small_step(opt, w, x)
    assert len(inner) == 1 and len(outer) == 2
    assert inner.tapes[0] is outer.tapes[0]
    from minigrad.core import state
    assert state.active_captures() == []


def test_capture_unwinds_on_error():
    from minigrad.core import state
    with pytest.raises(ZeroDivisionError):
        with mg.graph.capture():
            1 / 0
    assert state.active_captures() == []


def test_empty_capture_says_so():
    with mg.graph.capture() as cap:
        pass
    with pytest.raises(ValueError, match="none of the 0 GradientTape"):
        cap.tape


def test_captured_tape_still_refuses_second_gradient():
    w = mg.Variable(np.float32(3.0), name="w")
    with mg.graph.capture():
        with mg.GradientTape() as tape:
            y = w * w
    assert tape.gradient(y, w).numpy() == 6.0
    with pytest.raises(RuntimeError, match="only be used to compute one"):
        tape.gradient(y, w)
    assert "Mul" in mg.graph.to_dot(y)                    # the graph is still there


def test_capture_of_a_compiled_step():
    """mg.function: a traced call's tape is kept (the step index is a Python value, so each
    call here traces), with the same numbers as eager."""
    eager, compiled = build("xor"), build("xor", compiled=True)
    with mg.graph.capture() as cap:
        got = [float(compiled.step(i)) for i in range(3)]
    assert got == [float(eager.step(i)) for i in range(3)]
    assert len(cap) >= 1 and "MatMul" in mg.graph.to_dot(cap.tape)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_compiled_step_is_the_eager_step_bit_for_bit(name):
    """Every model's mg.function replay (traced on the first call, replayed after) gives the
    eager losses exactly, step after step."""
    import inspect
    case, _ = case_and_data(name)
    if "compiled" not in inspect.signature(case.build_minigrad).parameters:
        pytest.skip(f"{name} has no compiled builder")
    eager, compiled = build(name), build(name, compiled=True)
    want = [np.asarray(eager.step(i)) for i in range(4)]
    got = [np.asarray(compiled.step(i)) for i in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(want, got)), (want, got)
