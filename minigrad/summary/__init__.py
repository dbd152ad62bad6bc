"""`mg.summary`: TF2's tf.summary for TensorBoard, with no TensorFlow (needs `tensorboard`).

    writer = mg.summary.create_file_writer("logs/run1")
    with writer.as_default():
        mg.summary.graph(loss)                        # the recorded graph (keep the tape alive)
        mg.summary.scalar("loss", loss, step=step)
        mg.summary.histogram("layer1/W", W, step=step)
    writer.close()                                    # then: tensorboard --logdir logs

As in TF, a summary call with no default writer writes nothing and returns False. Names get the
enclosing `mg.name_scope` as a prefix. Importing this module does not import tensorboard.
"""
import time

import numpy as np

from minigrad.core import Tensor
from minigrad.core.state import scoped_name
from minigrad.summary.writer import SummaryWriter, current, tensorboard_modules


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None):
    """A writer of one new event file in `logdir` (created if needed; raises if unwritable).

    Events go to the file as they come (no queue); `flush()` pushes them to the OS, `close()`
    syncs them to disk. max_queue, flush_millis and name are accepted for TF compatibility.
    """
    if not isinstance(logdir, (str, bytes)) and not hasattr(logdir, "__fspath__"):
        raise TypeError(f"create_file_writer: logdir must be a path, got {type(logdir).__name__}")
    return SummaryWriter(logdir, filename_suffix or "")


def scalar(name, data, step=None, description=None):
    """Log one number under `name` at `step`. Returns True if written (a default writer exists)."""
    writer, step = current(step, "scalar")
    if writer is None:
        return False
    value = _numeric(data, "scalar", name)
    if value.size != 1:
        raise ValueError(f"scalar '{name}': expected a single number, got shape {value.shape}; "
                         f"use mg.summary.histogram for many values")
    tb = writer._tb
    meta = tb["scalar_metadata"].create_summary_metadata(display_name=None,
                                                         description=description or "")
    tensor = tb["tensor_util"].make_tensor_proto(np.float32(value.reshape(())))
    writer.write_summary(_summary(tb, _tag(name), tensor, meta), step)
    return True


def histogram(name, data, step=None, buckets=None, description=None):
    """Log the distribution of `data` (any shape) under `name` at `step`, in `buckets` (30)
    equal-width buckets, as TF2's tf.summary.histogram. NaN or Inf values are refused."""
    writer, step = current(step, "histogram")
    if writer is None:
        return False
    values = _numeric(data, "histogram", name).astype(np.float64).ravel()
    if not np.isfinite(values).all():
        raise ValueError(f"histogram '{name}': the values contain NaN or Inf "
                         f"({int((~np.isfinite(values)).sum())} of {values.size})")
    count = 30 if buckets is None else int(buckets)
    if count < 1:
        raise ValueError(f"histogram '{name}': buckets must be at least 1, got {buckets}")
    tb = writer._tb
    meta = tb["histogram_metadata"].create_summary_metadata(display_name=None,
                                                            description=description or "")
    tensor = tb["tensor_util"].make_tensor_proto(histogram_buckets(values, count))
    writer.write_summary(_summary(tb, _tag(name), tensor, meta), step)
    return True


def histogram_buckets(values, count):
    """[count, 3] rows of (left edge, right edge, count); the last bucket includes the max."""
    if values.size == 0:
        return np.zeros((count, 3))
    lo, hi = values.min(), values.max()
    if lo == hi:      # as TensorBoard: every edge at the value, all counts in the last bucket
        counts = np.zeros(count)
        counts[-1] = values.size
        return np.stack([np.full(count, lo), np.full(count, hi), counts], axis=1)
    width = (hi - lo) / count
    index = np.minimum(np.floor((values - lo) / width).astype(np.int64), count - 1)
    edges = lo + width * np.arange(count + 1)
    edges[-1] = hi
    counts = np.bincount(index, minlength=count).astype(np.float64)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def graph(graph_data):
    """Log the recorded graph behind a tensor (or a whole GradientTape) as a GraphDef:
    TensorBoard's Graphs tab. Call it before a non-persistent tape's gradient()."""
    writer, _ = current(0, "graph")
    if writer is None:
        return False
    from minigrad.summary.graphdef import graph_def
    event = writer._tb["event_pb2"].Event(wall_time=time.time(),
                                          graph_def=graph_def(graph_data).SerializeToString())
    writer.write_event(event)
    return True


def flush(writer=None):
    """Flush `writer` (default: the current default writer)."""
    w = writer or current(0, "flush")[0]
    if w is not None:
        w.flush()


# --- helpers ---------------------------------------------------------------------------------
def _numeric(data, fn, name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"{fn}: name must be a non-empty string, got {name!r}")
    value = np.asarray(data._value if isinstance(data, Tensor) else data)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{fn} '{name}': expected numbers, got {value.dtype} "
                        f"({type(data).__name__})")
    return value


def _tag(name):
    return scoped_name(name)


def _summary(tb, tag, tensor, meta):
    pb = tb["summary_pb2"]
    return pb.Summary(value=[pb.Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


__all__ = ["create_file_writer", "scalar", "histogram", "graph", "flush", "SummaryWriter",
           "tensorboard_modules"]
