"""A disk cache for generated data sets: arrays made once, then read back in milliseconds.

    images, labels = cached("mnist-synthetic", {"n": n, "seed": seed}, __file__, make)

Directory: ``$MINIGRAD_DATA_CACHE_DIR``, else ``$XDG_CACHE_HOME/minigrad/data``, else
``~/.cache/minigrad/data``; ``MINIGRAD_DATA_CACHE_DIR=off`` turns the cache off.

A file is a magic line, a JSON header line (the key, each array's dtype and shape, the payload's
length and CRC-32), then the arrays' bytes. The key holds the caller's parameters, numpy's
version (a Generator's streams may change between versions) and a digest of the generator's
source file, so an edited generator never reads its old output. Files are written to a
temporary name and renamed into place, so a reader never sees half a file; a file whose magic,
header, key, length or checksum is wrong is ignored and replaced. A cache that cannot be
written (read-only home) only costs the generation, every time.
"""
import hashlib
import json
import os
import tempfile
import zlib

import numpy as np

MAGIC = b"minigrad generated data v1\n"


def cache_dir():
    """The directory, or None when the cache is off."""
    d = os.environ.get("MINIGRAD_DATA_CACHE_DIR")
    if d:
        return None if d.lower() == "off" else d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigrad", "data")


def cached(name, params, source, make):
    """make()'s tuple of arrays, read from the cache when a good file for this key is there,
    else made and written (best effort)."""
    d = cache_dir()
    if d is None:
        return make()
    with open(source, "rb") as f:
        code = hashlib.sha256(f.read()).hexdigest()[:16]
    key = {"name": name, **params, "numpy": np.__version__, "source": code}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    path = os.path.join(d, f"{name}-{digest}.bin")
    arrays = read(path, key)
    if arrays is None:
        arrays = make()
        try:
            write(path, key, arrays)
        except OSError:
            pass
    return arrays


def write(path, key, arrays):
    """The arrays under `path`, atomically: a temporary file beside it, renamed when whole."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    crc = 0
    for a in arrays:
        crc = zlib.crc32(a.data.cast("B"), crc)
    header = {"key": key, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays],
              "nbytes": sum(a.nbytes for a in arrays), "crc32": crc}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + json.dumps(header).encode() + b"\n")
            for a in arrays:
                f.write(a.data.cast("B"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read(path, key):
    """The arrays stored under `path` for `key` (writeable), or None when there is no such
    file or it is not whole and correct."""
    try:
        with open(path, "rb") as f:
            if f.readline(len(MAGIC)) != MAGIC:
                return None
            header = json.loads(f.readline(1 << 16))
            nbytes = header["nbytes"]
            if header["key"] != key or os.fstat(f.fileno()).st_size - f.tell() != nbytes:
                return None
            buf = bytearray(nbytes)
            if f.readinto(buf) != nbytes:
                return None
        if zlib.crc32(buf) != header["crc32"]:
            return None
        return _views(buf, header["arrays"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _views(buf, specs):
    """The arrays `specs` ([dtype, shape] each) lay out back to back in `buf`."""
    out, offset = [], 0
    for dtype, shape in specs:
        a = np.frombuffer(buf, np.dtype(dtype), int(np.prod(shape, dtype=np.int64)), offset)
        out.append(a.reshape(shape))
        offset += a.nbytes
    if offset != len(buf):
        raise ValueError(f"the arrays take {offset} bytes of {len(buf)}")
    return tuple(out)
