"""TF1's `tf.train.Saver`: variables to a checkpoint by their TensorFlow names, and back.

    saver = tf.train.Saver(max_to_keep=5)
    path = saver.save(sess, "ckpt/model.ckpt", global_step=100)    # -> 'ckpt/model.ckpt-100'
    saver.restore(sess, tf.train.latest_checkpoint("ckpt"))

The bookkeeping is TensorFlow's (tensorflow/python/training/saver.py and
tensorflow/python/checkpoint/checkpoint_management.py): the prefix `save_path-<global_step>`,
the `checkpoint` state file in the save directory (text protobuf: `model_checkpoint_path` and
the kept `all_model_checkpoint_paths`, relative to a relative save directory), the checkpoints
beyond `max_to_keep` deleted oldest first (unless one is due under
`keep_checkpoint_every_n_hours`), `latest_checkpoint` and `get_checkpoint_state` reading the
state file. The data file is minigrad's own: `<prefix>.npz`, one array per variable under its
TF name (`weight1`, `rnn/basic_lstm_cell/kernel`), written atomically by
minigrad.train.checkpoint, so a save killed at any moment leaves the previous checkpoints and
state file whole. `python -m minigrad.convert` turns it into TensorFlow's format and back.

What differs from TensorFlow:
- No `.meta` graph file is written (`write_meta_graph` is accepted and ignored), and the data
  is `<prefix>.npz`, not `<prefix>.index` + `<prefix>.data-00000-of-00001`.
- Restore checks the whole checkpoint first and changes nothing unless every variable to
  restore is in the file with its shape and dtype; the error lists every difference. TF stops
  at the first missing key (NotFoundError), and reshapes a TF1 (ref) variable to the file's
  shape instead of refusing it. As in TF, entries of the file that are not restored are
  ignored (they are listed in the error when there is one).
- Optimizer state (Momentum's, RMSProp's and Adam's slots, Adam's beta powers) lives in the
  session here, not in graph variables, so it is not among `tf.global_variables()` and is not
  saved (the first save says so in a warning); a restored run starts such an optimizer afresh.
  GradientDescent has none, so its training resumes exactly.
- The Saver adds no save/restore ops to the graph, so it takes no op names ("save/...").
"""
import codecs
import os
import re
import time
import warnings

import numpy as np

from minigrad.compat.v1.variables import Variable, global_variables
from minigrad.core.errors import InvalidArgumentError, NotFoundError
from minigrad.train import checkpoint as files

STATE_FILENAME = "checkpoint"
SUFFIX = ".npz"


