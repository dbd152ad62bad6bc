"""Splitting a kernel's work by images over Python threads, without changing its results.

The kernels release the GIL (numba's nogil), so chunks of images run in parallel on a small
pool of Python threads beside the caller. numba's own thread pool (parallel=True) is not used:
its workers spin-wait beside OpenBLAS's on 2 cores (see conv.py). Chunks write disjoint
outputs, and how the work is cut depends on the shapes and the thread count only as to speed:
every result is the same for any number of threads.
"""
import itertools
import os
import threading

import numba

from minigrad.kernels.blas import pool_started

_THREADS = [None]
_pool = []
_pool_lock = threading.Lock()


def threads():
    """How many parts a kernel's images are split into at most: the CPUs this process may
    run on, at most numba's NUMBA_NUM_THREADS (and 8), or what set_threads chose."""
    if _THREADS[0] is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count() or 1
        _THREADS[0] = max(1, min(cpus, numba.config.NUMBA_NUM_THREADS, 8))
    return _THREADS[0]


def set_threads(n=None):
    """Split the kernels' work into at most n parts (None: as many as there are CPUs). Only
    the speed changes: every kernel's results are the same for any n."""
    _THREADS[0] = None if n is None else max(1, int(n))


class _Chunks:
    """fn(i) for i in range(n), each i taken by whichever thread asks next (the caller's and
    the pool's). The caller never waits for a pool thread to start: if none has by the time the
    caller ran out of chunks, the caller has done them all; it waits only for chunks already
    taken. So a pool thread the scheduler is slow to run (a busy machine) costs at most the
    chunk it holds, never a whole half of the work."""

    def __init__(self, fn, n):
        self.fn, self.n, self.left, self.error = fn, n, n, None
        self.taken = itertools.count()      # next() is atomic under the GIL
        self.cond = threading.Condition()

    def work(self):
        while True:
            i = next(self.taken)
            if i >= self.n:
                return
            try:
                self.fn(i)
            except BaseException as exc:    # handed to the caller by wait()
                self.error = exc
            finally:
                with self.cond:
                    self.left -= 1
                    if not self.left:
                        self.cond.notify_all()

    def wait(self):
        with self.cond:
            while self.left:
                self.cond.wait()
        if self.error is not None:
            raise self.error


def run(fn, n):
    """fn(i) for every chunk i in range(n), on up to threads() threads; returns when all are
    done. Which thread runs a chunk never changes a result: chunks write disjoint outputs."""
    helpers = min(threads(), n) - 1
    if helpers <= 0:
        for i in range(n):
            fn(i)
        return
    with _pool_lock:
        if not _pool:
            from concurrent.futures import ThreadPoolExecutor
            _pool.append(ThreadPoolExecutor(max(1, threads() - 1),
                                            thread_name_prefix="minigrad-conv"))
    pool_started()              # small BLAS products now go to one thread (kernels.blas)
    chunks = _Chunks(fn, n)
    for _ in range(helpers):
        _pool[0].submit(chunks.work)
    chunks.work()
    chunks.wait()


CHUNK_FLOPS = 2e6           # the least work worth a chunk (a chunk costs ~10 us of Python)


def chunks(n, flops, least=CHUNK_FLOPS):
    """Image ranges [(lo, hi)] to hand out: about 4 per thread, none under `least` of the
    `flops` (or any other measure of work) that all n images take."""
    if threads() == 1:
        return [(0, n)]
    c = int(max(1, min(n, 4 * threads(), flops // least)))
    return [(n * i // c, n * (i + 1) // c) for i in range(c)]
