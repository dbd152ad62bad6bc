"""`tf.summary` in graph mode (TF1): summary ops, merge / merge_all, FileWriter.

As TensorFlow 1 (tensorflow/python/summary/summary.py, writer/writer.py):

    with tf.name_scope("layer1"):
        tf.summary.histogram("weights", W)          # tag 'layer1/weights'
    tf.summary.scalar("cost", cost)
    merged = tf.summary.merge_all()                 # every summary of the graph
    writer = tf.summary.FileWriter(logdir, sess.graph)
    s, _ = sess.run([merged, train], feed_dict)     # s: a serialized Summary (bytes)
    writer.add_summary(s, global_step=step)

A summary op outputs a string scalar: the serialized `Summary` protobuf, built by the op's
forward from the arrays of this run, so a Session's replayed plan serializes anew on every run.
The protos are TF1's: a scalar is a `simple_value` (float32), a histogram a `HistogramProto`
with TF's fixed exponential buckets (tensorflow/core/lib/histogram/histogram.cc). The event
files are written by minigrad.summary's writer, the graph by its GraphDef builder.
"""
import re
import time
import warnings

import numpy as np

from minigrad.compat.v1.graph import Operation, Tensor, _stand_in_run, get_default_graph
from minigrad.compat.v1.runtime import current_run
from minigrad.core import DType, Tensor as EagerTensor, apply
from minigrad.core.errors import InvalidArgumentError
from minigrad.core.op import Op
from minigrad.summary.graphdef import graph_def_of_graph
from minigrad.summary.writer import SummaryWriter, tensorboard_modules

SUMMARIES = "summaries"                    # tf.GraphKeys.SUMMARIES
string = DType("string", object)           # tf.string: a summary op's output, bytes


# --- the ops ------------------------------------------------------------------------------------
# NOTE: these Op classes are not registered: they are not math on numbers (their output is
# protobuf bytes), never differentiated, and exist only as TF1 graph-mode summary nodes.
class ScalarSummary(Op):
    """Summary{value {tag, simple_value}}: the value as float32, as TF's SummaryScalarOp."""

    differentiable = False

    def forward(self, tags, values):
        tag = _text(tags)
        if values.shape != ():
            raise InvalidArgumentError(None, None, (
                f"tags and values are not the same shape: [] != {list(values.shape)} "
                f"(tag '{tag}')"))
        pb = tensorboard_modules()["summary_pb2"]
        value = pb.Summary.Value(tag=tag, simple_value=float(np.float32(values)))
        return _bytes(pb.Summary(value=[value]).SerializeToString())


class HistogramSummary(Op):
    """Summary{value {tag, histo}} of every value (any shape), as TF's SummaryHistoOp."""

    differentiable = False

    def forward(self, tag, values):
        flat = values.astype(np.float64).ravel()
        bad = ~np.isfinite(flat)
        if bad.any() and not self.in_session:
            flat = flat[~bad]      # the stand-in run: zeros may give log(0); only shapes matter
        elif bad.any():
            kind = "Nan" if np.isnan(flat[bad][0]) else "Infinity"
            raise InvalidArgumentError(None, None, (
                f"{kind} in Histogram for: {self.node} (first non-finite value of "
                f"{flat.size}, shape {list(values.shape)})"))
        pb = tensorboard_modules()["summary_pb2"]
        value = pb.Summary.Value(tag=_text(tag), histo=histogram_proto(flat))
        return _bytes(pb.Summary(value=[value]).SerializeToString())


class MergeSummary(Op):
    """The union of the values of serialized Summaries; a repeated tag is an error."""

    differentiable = False

    def forward(self, *inputs):
        pb = tensorboard_modules()["summary_pb2"]
        merged, tags = pb.Summary(), set()
        for x in inputs:
            for raw in np.asarray(x).ravel():
                for value in pb.Summary.FromString(raw).value:
                    if value.tag and value.tag in tags:
                        raise InvalidArgumentError(None, None, (
                            f"Duplicate tag {value.tag} found in summary inputs "
                            f"({self.node})"))
                    tags.add(value.tag)
                    merged.value.append(value)
        return _bytes(merged.SerializeToString())


def _bytes(raw):
    """A 0-d object array holding `raw` (numpy's 'S' dtype would drop trailing zero bytes)."""
    out = np.empty((), object)
    out[()] = raw
    return out


