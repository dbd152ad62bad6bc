"""mg.summary: TensorBoard event files, read back with tensorboard's own readers."""
import glob
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

pytest.importorskip("tensorboard")
ROOT = Path(__file__).resolve().parents[1]


def read_events(logdir):
    """Every Event in the one event file of `logdir`, via tensorboard's raw record reader."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.tensorflow_stub import errors
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New
    path, = glob.glob(str(Path(logdir) / "events.out.tfevents.*"))
    reader, events = PyRecordReader_New(path), []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return events
        events.append(event_pb2.Event.FromString(reader.record()))


def values(events, tag):
    """[(step, ndarray)] for a summary tag."""
    from tensorboard.util import tensor_util
    return [(e.step, tensor_util.make_ndarray(v.tensor))
            for e in events for v in e.summary.value if v.tag == tag]


def small_model():
    W = mg.Variable(np.arange(6, dtype=np.float32).reshape(2, 3) / 10, name="layer1/W")
    x = mg.constant(np.ones((4, 2), np.float32))
    tape = mg.GradientTape(persistent=True)
    with tape:
        with mg.name_scope("layer1"):
            h = mg.matmul(x, W)
        loss = mg.reduce_mean(mg.square(h))
    return tape, loss, W


def write_run(logdir):
    tape, loss, W = small_model()
    writer = mg.summary.create_file_writer(str(logdir))
    with writer.as_default():
        assert mg.summary.graph(loss)
        for step in range(3):
            with mg.name_scope("train"):
                assert mg.summary.scalar("loss", 0.5 * step + 0.25, step=step)
            assert mg.summary.histogram("W", W.numpy() + step, step=step)
    writer.close()
    return writer


def test_scalars_histograms_graph_read_back(tmp_path):
    write_run(tmp_path)
    events = read_events(tmp_path)
    assert events[0].file_version == "brain.Event:2"
    assert [(s, float(v)) for s, v in values(events, "train/loss")] == [
        (0, 0.25), (1, 0.75), (2, 1.25)]
    hists = values(events, "W")
    assert [s for s, _ in hists] == [0, 1, 2]
    for step, h in hists:
        assert h.shape == (30, 3) and h[:, 2].sum() == 6           # every value counted
        assert h[0, 0] == pytest.approx(step) and h[-1, 1] == pytest.approx(0.5 + step)
    plugins = {v.tag: v.metadata.plugin_data.plugin_name for e in events for v in e.summary.value}
    assert plugins == {"train/loss": "scalars", "W": "histograms"}


def test_graph_def_names_ops_inputs_attrs(tmp_path):
    from tensorboard.compat.proto import graph_pb2, types_pb2
    write_run(tmp_path)
    graph_event, = [e for e in read_events(tmp_path) if e.graph_def]
    nodes = {n.name: n for n in graph_pb2.GraphDef.FromString(graph_event.graph_def).node}
    assert list(nodes) == ["Const", "layer1/W", "layer1/MatMul", "Square", "Mean"]
    assert nodes["layer1/MatMul"].op == "MatMul"
    assert list(nodes["layer1/MatMul"].input) == ["Const", "layer1/W"]
    assert nodes["layer1/W"].op == "VariableV2"
    assert nodes["layer1/W"].attr["dtype"].type == types_pb2.DT_FLOAT
    assert [d.size for d in nodes["layer1/W"].attr["shape"].shape.dim] == [2, 3]
    shapes = nodes["layer1/MatMul"].attr["_output_shapes"].list.shape
    assert [d.size for d in shapes[0].dim] == [4, 3]
    assert nodes["Mean"].attr["T"].type == types_pb2.DT_FLOAT


def test_event_accumulator_reads_it(tmp_path):
    """TensorBoard's own loading path (it imports TensorFlow if installed: reading only)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util
    write_run(tmp_path)
    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert sorted(acc.Tags()["tensors"]) == ["W", "train/loss"]
    loss = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
            for e in acc.Tensors("train/loss")]
    assert loss == [(0, 0.25), (1, 0.75), (2, 1.25)]
    counts = [tensor_util.make_ndarray(e.tensor_proto)[:, 2].sum() for e in acc.Tensors("W")]
    assert counts == [6, 6, 6]
    assert [n.name for n in acc.Graph().node] == ["Const", "layer1/W", "layer1/MatMul",
                                                  "Square", "Mean"]


