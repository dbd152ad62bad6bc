"""Checkpoints from minigrad to TensorFlow and back, variable by variable, values exact.

    python -m minigrad.convert ckpt/model.ckpt-100 tf_ckpt/model.ckpt-100
    python -m minigrad.convert tf_ckpt/model.ckpt-100 ckpt/model.ckpt-100 --to minigrad

A minigrad checkpoint is `<prefix>.npz` as `tf.train.Saver` of minigrad.compat.v1 writes it:
one array per variable, under its TensorFlow name (mg.train.Checkpoint's files share the
format, with attribute paths for names; an optimizer's class name in them, a string, is not a
variable and is refused). A TensorFlow checkpoint is the name-based kind that
`tf.compat.v1.train.Saver` writes: `<prefix>.index` + `<prefix>.data-00000-of-00001`, read
with TensorFlow's own reader (`tf.train.load_checkpoint`) and written with its own writer (the
SaveV2 op the Saver runs), so `tf.compat.v1.train.Saver().restore(sess, prefix)` loads it into
the same program. Names, shapes and dtypes carry over unchanged; nothing is renamed. No
`checkpoint` state file is written: restore by the prefix.

SRC may be a prefix, a data file (`.npz`, `.index`, `.data-...`) or a directory (its latest
checkpoint, by its `checkpoint` state file); the direction is SRC's other format unless `--to`
says it. With `--like CKPT` (or `variables=` in Python) the source must hold exactly those
names with those shapes and dtypes. Any bad input (a missing file, a file of another format, a
damaged checkpoint, a mismatch) is refused with every difference listed before anything is
written; the output appears whole or not at all (temporary files, then renames).

TensorFlow is imported only here, only to read or write its format: `pip install minigrad[tf]`.
"""
import argparse
import contextlib
import os
import re
import shutil
import sys
import tempfile

import numpy as np

from minigrad.train import checkpoint as files

MINIGRAD, TENSORFLOW = "minigrad", "tensorflow"
_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}$")
_OBJECT_GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"


class ConversionError(ValueError):
    """Bad input to convert: nothing was written."""


def convert(src, dst, to=None, variables=None):
    """Convert the checkpoint `src` into `dst` (a prefix) in the other format (or `to`).

    variables: None, or what the source must hold exactly: a list of variables of either
    engine (named by their op names) or a dict {name: variable or array}. Returns the path
    written (minigrad: `dst.npz`; TensorFlow: the prefix `dst`)."""
    fmt, path = detect(src)
    to = to or (TENSORFLOW if fmt == MINIGRAD else MINIGRAD)
    if to not in (MINIGRAD, TENSORFLOW):
        raise ConversionError(f"convert: unknown format {to!r}: 'tensorflow' or 'minigrad'")
    if to == fmt:
        raise ConversionError(f"convert: '{src}' is already a {fmt} checkpoint")
    arrays = read_minigrad(path) if fmt == MINIGRAD else read_tensorflow(path)
    _check_storable(src, arrays, to)
    if variables is not None:
        check_names(src, arrays, _specs(variables))
    if to == MINIGRAD:
        out = _minigrad_path(dst)
        files.write_arrays(out, arrays)
        return out
    return write_tensorflow(_tensorflow_prefix(dst), arrays)


# --- telling the formats apart (without TensorFlow) -------------------------------------------
def detect(src):
    """(format, path): ('minigrad', the .npz file) or ('tensorflow', the prefix)."""
    src = os.fspath(src)
    if os.path.isdir(src):
        return detect(_latest_in(src))
    if src.endswith(".index"):
        src = src[:-len(".index")]
    src = _DATA_SHARD.sub("", src)
    if os.path.isfile(src + ".index"):
        return TENSORFLOW, src
    for path in (src, src + ".npz"):
        if path.endswith(".npz") and os.path.isfile(path):
            return MINIGRAD, path
    if os.path.exists(src):
        raise ConversionError(
            f"convert: '{src}' is neither a minigrad checkpoint (an .npz file) nor a "
            f"TensorFlow checkpoint (a prefix with its .index and .data-* files)")
    raise FileNotFoundError(f"convert: no checkpoint '{src}' (looked for '{src}.npz' and "
                            f"'{src}.index')")


