"""`mg.train.Checkpoint`: save and restore Variables and optimizer state to one .npz file.

    ckpt = mg.train.Checkpoint(model=model, optimizer=opt, step=global_step)
    path = ckpt.save("ckpt/run1")            # -> 'ckpt/run1.npz'
    ckpt.restore(path)

Each array is stored under its attribute path from the keyword arguments: `model/layers/0/W`,
`optimizer/iterations`, `optimizer/slots/model/layers/0/W/m` (a slot is named by its variable's
path, so it finds its variable again in another process), `optimizer/state/beta1_power` (an
optimizer's other numpy-valued state), `optimizer/class`. The file is written atomically
(temporary file in the same directory, fsync, os.replace): a crash leaves the old checkpoint
whole, and the next save of the same path removes the temporary files killed saves left. It is
read with `allow_pickle=False`, checked against the objects in full before any value is assigned,
and refused with every difference listed when names or shapes disagree.

`write_arrays`, `read_arrays` and `write_atomically` are this file handling for the other
writers of minigrad checkpoints ({name: array} files, e.g. compat.v1's `tf.train.Saver`).
"""
import contextlib
import os
import re
import tempfile
import threading
import types

try:
    import fcntl
except ImportError:      # Windows: no stale-temp cleanup
    fcntl = None

import numpy as np

from minigrad.core import Tensor, Variable
from minigrad.train.optimizer import Optimizer

FORMAT_KEY = "_minigrad_checkpoint"
FORMAT_VERSION = 1


class Checkpoint:
    """Groups Variables, optimizers and objects holding them (by attribute, list, dict)."""

    def __init__(self, **objects):
        if not objects:
            raise ValueError("Checkpoint: give the objects to save as keywords, e.g. "
                             "Checkpoint(model=model, optimizer=opt)")
        self._objects = objects

    def save(self, path):
        """Write every variable and optimizer slot to `path` (.npz added if missing)."""
        path = _npz_path(path)
        write_arrays(path, _state(self._objects))
        return path

    def restore(self, path):
        """Load `path` into the objects: all of it, or (on any mismatch) nothing at all."""
        path = _existing(path)
        stored = _read(path)
        variables, optimizers = _track(self._objects)
        problems = _compare(stored, variables, optimizers)
        if problems:
            raise ValueError(f"Checkpoint.restore: '{path}' does not match the objects "
                             f"({len(problems)} difference(s)):\n  " + "\n  ".join(problems))
        _assign(stored, variables, optimizers)
        return self


# --- what is saved: paths to Variables and optimizers -------------------------------------------
def _track(objects):
    """({path: Variable}, {path: Optimizer}), walking attributes, lists and dicts in order.

    A Variable reached by two paths is kept under the first; cycles are walked once."""
    variables, optimizers, seen = {}, {}, {}
    stack = [(str(k), v) for k, v in reversed(list(objects.items()))]
    while stack:
        path, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        if isinstance(obj, Variable):
            variables[path] = obj
        elif isinstance(obj, Optimizer):
            optimizers[path] = obj
        elif isinstance(obj, Tensor):
            raise TypeError(f"Checkpoint: '{path}' is a Tensor, which never changes; only "
                            f"Variables (and optimizers) are saved")
        else:
            stack.extend(reversed([(f"{path}/{k}", v) for k, v in _children(obj)]))
    return variables, optimizers


def _children(obj):
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items()]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return [(k, v) for k, v in vars(obj).items() if _may_hold_state(v)]
    return []


_NOT_STATE = (type, types.ModuleType, types.FunctionType, types.MethodType,
              types.BuiltinFunctionType)


def _may_hold_state(v):
    return isinstance(v, (Tensor, Optimizer, list, tuple, dict)) or (
        hasattr(v, "__dict__") and not isinstance(v, _NOT_STATE))


def _state(objects):
    variables, optimizers = _track(objects)
    arrays = {path: v._value for path, v in variables.items()}
    path_of = {v._id: path for path, v in variables.items()}
    for opath, opt in optimizers.items():
        arrays[f"{opath}/class"] = np.array(type(opt).__name__)
        arrays[f"{opath}/iterations"] = np.array(opt.iterations, np.int64)
        arrays.update((f"{opath}/state/{k}", np.asarray(v)) for k, v in _extra_state(opt))
        for vid, slots in opt._slots.items():
            var = opt._vars[vid]
            if vid not in path_of:
                raise ValueError(f"Checkpoint.save: optimizer '{opath}' has slots for variable "
                                 f"'{var.name}', which is not in this checkpoint; add the model "
                                 f"or the variable: Checkpoint({opath}=..., model=...)")
            for slot, arr in slots.items():
                arrays[f"{opath}/slots/{path_of[vid]}/{slot}"] = arr.reshape(var._value.shape)
    return arrays


