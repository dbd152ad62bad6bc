"""Scatter-add of rows: the gradient of a gather along axis 0 (an embedding lookup).

`np.add.at(out, ids, rows)` is the composite twin: same order of additions, same bits
(tests/test_kernels_gather.py); numpy runs it through its generic indexed-ufunc machinery,
about 20x slower than this loop for an embedding's [3584, 128] gradient. Serial, in k order:
float64 results are identical run to run.
"""
import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def _scatter_add(out, ids, rows):
    for k in range(ids.shape[0]):
        o, r = out[ids[k]], rows[k]
        for j in range(r.shape[0]):
            o[j] += r[j]


def scatter_add_rows(out, ids, rows):
    """out[ids[k]] += rows[k] for k in order; out [V, ...], ids [n] int in [0, V), rows [n, ...].

    The caller has range-checked ids (numba does not check bounds).
    """
    n = ids.shape[0]
    _scatter_add(out.reshape(out.shape[0], -1), np.ascontiguousarray(ids, np.int64),
                 np.ascontiguousarray(rows).reshape(n, -1))
