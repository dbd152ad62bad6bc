"""Where generated step modules live: a file per module, named by the hash of its source, so
that numba's cache=True (which keys on a function's source file) works across processes.

Directory: MINIGRAD_JIT_CACHE_DIR, else $XDG_CACHE_HOME/minigrad/jit, else ~/.cache/minigrad/jit.
numba writes its cache files next to the module (__pycache__), or under NUMBA_CACHE_DIR when
that is set. A directory that cannot be written costs one warning; the modules then go to a
temporary directory of this process (compiled once per process).
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings

import numba

from minigrad.jit.ir import JitWarning

_dir = []
_stamp = []


def stamp():
    """A hash of what generated code calls but does not contain: the runtime helpers, the
    optimizer kernels, numba's version (part of every module's header, so a change to any of
    them gives new modules and a fresh numba cache)."""
    if not _stamp:
        from minigrad.jit import runtime
        from minigrad.kernels import _cache
        h = hashlib.sha256(numba.__version__.encode())
        with open(runtime.__file__, "rb") as f:
            h.update(f.read())
        kernels = os.path.dirname(_cache.__file__)
        with open(os.path.join(kernels, "optim.py"), "rb") as f:
            h.update(f.read())
        _stamp.append(h.hexdigest()[:16])
    return _stamp[0]


def directory():
    if _dir:
        return _dir[0]
    base = os.environ.get("MINIGRAD_JIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "minigrad", "jit")
    try:
        os.makedirs(base, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=base, prefix=".probe-", delete=True)
        probe.close()
    except OSError as e:
        fallback = tempfile.mkdtemp(prefix="minigrad-jit-")
        warnings.warn(f"minigrad.jit: the cache directory {base} is not writable ({e}); "
                      f"compiled steps go to {fallback} and are compiled again in each "
                      f"process: set MINIGRAD_JIT_CACHE_DIR to a writable directory",
                      JitWarning, stacklevel=4)
        base = fallback
    _dir.append(base)
    return base


def load(source):
    """Import `source` as a module from the cache directory (written there first if new)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    name = f"minigrad_jit_{digest}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    path = os.path.join(directory(), name + ".py")
    if not _same_file(path, source):
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def compile_function(fn, signature):
    """Compile numba dispatcher `fn` for `signature`, loading numba's cache when it holds it.
    An unreadable cache entry costs one JitWarning and a fresh compile (cached again when the
    cache can be written); the dispatcher that compiled is returned. Other errors propagate."""
    try:
        fn.compile(signature)
        return fn
    except Exception as first:
        if getattr(fn, "_cache", None) is None or type(fn._cache).__name__ == "NullCache":
            raise
        try:
            fn._cache.flush()             # an empty index: the compile writes a good entry
            fn.compile(signature)
            fixed = "compiled again and cached"
        except Exception:
            fn = numba.njit(error_model="numpy", nogil=True)(fn.py_func)
            try:
                fn.compile(signature)
            except Exception:
                raise first from None
            fixed = "compiled without it"
        warnings.warn(f"minigrad.jit: numba's cache of {fn.py_func.__module__} could not be "
                      f"read ({type(first).__name__}: {first}); {fixed}", JitWarning,
                      stacklevel=4)
        return fn


def _same_file(path, source):
    try:
        with open(path) as f:
            return f.read() == source
    except OSError:
        return False