def _extra_state(opt):
    """An optimizer's numpy-valued state besides its slots (TF1 Adam's beta powers)."""
    return [(k, v) for k, v in vars(opt).items()
            if isinstance(v, (np.generic, np.ndarray)) and not k.startswith("_")]


# --- checking a file against the objects ------------------------------------------------------
def _compare(stored, variables, optimizers):
    """Every difference between the file and the objects, one line each."""
    problems = []
    expected = {p: v._value for p, v in variables.items()}
    expected.update((f"{p}/iterations", np.array(0, np.int64)) for p in optimizers)
    for key, value in expected.items():
        if key not in stored:
            problems.append(f"{key}: in the objects {_desc(value)}, missing from the file")
        elif stored[key].shape != value.shape or stored[key].dtype != value.dtype:
            problems.append(f"{key}: {_desc(stored[key])} in the file, {_desc(value)} in "
                            f"the objects")
    for opath, opt in optimizers.items():
        problems += _check_class(opath, opt, stored)
    checked = {f"{p}/class" for p in optimizers} | {FORMAT_KEY} | set(expected)
    for key in sorted(stored):
        if _slot_owner(key, optimizers):
            problems += _check_slot(key, stored[key], variables, optimizers)
        elif _state_owner(key, optimizers):
            problems += _check_state(key, stored[key], optimizers)
        elif key not in checked:
            problems.append(f"{key}: in the file {_desc(stored[key])}, not in the objects")
    return problems


def _slot_owner(key, optimizers):
    return next((p for p in optimizers if key.startswith(f"{p}/slots/")), None)


def _state_owner(key, optimizers):
    return next((p for p in optimizers if key.startswith(f"{p}/state/")), None)


def _check_class(opath, opt, stored):
    key = f"{opath}/class"
    if key not in stored:
        return [f"{key}: optimizer {type(opt).__name__} in the objects, missing from the file"]
    saved = str(stored[key])
    if saved != type(opt).__name__:
        return [f"{key}: {saved} in the file, {type(opt).__name__} in the objects"]
    return []


def _check_state(key, value, optimizers):
    opath = _state_owner(key, optimizers)
    attr, opt = key[len(opath) + len("/state/"):], optimizers[opath]
    current = getattr(opt, attr, _MISSING)
    if current is _MISSING:
        return [f"{key}: in the file, but {type(opt).__name__} '{opath}' has no '{attr}'"]
    if current is not None and np.shape(current) != value.shape:
        return [f"{key}: shape {value.shape} in the file, {np.shape(current)} in the objects"]
    return []


_MISSING = object()


def _check_slot(key, value, variables, optimizers):
    opath = _slot_owner(key, optimizers)
    var_path, _, slot = key[len(opath) + len("/slots/"):].rpartition("/")
    opt = optimizers[opath]
    if slot not in opt.slot_names:
        return [f"{key}: slot '{slot}' in the file, but {type(opt).__name__} '{opath}' has "
                f"slots {list(opt.slot_names)}"]
    if var_path not in variables:
        return [f"{key}: a slot for variable '{var_path}', which is not in the objects"]
    if value.shape != variables[var_path]._value.shape:
        return [f"{key}: shape {value.shape} in the file, variable '{var_path}' has shape "
                f"{variables[var_path]._value.shape}"]
    return []


def _desc(a):
    return f"({a.dtype}, shape {a.shape})"


# --- applying a checked file ----------------------------------------------------------------
def _assign(stored, variables, optimizers):
    for path, var in variables.items():
        var.assign(stored[path])
    for opath, opt in optimizers.items():
        opt.iterations = int(stored[f"{opath}/iterations"])
        _assign_state(opt, opath, stored)
        slots = {}
        for key in sorted(k for k in stored if k.startswith(f"{opath}/slots/")):
            var_path, _, slot = key[len(opath) + len("/slots/"):].rpartition("/")
            var = variables[var_path]
            slots.setdefault(var._id, (var, {}))[1][slot] = np.ascontiguousarray(
                stored[key], dtype=var._value.dtype).reshape(-1).copy()
        # NOTE: the file's state replaces the optimizer's: slots it does not hold start fresh
        opt._slots = {vid: {s: d[s] for s in opt.slot_names if s in d}
                      for vid, (_, d) in slots.items()}
        opt._vars = {vid: var for vid, (var, _) in slots.items()}


def _assign_state(opt, opath, stored):
    """The file's extra state; state the file lacks was not started yet (None) when saved."""
    for attr, _ in _extra_state(opt):
        setattr(opt, attr, None)
    prefix = f"{opath}/state/"
    for key in (k for k in stored if k.startswith(prefix)):
        value = stored[key]
        setattr(opt, key[len(prefix):], value[()] if value.ndim == 0 else value.copy())


