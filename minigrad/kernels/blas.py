"""numpy's BLAS products as minigrad calls them: small ones on one thread once minigrad's kernel
threads are in use, on numpy's BLAS's own threads otherwise.

Why: after a threaded product OpenBLAS's idle threads spin-wait for the next one (OpenBLAS's
THREAD_TIMEOUT: busy polling for a while) before they sleep. On a machine with few cores they
then take the cores from minigrad's own kernel threads (minigrad.kernels._threads): the MNIST
CNN's step (direct convolutions and max pooling on two threads, three 100x784x64 dense products
through BLAS) took 10.5 ms that way and 6.9 ms with the products on one thread, although each
product alone is faster on two (65 against 104 us). A product run on one thread wakes none of
them. So `matmul` runs a product of under SMALL multiply-adds on one thread once minigrad's
kernel pool has started in this process (the first convolution or pooling big enough to split);
larger products, where BLAS's threads pay (a 64x384x4352 product: 1.2 against 2.4 ms), and every
product of a process that never starts the pool (the recurrent models) keep BLAS's threads.

It is a switch, not a timer, because the thread count changes the bits: OpenBLAS sums a small
product in another order on one thread than on two (its small-matrix kernels; float32 results
differ in the last bits). A timer would make a step's numbers depend on how fast the step ran;
the switch makes them depend on the program alone.

Only OpenBLAS is handled (numpy's wheels bundle it as scipy_openblas, symbols with a "scipy_"
prefix and a "64_" suffix; a system OpenBLAS has the plain names). With another BLAS (MKL,
Accelerate) or none found, `blas_threads()` is None and `one_blas_thread` does nothing.
"""
import contextlib
import ctypes
import glob
import os
import threading

import numpy as np

_NAMES = (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
          ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
          ("openblas_get_num_threads", "openblas_set_num_threads"))
_api = []               # [(get, set)] or [None], found on first use
_lock = threading.Lock()
_depth = [0, None]      # nested one_blas_thread blocks (all threads), the count to restore

SMALL = 1 << 24         # multiply-adds: a product below this runs on one thread beside the pool
_pool_started = [False]


def pool_started():
    """minigrad.kernels._threads calls this when its pool runs chunks: from then on small
    products run on one BLAS thread."""
    _pool_started[0] = True


def matmul(a, b, out=None):
    """np.matmul(a, b), on one BLAS thread when it is small and minigrad's kernel pool has
    started (see the module docstring)."""
    if _pool_started[0] and a.size * (b.shape[-1] if b.ndim else 1) < SMALL:
        with one_blas_thread():
            return np.matmul(a, b, out=out)
    return np.matmul(a, b, out=out)


def _candidates():
    """Paths of the OpenBLAS libraries this process has loaded (numpy's first)."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "openblas" in os.path.basename(path) and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/*openblas*", "numpy/.dylibs/*openblas*"):
        paths += sorted(p for p in glob.glob(os.path.join(root, pattern)) if p not in paths)
    return paths


def _find():
    if not _api:
        found = None
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get_name, set_name in _NAMES:
                if hasattr(lib, get_name) and hasattr(lib, set_name):
                    get, put = getattr(lib, get_name), getattr(lib, set_name)
                    get.restype, get.argtypes = ctypes.c_int, []
                    put.restype, put.argtypes = None, [ctypes.c_int]
                    found = (get, put)
                    break
            if found:
                break
        _api.append(found)
    return _api[0]


def blas_threads():
    """The thread count numpy's OpenBLAS will use, or None when it cannot be told."""
    api = _find()
    return None if api is None else int(api[0]())


def set_blas_threads(n):
    """Make numpy's OpenBLAS use n threads (no effect when it cannot be told)."""
    api = _find()
    if api is not None:
        api[1](max(1, int(n)))


@contextlib.contextmanager
def one_blas_thread():
    """numpy's OpenBLAS on one thread inside the block, its count restored after the outermost
    block ends (blocks may nest and overlap across threads: the count is process-wide)."""
    with _lock:
        if _depth[0] == 0:
            _depth[1] = blas_threads()
            if _depth[1] not in (None, 1):
                set_blas_threads(1)
        _depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            if _depth[0] == 0 and _depth[1] not in (None, 1):
                set_blas_threads(_depth[1])
