"""numba kernels: pure functions on ndarrays that know nothing of the graph.

The ops reach them through `lazy(name)`, so `import minigrad` does not import numba (about a
second); the first op that needs a kernel pays for it, and numba's on-disk cache makes the
compilation itself a one-time cost.
"""
import importlib


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