class Saver:
    """`tf.train.Saver(var_list=None, max_to_keep=5, ...)`.

    var_list: None (the graph's global variables, as they are now), a list of variables (saved
    under their names), or a dict {name in the checkpoint: variable}."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if reshape:
            raise NotImplementedError("Saver(reshape=True): restoring into another shape is "
                                      "not supported by minigrad.compat.v1")
        if saver_def is not None or builder is not None:
            raise NotImplementedError("Saver(saver_def=..., builder=...): minigrad.compat.v1 "
                                      "builds no save/restore ops to describe")
        self._var_list = _names(global_variables() if var_list is None else var_list)
        if not self._var_list and not allow_empty:
            raise ValueError("No variables to save")
        self._is_empty = not self._var_list
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._last_checkpoints = []          # [(prefix, time saved)], oldest first
        self._to_delete = []
        self._warned = False

    # --- saving -------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False, save_debug_info=False):
        """Write the variables' values in `sess` to `<prefix>.npz` and return the prefix:
        `save_path`, or `save_path-<global_step>` (an int, or a tensor/variable run in sess)."""
        latest_filename = latest_filename or STATE_FILENAME
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        prefix = self._prefix(sess, save_path, global_step, latest_filename)
        _check_session(sess, self._var_list)
        if self._is_empty:
            return None
        arrays = self._values(sess)
        folder = os.path.dirname(save_path)
        _check_parent(folder, save_path)
        _remove_stale_temps(save_path)
        files.write_arrays(prefix + SUFFIX, arrays)
        if write_state:
            self._record(prefix)
            update_checkpoint_state(folder, prefix, self.last_checkpoints, latest_filename,
                                    self._save_relative_paths)
            self._maybe_delete_old()
        return prefix

    def _prefix(self, sess, save_path, global_step, latest_filename):
        if global_step is None:
            if os.path.basename(save_path) == latest_filename:
                raise ValueError(f"'latest_filename' collides with 'save_path': "
                                 f"'{latest_filename}' and '{save_path}'")
            return save_path
        if not isinstance(global_step, (int, np.integer)):
            _check_session(sess, self._var_list)
            global_step = int(sess.run(global_step))     # TF's training_util.global_step
        step = f"{int(global_step):08d}" if self._pad_step_number else f"{int(global_step)}"
        return f"{save_path}-{step}"

    def _values(self, sess):
        values = sess.run(list(self._var_list.values()))
        self._warn_optimizer_state(sess)
        return {name: np.asarray(a) for name, a in zip(self._var_list, values)}

    def _warn_optimizer_state(self, sess):
        """Once per Saver: TF would save these slots; silently resuming without them would
        train differently."""
        kinds = sorted({type(o).__name__ for o in sess._optimizers.values() if o.slot_names})
        if kinds and not self._warned:
            self._warned = True
            warnings.warn(f"Saver.save: the session's {', '.join(kinds)} state (slots "
                          f"{sorted({s for o in sess._optimizers.values() for s in o.slot_names})}"
                          f") is not saved: minigrad.compat.v1 keeps optimizer state in the "
                          f"session, not in graph variables; a restored run restarts it",
                          stacklevel=3)

    # --- which checkpoints are kept (TF's _RecordLastCheckpoint, _MaybeDeleteOldCheckpoints) --
    def _record(self, prefix):
        if not self._max_to_keep:
            return
        self._last_checkpoints = [p for p in self._last_checkpoints if p[0] != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        if len(self._last_checkpoints) > self._max_to_keep:
            self._to_delete.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old(self):
        if not self._to_delete:
            return
        prefix, saved_at = self._to_delete.pop(0)
        if saved_at > self._next_checkpoint_time:     # one kept every n hours
            self._next_checkpoint_time += self._keep_hours * 3600
            return
        remove_checkpoint(prefix)

    @property
    def last_checkpoints(self):
        """The kept checkpoints' prefixes, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        assert isinstance(last_checkpoints, list)
        self._last_checkpoints = [(s, np.inf) for s in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        assert isinstance(last_checkpoints_with_time, list)
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths):
        """Take over the kept list after a restart: the given prefixes that exist, with their
        files' modification times."""
        found = [(p, os.path.getmtime(_data_file(p))) for p in checkpoint_paths
                 if _data_file(p) is not None]
        self.set_last_checkpoints_with_time(found)

    # --- restoring ----------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Load the checkpoint `save_path` (a prefix) into the variables in `sess`: all of them,
        or, when any is missing from the file or differs in shape or dtype, none."""
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        prefix = os.fspath(save_path)
        data = _data_file(prefix)
        if data is None and os.path.isfile(prefix + ".index"):
            raise ValueError(f"'{prefix}' is a TensorFlow checkpoint; minigrad reads its own "
                             f"format: convert it first with `python -m minigrad.convert "
                             f"{prefix} NEW_PREFIX`")
        if data is None:
            raise ValueError("The passed save_path is not a valid checkpoint: " + prefix)
        _check_session(sess, self._var_list)
        path, stored = files.read_arrays(data, who="Saver.restore")
        _check_matches(path, stored, self._var_list)
        for name, var in self._var_list.items():
            var.load(stored[name], sess)


def _names(var_list):
    """{checkpoint name: Variable}, TF's op_list_to_dict: a list names each by its op name."""
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        items = []
        for v in var_list:
            _check_variable(v)
            items.append((v.op.name, v))
    named = {}
    for name, v in items:
        _check_variable(v)
        if name in named:
            raise ValueError(f"At least two variables have the same name: {name}")
        named[name] = v
    return named


def _check_variable(v):
    if not isinstance(v, Variable):
        raise TypeError(f"Saver: var_list holds {v!r}, not a variable (only tf.Variable and "
                        f"tf.get_variable results are saved)")


def _check_session(sess, var_list):
    from minigrad.compat.v1.session import Session
    if not isinstance(sess, Session):
        raise TypeError(f"'sess' must be a Session; {sess}")
    other = [n for n, v in var_list.items() if v.graph is not sess.graph]
    if other:
        raise ValueError(f"Saver: the variables {other} are not in the session's graph")


def _check_matches(path, stored, var_list):
    """Raise NotFoundError (a name missing, as TF) or InvalidArgumentError listing every
    difference between the file and the variables to restore; nothing is loaded before."""
    missing, problems = [], []
    for name, v in var_list.items():
        want = (v.dtype.np, tuple(v.shape.as_list()))
        if name not in stored:
            missing.append(f"{name}: in the graph {_desc(*want)}, missing from the checkpoint")
        elif (stored[name].dtype, stored[name].shape) != want:
            a = stored[name]
            problems.append(f"{name}: {_desc(a.dtype, a.shape)} in the checkpoint, "
                            f"{_desc(*want)} in the graph")
    if not (missing or problems):
        return
    lines = missing + problems
    unused = [f"{k} {_desc(a.dtype, a.shape)}" for k, a in stored.items() if k not in var_list]
    message = (f"Restoring from checkpoint failed: '{path}' does not match the variables to "
               f"restore ({len(lines)} difference(s)); no variable was changed:\n  " +
               "\n  ".join(lines))
    if unused:
        message += "\nIn the checkpoint, not restored:\n  " + "\n  ".join(unused)
    raise (NotFoundError if missing else InvalidArgumentError)(None, None, message)


def _desc(dtype, shape):
    return f"({np.dtype(dtype).name}, shape {tuple(shape)})"


# --- files ------------------------------------------------------------------------------------
def _data_file(prefix):
    """The minigrad data file of the checkpoint `prefix`, or None."""
    for path in (prefix + SUFFIX, prefix):
        if path.endswith(SUFFIX) and os.path.isfile(path):
            return path
    return None