def _text(tags):
    raw = tags[()] if isinstance(tags, np.ndarray) else tags
    return raw.decode() if isinstance(raw, bytes) else str(raw)


# --- TF1's histogram --------------------------------------------------------------------------
def _default_limits():
    """TF's default bucket limits: +-1e-12 growing by 10% up to 1e20, +-DBL_MAX, and 0."""
    pos, v = [], 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(np.finfo(np.float64).max)
    return np.array([-x for x in reversed(pos)] + [0.0] + pos)


_LIMITS = _default_limits()


def histogram_proto(values):
    """TF1's HistogramProto of float64 `values`, as histogram::Histogram's Add over the values
    in order, then EncodeToProto dropping empty buckets (a run of them becomes one entry with
    the run's last limit)."""
    hp = tensorboard_modules()["summary_pb2"].HistogramProto
    counts = np.bincount(np.searchsorted(_LIMITS, values, side="right"),
                         minlength=_LIMITS.size).astype(np.float64)
    nonzero = counts > 0
    keep = nonzero | np.append(nonzero[1:], True)
    if values.size == 0:
        lo, hi, total, squares = _LIMITS[-1], -_LIMITS[-1], 0.0, 0.0
    else:
        # the first of equal extremes (as `if (min_ > value)`), sums in order (as `+=`)
        lo, hi = values[np.argmin(values)], values[np.argmax(values)]
        total, squares = np.cumsum(values)[-1], np.cumsum(values * values)[-1]
    return hp(min=lo, max=hi, num=float(values.size), sum=total, sum_squares=squares,
              bucket_limit=_LIMITS[keep].tolist(), bucket=counts[keep].tolist())


# --- building the summary nodes ------------------------------------------------------------------
_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """TF's clean_tag: characters not allowed in node names become '_', no leading '/'."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


def _string_op(graph, op_type, name, fn, args):
    """An Operation of `fn(*args)` with one string scalar output (the Summary bytes). fn runs
    once on stand-in arrays now, so a bad input fails here, naming the op."""
    op = Operation(graph, op_type, name, fn, tuple(args), {})
    stand_in = _stand_in_run(op, 0)._value
    t = Tensor(op, 0, (), string, (stand_in, stand_in))
    op.outputs, op.structure = [t], t
    return t


def _string_const(graph, text, name):
    value = _bytes(text.encode())
    return _string_op(graph, "Const", graph.unique_name(name), lambda: EagerTensor(value), ())


def _summary_scope(graph, name, family):
    """(tag, scope name) as TF's summary_scope: a name scope made unique in the graph; its full
    name is the node's name and the tag (prefixed by `family/` when a family is given)."""
    name, family = _clean_tag(name), _clean_tag(family)
    scope = graph.unique_name(name if family is None else f"{family}/{name}")
    return (scope if family is None else f"{family}/{scope}"), scope


def _summary_op(op_cls, input_name, name, tensor, collections, family):
    graph = tensor.graph if isinstance(tensor, Tensor) else get_default_graph()
    tag, scope = _summary_scope(graph, name, family)
    with graph.name_scope(scope + "/"):
        tensor = _numeric_input(tensor, op_cls.__name__, scope)
        tags = _string_const(graph, tag, input_name)

    def fn(tags, values):
        return apply(op_cls(node=scope, in_session=current_run() is not None), tags, values)
    out = _string_op(graph, op_cls.__name__, scope, fn, (tags, tensor))
    for key in [SUMMARIES] if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def _numeric_input(tensor, op_type, scope):
    if not isinstance(tensor, Tensor):
        from minigrad.compat.v1.ops import constant
        tensor = constant(tensor, name="values")
    if tensor.dtype.np.kind not in "iuf":
        raise TypeError(f"Value passed to parameter 'values' of {op_type} '{scope}' has "
                        f"DataType {tensor.dtype.name}, not a real number type")
    return tensor


# --- the API ------------------------------------------------------------------------------------
def scalar(name, tensor, collections=None, family=None):
    """A string Tensor: the serialized Summary of the scalar `tensor` (float32) under the tag
    `name` prefixed by the enclosing name scopes; added to the 'summaries' collection. A tensor
    of known rank > 0 is refused here (TF builds the op and fails when it runs)."""
    return _summary_op(ScalarSummary, "tags", name, tensor, collections, family)