def _latest_in(folder):
    from minigrad.compat.v1.saver import latest_checkpoint
    latest = latest_checkpoint(folder)
    if latest is None:
        raise FileNotFoundError(f"convert: the directory '{folder}' has no 'checkpoint' state "
                                f"file naming an existing checkpoint; give the checkpoint's "
                                f"prefix")
    return latest


def _minigrad_path(dst):
    dst = os.fspath(dst)
    return dst if dst.endswith(".npz") else dst + ".npz"


def _tensorflow_prefix(dst):
    dst = os.fspath(dst)
    if dst.endswith(".npz"):
        raise ConversionError(f"convert: '{dst}' names a minigrad file; a TensorFlow checkpoint "
                              f"is named by its prefix (files PREFIX.index, PREFIX.data-*)")
    return dst[:-len(".index")] if dst.endswith(".index") else dst


# --- reading --------------------------------------------------------------------------------
def read_minigrad(path):
    return files.read_arrays(path, who="convert")[1]


def read_tensorflow(prefix):
    """{name: array} of every entry of a name-based TensorFlow checkpoint."""
    tf = import_tf()
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = sorted(reader.get_variable_to_dtype_map())
        if _OBJECT_GRAPH in names:
            raise ConversionError(
                f"convert: '{prefix}' is an object-based TensorFlow checkpoint "
                f"(tf.train.Checkpoint, Keras); convert reads the name-based ones that "
                f"tf.compat.v1.train.Saver writes")
        return {n: np.asarray(reader.get_tensor(n)) for n in names}
    except ConversionError:
        raise
    except Exception as e:       # TF's DataLossError, NotFoundError, ... all mean the same here
        raise ConversionError(f"convert: '{prefix}' is not a readable TensorFlow checkpoint "
                              f"(damaged or incomplete): {type(e).__name__}: {e}") from e


_NUMERIC = {np.dtype(t) for t in ("bool", "int8", "int16", "int32", "int64", "uint8",
                                  "uint16", "uint32", "uint64", "float16", "float32",
                                  "float64", "complex64", "complex128")}


def _check_storable(src, arrays, to):
    if not arrays:
        raise ConversionError(f"convert: '{src}' holds no variables")
    bad = [f"{k} ({a.dtype})" for k, a in arrays.items() if a.dtype not in _NUMERIC]
    if bad:
        raise ConversionError(f"convert: '{src}' has entries a {to} checkpoint of variables "
                              f"cannot hold (only numeric and bool arrays): " + ", ".join(bad))


# --- checking names against a program --------------------------------------------------------
def _specs(variables):
    """{name: (shape, numpy dtype)} of a list of variables or a dict of variables/arrays."""
    items = variables.items() if isinstance(variables, dict) else \
        [(v.op.name, v) for v in variables]
    return {name: _spec(v) for name, v in items}


def _spec(v):
    if hasattr(v, "op") and hasattr(v, "shape"):             # a variable of either engine
        dtype = getattr(v.dtype, "base_dtype", v.dtype)
        return tuple(v.shape.as_list()), np.dtype(dtype.as_numpy_dtype)
    a = np.asarray(v)
    return a.shape, a.dtype


def check_names(src, arrays, specs):
    """Raise listing every difference between the checkpoint's entries and `specs`."""
    lines = []
    for name, (shape, dtype) in specs.items():
        if name not in arrays:
            lines.append(f"{name}: in the program {_desc(dtype, shape)}, missing from the "
                         f"checkpoint")
        elif (arrays[name].shape, arrays[name].dtype) != (tuple(shape), dtype):
            a = arrays[name]
            lines.append(f"{name}: {_desc(a.dtype, a.shape)} in the checkpoint, "
                         f"{_desc(dtype, shape)} in the program")
    lines += [f"{name}: in the checkpoint {_desc(a.dtype, a.shape)}, not in the program"
              for name, a in arrays.items() if name not in specs]
    if lines:
        raise ConversionError(f"convert: '{src}' does not match the program's variables "
                              f"({len(lines)} difference(s)); nothing written:\n  " +
                              "\n  ".join(lines))