def checkpoint_exists(checkpoint_prefix):
    """Whether a checkpoint (minigrad's `<prefix>.npz`, or TensorFlow's `<prefix>.index`) or a
    file named `checkpoint_prefix` exists."""
    prefix = os.fspath(checkpoint_prefix)
    return any(os.path.isfile(p) for p in (prefix + SUFFIX, prefix + ".index", prefix))


def remove_checkpoint(checkpoint_prefix):
    """Delete the data file of a checkpoint (what TF's remove_checkpoint does for its own)."""
    try:
        os.unlink(os.fspath(checkpoint_prefix) + SUFFIX)
    except OSError:
        pass                                  # TF logs and ignores a failed removal too


def _check_parent(folder, save_path):
    """TF's writer creates the checkpoint's directory, but not a missing parent of it."""
    if folder and not os.path.isdir(folder) and \
            not os.path.isdir(os.path.dirname(os.path.abspath(folder))):
        raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")


def _remove_stale_temps(save_path):
    """Temporaries of killed saves of this prefix at any step: a killed save of step k is not
    retried under the same name, so no later write of `<prefix>-<k>.npz` would find them."""
    folder, base = os.path.split(os.path.abspath(save_path))
    if os.path.isdir(folder):
        files.remove_stale_temps(folder, re.escape(base) + r"(-\d+)?" + re.escape(SUFFIX))


# --- the state file ---------------------------------------------------------------------------
class CheckpointState:
    """What `get_checkpoint_state` returns: TF's CheckpointState proto's two path fields."""

    def __init__(self, model_checkpoint_path="", all_model_checkpoint_paths=()):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)

    def __str__(self):
        return "".join(f'{k}: "{_escape(v)}"\n' for k, v in self._fields())

    __repr__ = __str__

    def _fields(self):
        return [("model_checkpoint_path", self.model_checkpoint_path)] + [
            ("all_model_checkpoint_paths", p) for p in self.all_model_checkpoint_paths]


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, save_relative_paths=False):
    """Write the state file `save_dir/checkpoint` atomically (TF's
    update_checkpoint_state_internal and generate_checkpoint_state_proto)."""
    state_file = os.path.join(save_dir, latest_filename or STATE_FILENAME)
    paths = list(all_model_checkpoint_paths or [])
    latest = model_checkpoint_path
    if save_relative_paths:
        latest = _relative(latest, save_dir)
        paths = [_relative(p, save_dir) for p in paths]
    if not paths or paths[-1] != latest:
        paths.append(latest)
    if not os.path.isabs(save_dir):
        latest = _relative_to(latest, save_dir)
        paths = [_relative_to(p, save_dir) for p in paths]
    if state_file == latest:
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for "
                           f"checkpoint state.  Please use a different save path.")
    text = str(CheckpointState(latest, paths)).encode("utf-8")
    files.write_atomically(state_file, lambda f: f.write(text))


def _relative(path, save_dir):
    return os.path.relpath(path, save_dir) if os.path.isabs(path) else path


def _relative_to(path, save_dir):
    # TF's os.path.relpath(p, save_dir) for a relative save_dir; '' is the working directory
    return path if os.path.isabs(path) else os.path.relpath(path, save_dir or os.curdir)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The state file of `checkpoint_dir` (paths joined to the directory when relative), or
    None when there is none or it cannot be parsed."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    state_file = os.path.join(checkpoint_dir, latest_filename or STATE_FILENAME)
    if not os.path.isfile(state_file):
        return None
    with open(state_file, "rb") as f:
        fields = _parse(f.read())
    if fields is None:
        return None                           # TF logs the parse error and ignores the file
    latest = (fields.get("model_checkpoint_path") or [""])[-1]
    if not latest:
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)
    join = lambda p: p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)   # noqa: E731
    return CheckpointState(join(latest), [join(p) for p in
                                          fields.get("all_model_checkpoint_paths", [])])


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The newest checkpoint's prefix from the directory's state file, if its files exist."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


_FIELD = re.compile(rb'\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*')


def _parse(data):
    """{field: [values]} of a text-format CheckpointState (string fields unescaped; numeric
    ones, the timestamps, skipped), or None if a line is not `name: value`."""
    fields = {}
    for line in data.splitlines():
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        m = _FIELD.fullmatch(line)
        if m is None:
            return None
        if m.group(2) is not None:
            value = codecs.escape_decode(m.group(2))[0].decode("utf-8")
            fields.setdefault(m.group(1).decode(), []).append(value)
    return fields


def _escape(text):
    """protobuf text_format's escaping of a string field as TF writes the state file (CEscape
    with as_utf8=True): quotes, backslashes, tab, newline and return; other text as it is."""
    return text.translate({9: r"\t", 10: r"\n", 13: r"\r", 34: r"\"", 39: r"\'",
                           92: "\\\\"})


__all__ = ["Saver", "latest_checkpoint", "get_checkpoint_state", "checkpoint_exists",
           "update_checkpoint_state", "remove_checkpoint", "CheckpointState"]
