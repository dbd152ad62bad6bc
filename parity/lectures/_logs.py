"""Where the TensorBoard lectures write their event files.

The decks write under `./logs/...`; here a lecture writes to its `logdir` when it has one, else
to a new temporary directory: kept (and named by `finish`, for `tensorboard --logdir`) when the
lecture runs alone, removed with the lecture object when `keep_logs` is False (parity runs,
benchmarks and tests, which never read the files).
"""
import tempfile


def file_writer(lecture, tf):
    """`tf.summary.FileWriter(logdir)` for `lecture`, which remembers the directory."""
    if lecture.logdir is not None:
        path = lecture.logdir
    elif lecture.keep_logs:
        path = tempfile.mkdtemp(prefix=f"{lecture.name}-logs-")
    else:
        lecture._logs = tempfile.TemporaryDirectory(prefix=f"{lecture.name}-logs-")
        path = lecture._logs.name
    lecture.logdir_used = path
    return tf.summary.FileWriter(path)