# --- files ----------------------------------------------------------------------------------
def write_arrays(path, arrays):
    """Write {name: array} to the .npz file `path` as a minigrad checkpoint, atomically;
    names starting with '_' are reserved for the format."""
    arrays = {FORMAT_KEY: np.array(FORMAT_VERSION), **arrays}
    write_atomically(path, lambda f: np.savez(f, **arrays))


def read_arrays(path, who="Checkpoint.restore"):
    """(file path, {name: array}) of the minigrad checkpoint `path` (.npz added if missing),
    read in full, without the format's entry; `who` begins the error messages (a missing,
    corrupt or foreign file)."""
    path = _existing(path, who)
    stored = _read(path, who)
    del stored[FORMAT_KEY]
    return path, stored


def _npz_path(path):
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def _existing(path, who="Checkpoint.restore"):
    path = os.fspath(path)
    for candidate in (path, _npz_path(path)):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"{who}: no checkpoint file '{path}'")


def write_atomically(path, write):
    """Create or replace the file `path` with what `write(f)` writes to the binary file `f`:
    a crash at any moment leaves the old file whole, or the new one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temps(path)
    f, tmp = _locked_temp(folder, os.path.basename(path))
    try:
        _write_and_rename(f, tmp, path, write)
    finally:
        f.close()                           # releases the lock, after the rename or removal
        with _WRITING_LOCK:
            _WRITING.discard(tmp)
    _fsync_dir(folder)


def _write_and_rename(f, tmp, path, write):
    try:
        write(f)
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- temporary files left by a killed save ---------------------------------------------------
# A writer holds an exclusive flock on its temporary file from creation to the rename, so a
# temp file that can be locked has no live writer (the kernel drops the lock of a dead process),
# across processes, threads (each open() is its own lock) and PID namespaces, with no pid reuse
# to fool it. _WRITING also covers this process's threads where flock is per process (NFS).
_WRITING, _WRITING_LOCK = set(), threading.Lock()


def _temp_pattern(name_regex):
    """Exactly the names mkstemp gives the temporaries of the files whose names fully match
    `name_regex`: the random part has no dot, so another file's (whose name starts with a
    matching name + '.') never matches."""
    return re.compile(r"\." + name_regex + r"\.[A-Za-z0-9_]+" + re.escape(".tmp"))


def _locked_temp(folder, basename):
    """(open file, path) of a new temporary file, created and flock-ed by this thread."""
    while True:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{basename}.", suffix=".tmp")
        with _WRITING_LOCK:
            _WRITING.add(tmp)
        f = os.fdopen(fd, "wb")
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        if _same_file(f.fileno(), tmp):
            return f, tmp
        # a cleaner took the file in the instant between mkstemp and flock: take another
        f.close()
        with _WRITING_LOCK:
            _WRITING.discard(tmp)


def _same_file(fd, path):
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _remove_stale_temps(path):
    """Delete the temporaries of `path` whose writer is gone (killed mid-save)."""
    folder, basename = os.path.split(os.path.abspath(path))
    remove_stale_temps(folder, re.escape(basename))


def remove_stale_temps(folder, name_regex):
    """Delete the temporaries whose writer is gone (killed mid-save) of the files in `folder`
    whose names fully match the regular expression `name_regex` (a family of checkpoints,
    e.g. one per step, whose killed saves are not retried under the same name)."""
    if fcntl is None:
        return                              # no flock (Windows): leave them rather than guess
    pattern = _temp_pattern(name_regex)
    for name in os.listdir(folder):
        if pattern.fullmatch(name):
            _remove_if_unlocked(os.path.join(folder, name))


def _remove_if_unlocked(tmp):
    with _WRITING_LOCK:
        if tmp in _WRITING:
            return
    try:
        fd = os.open(tmp, os.O_RDWR)        # RDWR: flock emulated by fcntl locks (NFS) needs it
    except OSError:                         # renamed or removed meanwhile, or not ours
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if _same_file(fd, tmp):             # unlinked by the name we locked, not a newer file
            os.unlink(tmp)
    except OSError:                         # locked: a live writer; or gone meanwhile
        pass
    finally:
        os.close(fd)


def _fsync_dir(folder):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(path, who="Checkpoint.restore"):
    """Every array of the file, read in full (so a damaged member fails here, not later)."""
    try:
        f = np.load(path, allow_pickle=False)
        if not isinstance(f, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with f:
            stored = {k: f[k] for k in f.files}
    except Exception as e:    # any parse failure (zip, CRC, header, pickle refused) means the same
        raise ValueError(f"{who}: '{path}' is not a readable checkpoint (corrupt "
                         f"or truncated .npz file): {type(e).__name__}: {e}") from e
    if FORMAT_KEY not in stored:
        raise ValueError(f"{who}: '{path}' is an .npz file but not a minigrad "
                         f"checkpoint (no '{FORMAT_KEY}' entry)")
    return stored
