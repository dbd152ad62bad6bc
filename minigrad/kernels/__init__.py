"""numba kernels: pure functions on ndarrays that know nothing of the graph.

The ops reach them through `lazy(name)`, so `import minigrad` does not import numba (about a
second); the first op that needs a kernel pays for it, and numba's on-disk cache makes the
compilation itself a one-time cost. A damaged or unwritable cache costs a recompile and one
KernelCacheWarning, never a crash (minigrad.kernels._cache, installed by `_CacheGuardHook`).
Importing the package also keeps freed large blocks in the process (minigrad.kernels.memory).
"""
import importlib
import sys

from minigrad.kernels.memory import keep_freed_memory

# Kernel modules that `import minigrad` itself loads: plain numpy, so importing them must not
# install the cache guard, which imports numba.
_NUMBA_FREE = frozenset({"_cache", "rowwise", "blas", "memory"})


class KernelCacheWarning(RuntimeWarning):
    """numba's on-disk cache of a kernel could not be read or written: it was recompiled."""


class _LazyModule:
    """Stands in for minigrad.kernels.<name> until an attribute is first asked for."""

    def __init__(self, name):
        self._name = f"{__name__}.{name}"

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        self.__dict__.update(module.__dict__)     # later lookups skip __getattr__
        return getattr(module, attr)


def lazy(name):
    return _LazyModule(name)


class _CacheGuardHook:
    """An import hook that finds nothing: asked for a numba kernel module, by any route (lazy(),
    `from minigrad.kernels import x`, `import minigrad.kernels.x`), it first installs the cache
    guard, because numba picks a function's cache when its decorator runs, at import."""

    minigrad_kernels_guard = True

    @staticmethod
    def find_spec(name, path=None, target=None):
        package, _, module = name.rpartition(".")
        if package == __name__ and module not in _NUMBA_FREE:
            from minigrad.kernels import _cache
            _cache.install()
        return None


# first in line, so that it runs before the finder that loads the module; it stays there,
# a no-op once installed, since removing a finder while the import system loops over
# sys.meta_path would make that loop skip the next finder
if not any(getattr(f, "minigrad_kernels_guard", False) for f in sys.meta_path):
    sys.meta_path.insert(0, _CacheGuardHook)

# the steps' large temporaries are reused from the heap, not faulted in again each step
keep_freed_memory()