def histogram(name, values, collections=None, family=None):
    """A string Tensor: the serialized Summary of a histogram of `values` (any shape; NaN or Inf
    is an InvalidArgumentError when it runs), tag as `scalar`."""
    return _summary_op(HistogramSummary, "tag", name, values, collections, family)


def merge(inputs, collections=None, name=None):
    """One string Tensor: the union of the values of the serialized Summaries `inputs`."""
    inputs = list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor) or t.dtype != string:
            raise TypeError(f"tf.summary.merge: inputs must be string Tensors (summaries), "
                            f"got {t!r}")
    graph = inputs[0].graph if inputs else get_default_graph()
    name = _clean_tag(name)
    with graph.name_scope(name or "Merge"):
        node = graph.unique_name(name or "MergeSummary")

    def fn(*summaries):
        return apply(MergeSummary(node=node), *summaries)
    out = _string_op(graph, "MergeSummary", node, fn, inputs)
    for key in collections or ():
        graph.add_to_collection(key, out)
    return out


def merge_all(key=SUMMARIES, scope=None, name=None):
    """merge() of every summary in the graph's collection `key`; None if there is none."""
    summaries = get_default_graph().get_collection(key, scope)
    return merge(summaries, name=name) if summaries else None


# --- FileWriter ---------------------------------------------------------------------------------
class FileWriter:
    """`tf.summary.FileWriter(logdir, graph=None)`: one new event file in `logdir`.

    add_summary / add_graph / add_event write an Event each. Unlike TF's queue (max_queue,
    flush_secs), each event reaches the file at once, so TensorBoard sees a run while it
    trains even if the program never closes its writer.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._logdir, self._suffix = str(logdir), filename_suffix or ""
        self._writer = SummaryWriter(self._logdir, self._suffix, caller="tf.summary.FileWriter")
        self._closed = False
        self._seen_summary_tags = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        return self._logdir

    def add_summary(self, summary, global_step=None):
        """Write a Summary (serialized bytes, as `sess.run` returns it, or a proto) at
        `global_step`. As TF, a tag's metadata is kept on its first value only."""
        pb = tensorboard_modules()["summary_pb2"]
        if isinstance(summary, np.ndarray) and summary.shape == ():
            summary = summary[()]
        if not isinstance(summary, bytes):
            if not hasattr(summary, "SerializeToString"):
                raise TypeError(f"add_summary: expected a serialized Summary (bytes) or a "
                                f"Summary proto, got {type(summary).__name__}")
            summary = summary.SerializeToString()
        summary = pb.Summary.FromString(summary)
        for value in summary.value:
            if value.HasField("metadata"):
                if value.tag in self._seen_summary_tags:
                    value.ClearField("metadata")
                else:
                    self._seen_summary_tags.add(value.tag)
        self._add_event(self._event(summary=summary), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Write a graph (a tf.Graph, e.g. `sess.graph`, or a GraphDef) for the Graphs tab."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        given = graph if graph is not None else graph_def
        if hasattr(given, "get_operations"):
            given = graph_def_of_graph(given)
        if not hasattr(given, "SerializeToString"):
            raise TypeError(f"add_graph: expected a tf.Graph or a GraphDef, got "
                            f"{type(given).__name__}")
        self._add_event(self._event(graph_def=given.SerializeToString()), global_step)

    def add_event(self, event):
        self._add_event(event, None)

    def flush(self):
        self._writer.flush()

    def close(self):
        """Flush and close the file; later writes are ignored (with a warning) until reopen()."""
        self._writer.close()
        self._closed = True

    def reopen(self):
        """After close(): write further events to a new event file in the same logdir."""
        if self._closed:
            self._writer = SummaryWriter(self._logdir, self._suffix,
                                         caller="tf.summary.FileWriter")
            self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _event(self, **fields):
        return tensorboard_modules()["event_pb2"].Event(**fields)

    def _add_event(self, event, step):
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop "
                          "unless the FileWriter is explicitly reopened.", stacklevel=3)
            return
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self._writer.write_event(event)
        self._writer.flush()


__all__ = ["scalar", "histogram", "merge", "merge_all", "FileWriter", "histogram_proto"]
