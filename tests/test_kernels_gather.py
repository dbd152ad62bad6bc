"""The scatter-add kernel (the gather gradient) against its composite twin, np.add.at."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.kernels.gather import scatter_add_rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(50, 4), (18000, 128), (7, 3, 2), (1, 1)])
def test_scatter_add_rows_is_np_add_at_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, shape[0], 3584 if shape[0] > 100 else 40)
    ids[:5] = 0                                       # repeated ids sum in order
    rows = rng.standard_normal((ids.size,) + shape[1:]).astype(dtype)
    want = np.zeros(shape, dtype)
    np.add.at(want, ids, rows)
    got = np.zeros(shape, dtype)
    scatter_add_rows(got, ids, rows)
    assert np.array_equal(got, want)


def test_gather_gradient_uses_every_occurrence():
    params = mg.Variable(np.arange(12.0).reshape(4, 3))
    ids = np.array([[3, 0], [3, 3]])
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(mg.gather(params, ids) * np.arange(12.0).reshape(2, 2, 3))
    g = tape.gradient(y, params).numpy()
    want = np.zeros((4, 3))
    np.add.at(want, ids, np.arange(12.0).reshape(2, 2, 3))
    assert np.array_equal(g, want) and g[3].tolist() == [15.0, 18.0, 21.0]