def _desc(dtype, shape):
    return f"({np.dtype(dtype).name}, shape {tuple(shape)})"


# --- writing TensorFlow's format ------------------------------------------------------------
def write_tensorflow(prefix, arrays):
    """Write `arrays` as the TensorFlow checkpoint `prefix` with TF's SaveV2 op: first into a
    temporary directory beside it, then renamed into place (the .index last: it is what makes
    the prefix a checkpoint, and an old one is removed first, so no old index ever points
    into new data)."""
    tf = import_tf()
    folder, base = os.path.split(os.path.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    tmpdir = tempfile.mkdtemp(dir=folder, prefix=f".{base}.", suffix=".convert")
    try:
        tmp_prefix = os.path.join(tmpdir, "ckpt")
        _save_v2(tf, tmp_prefix, arrays)
        shards = sorted(n for n in os.listdir(tmpdir) if n.startswith("ckpt.data-"))
        for name in shards + ["ckpt.index"]:
            _fsync_file(os.path.join(tmpdir, name))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(prefix + ".index")
        for name in shards + ["ckpt.index"]:
            os.replace(os.path.join(tmpdir, name), prefix + name[len("ckpt"):])
        _fsync_file(folder)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return prefix


def _save_v2(tf, prefix, arrays):
    """TF's own writer, in a graph of its own (whatever mode the caller's TF is in); values
    are fed, not baked into the graph as constants."""
    names = list(arrays)
    with tf.Graph().as_default() as graph:
        inputs = [tf.compat.v1.placeholder(tf.as_dtype(arrays[n].dtype), arrays[n].shape)
                  for n in names]
        save = tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names,
                                 shape_and_slices=[""] * len(names), tensors=inputs)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(save, dict(zip(inputs, (arrays[n] for n in names))))


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:                 # a directory that cannot be synced: the rename still holds
        pass
    finally:
        os.close(fd)


def import_tf():
    """TensorFlow, or an error naming the extra that installs it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError("minigrad.convert: reading or writing a TensorFlow checkpoint needs "
                          "TensorFlow, which is not installed: pip install minigrad[tf]") from e
    return tf


# --- command line ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.convert",
        description="Convert a checkpoint between minigrad's format (PREFIX.npz, from "
                    "minigrad.compat.v1's tf.train.Saver) and TensorFlow's (PREFIX.index + "
                    "PREFIX.data-*, from tf.compat.v1.train.Saver).")
    parser.add_argument("src", help="checkpoint prefix, data file, or directory (its latest)")
    parser.add_argument("dst", help="prefix to write (minigrad: DST.npz)")
    parser.add_argument("--to", choices=[TENSORFLOW, MINIGRAD],
                        help="output format (default: the one SRC is not in)")
    parser.add_argument("--like", metavar="CKPT",
                        help="a checkpoint of the program (either format): SRC must hold "
                             "exactly its names, shapes and dtypes")
    args = parser.parse_args(argv)
    try:
        variables = None if args.like is None else _like(args.like)
        out = convert(args.src, args.dst, args.to, variables)
    except (ValueError, OSError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def _like(ckpt):
    """{name: array} of the --like checkpoint, its errors marked as --like's."""
    try:
        fmt, path = detect(ckpt)
        return read_minigrad(path) if fmt == MINIGRAD else read_tensorflow(path)
    except (ValueError, OSError) as e:
        raise type(e)(f"--like: {e}") from e


if __name__ == "__main__":
    sys.exit(main())
