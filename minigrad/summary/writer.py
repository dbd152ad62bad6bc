"""TensorBoard event files, written with the `tensorboard` package's own protos and records.

No TensorFlow: events are `tensorboard.compat.proto.event_pb2.Event`s framed by
`tensorboard.summary.writer.record_writer.RecordWriter` (length, masked CRC32C, data, CRC), the
format TensorBoard reads. Scalars and histograms are TF2's tensor summaries (plugin metadata
from the scalars/histograms plugins), the graph a GraphDef. `tensorboard` is imported on the
first writer only, so `import minigrad` stays light and works without it.
"""
import itertools
import os
import socket
import time

import numpy as np

_uid = itertools.count()
_tb_modules = {}


def tensorboard_modules():
    """The tensorboard pieces we use, imported once; a clear ImportError when it is missing."""
    if not _tb_modules:
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2
            from tensorboard.plugins.histogram import metadata as histogram_metadata
            from tensorboard.plugins.scalar import metadata as scalar_metadata
            from tensorboard.summary.writer.record_writer import RecordWriter
            from tensorboard.util import tensor_util
        except ImportError as e:
            raise ImportError("mg.summary writes TensorBoard logs with the `tensorboard` "
                              "package, which is not installed: pip install tensorboard "
                              f"({e})") from e
        _tb_modules.update(event_pb2=event_pb2, summary_pb2=summary_pb2,
                           RecordWriter=RecordWriter, tensor_util=tensor_util,
                           scalar_metadata=scalar_metadata,
                           histogram_metadata=histogram_metadata)
    return _tb_modules


class SummaryWriter:
    """Writes one event file in `logdir`. Make it the default with `with w.as_default():`."""

    def __init__(self, logdir, filename_suffix="", caller="create_file_writer"):
        self._tb = tensorboard_modules()
        self.logdir = os.fspath(logdir)
        name = "events.out.tfevents.%010d.%s.%s.%s%s" % (
            time.time(), socket.gethostname(), os.getpid(), next(_uid), filename_suffix or "")
        self.path = os.path.join(self.logdir, name)
        self._file = _open_in(self.logdir, self.path, caller)
        self._records = self._tb["RecordWriter"](self._file)
        self.write_event(self._tb["event_pb2"].Event(wall_time=time.time(),
                                                     file_version="brain.Event:2"))
        self.flush()

    def as_default(self, step=None):
        """`with writer.as_default(step=None):` summary calls inside write here."""
        return _Default(self, step)

    def set_as_default(self, step=None):
        _default.append((self, step))

    def write_summary(self, summary, step):
        self.write_event(self._tb["event_pb2"].Event(wall_time=time.time(), step=int(step),
                                                     summary=summary))

    def write_event(self, event):
        if self._file is None:
            raise RuntimeError(f"summary writer for '{self.logdir}' is closed")
        self._records.write(event.SerializeToString())

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        """Flush, sync to disk and close the event file (further writes raise)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __repr__(self):
        state = "closed" if self._file is None else "open"
        return f"<mg.summary writer {state} {self.path!r}>"


def _open_in(logdir, path, caller):
    try:
        os.makedirs(logdir, exist_ok=True)
        return open(path, "wb")
    except OSError as e:
        raise type(e)(e.errno, f"{caller}: cannot write TensorBoard logs to "
                               f"'{logdir}': {e.strerror}") from None


# --- the default writer ----------------------------------------------------------------------
_default = []      # (writer, default step), innermost last


class _Default:
    def __init__(self, writer, step):
        self.writer, self.step = writer, step

    def __enter__(self):
        self._entry = (self.writer, self.step)
        _default.append(self._entry)
        return self.writer

    def __exit__(self, *exc):
        # NOTE: by identity: a step may be a Variable, whose == is elementwise
        del _default[next(i for i, e in enumerate(_default) if e is self._entry)]
        self.writer.flush()


def current(step, fn):
    """(writer, step) for a summary call, or (None, None) with no default writer (TF: no-op)."""
    if not _default:
        return None, None
    writer, default_step = _default[-1]
    step = default_step if step is None else step
    if step is None:
        raise ValueError(f"{fn}: no step given: pass step=..., or set a default with "
                         f"writer.as_default(step=...)")
    return writer, _as_int(step, fn)


def _as_int(step, fn):
    value = np.asarray(step._value if hasattr(step, "_value") else step)
    if value.shape != () or value.dtype.kind not in "iu":
        raise TypeError(f"{fn}: step must be an integer scalar, got {value.dtype} "
                        f"of shape {value.shape}")
    return int(value)
