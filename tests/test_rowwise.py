"""The numpy fast paths for channel vectors (kernels/rowwise.py) against plain numpy."""
import numpy as np
import pytest

from minigrad.kernels.rowwise import add_row_vector, sum_rows
from minigrad.core.backward import unbroadcast


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), (100, 28, 28, 8), (7, 9, 16), (50, 33), (2048, 3)])
def test_add_row_vector_is_numpy_broadcast_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[-1]).astype(dtype)
    y = add_row_vector(x, b)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.array_equal(y, x + b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 511, 512, 78400])
def test_sum_rows_matches_numpy(rows, dtype):
    rng = np.random.default_rng(1)
    g = rng.standard_normal((rows, 8)).astype(dtype)
    s = sum_rows(g)
    exact = g.astype(np.float64).sum(axis=0)
    assert s.dtype == dtype and s.shape == (8,)
    tol = 1e-12 if dtype == np.float64 else 2e-6 * np.sqrt(rows)
    np.testing.assert_allclose(s, exact, rtol=0, atol=tol * np.abs(g).sum(axis=0).max())
    assert np.array_equal(s, sum_rows(g.copy()))          # same bits every call


@pytest.mark.parametrize("gshape, shape", [((600, 3, 4), (4,)), ((600, 4), (1, 4)),
                                           ((600, 3, 4), (3, 4)), ((600, 3, 4), (600, 1, 4)),
                                           ((0, 4), (4,)), ((5, 4), (4,))])
def test_unbroadcast_fast_path(gshape, shape):
    rng = np.random.default_rng(2)
    g = rng.standard_normal(gshape)
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and gshape[lead + i] != 1)
    want = g.sum(axis=axes, keepdims=True).reshape(shape)
    got = unbroadcast(g, shape)
    assert got.shape == shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