def test_no_tensorflow_and_lazy_tensorboard():
    code = ("import minigrad, sys; t0 = 'tensorboard' in sys.modules; "
            "import minigrad.summary as s; import tempfile; "
            "w = s.create_file_writer(tempfile.mkdtemp()); w.close(); "
            "print(t0, 'tensorboard' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split() == ["False", "True", "False"], out.stderr


def test_default_step_and_histogram_edge_cases(tmp_path):
    writer = mg.summary.create_file_writer(tmp_path)
    with writer.as_default(step=7):
        mg.summary.scalar("a", mg.constant(2.0))
        mg.summary.histogram("same", np.full(5, 3.0), buckets=4)
        mg.summary.histogram("empty", np.zeros(0))
        global_step = mg.Variable(10, name="global_step")
        with writer.as_default(step=global_step):         # a step Variable is read at each call
            global_step.assign_add(1)
            mg.summary.scalar("a", 3.0)
        mg.summary.scalar("a", 4.0)
    writer.close()
    events = read_events(tmp_path)
    assert [(s, float(v)) for s, v in values(events, "a")] == [(7, 2.0), (11, 3.0), (7, 4.0)]
    (_, same), = values(events, "same")
    assert same.shape == (4, 3) and same[:, 2].tolist() == [0, 0, 0, 5]
    (_, empty), = values(events, "empty")
    assert empty.shape == (30, 3) and empty.sum() == 0


def test_no_default_writer_writes_nothing():
    assert mg.summary.scalar("loss", 1.0, step=0) is False
    assert mg.summary.histogram("w", [1.0], step=0) is False


# --- bad input -----------------------------------------------------------------------------
def test_unwritable_logdir_raises_at_creation_naming_it(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match=f"cannot write TensorBoard logs to '{blocker}/logs'"):
        mg.summary.create_file_writer(blocker / "logs")
    with pytest.raises(OSError, match=f"'{blocker}'"):
        mg.summary.create_file_writer(blocker)
    with pytest.raises(TypeError, match="logdir must be a path"):
        mg.summary.create_file_writer(None)


def test_missing_tensorboard_names_pip_install(monkeypatch):
    from minigrad.summary import writer
    monkeypatch.setattr(writer, "_tb_modules", {})
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        mg.summary.create_file_writer("/tmp/never-created")


def test_bad_summary_values(tmp_path):
    writer = mg.summary.create_file_writer(tmp_path)
    with writer.as_default():
        with pytest.raises(ValueError, match="no step given"):
            mg.summary.scalar("loss", 1.0)
        with pytest.raises(ValueError, match=r"scalar 'loss': expected a single number.*\(3,\)"):
            mg.summary.scalar("loss", [1.0, 2.0, 3.0], step=0)
        with pytest.raises(TypeError, match="expected numbers"):
            mg.summary.scalar("loss", "high", step=0)
        with pytest.raises(TypeError, match="step must be an integer"):
            mg.summary.scalar("loss", 1.0, step=1.5)
        with pytest.raises(ValueError, match="histogram 'w': .*NaN or Inf .1 of 3"):
            mg.summary.histogram("w", [1.0, np.nan, 2.0], step=0)
        with pytest.raises(ValueError, match="buckets must be at least 1"):
            mg.summary.histogram("w", [1.0], step=0, buckets=0)
        with pytest.raises(TypeError, match="name must be a non-empty string"):
            mg.summary.scalar("", 1.0, step=0)
        with pytest.raises(ValueError, match="summary.graph: .*not recorded"):
            mg.summary.graph(mg.constant(1.0))
    writer.close()
    with writer.as_default():
        with pytest.raises(RuntimeError, match="is closed"):
            mg.summary.scalar("loss", 1.0, step=0)
