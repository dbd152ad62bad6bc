"""minigrad.kernels.blas: small BLAS products on one thread once minigrad's kernel threads run."""
import threading

import numpy as np
import pytest

from minigrad.kernels import _threads, blas

needs_openblas = pytest.mark.skipif(blas.blas_threads() is None,
                                    reason="numpy's BLAS is not an OpenBLAS minigrad can tell")


@pytest.fixture
def two_blas_threads():
    old = blas.blas_threads()
    blas.set_blas_threads(2)
    yield
    blas.set_blas_threads(old)


@needs_openblas
def test_one_blas_thread_sets_one_and_restores_after_nesting_and_errors(two_blas_threads):
    assert blas.blas_threads() == 2
    with blas.one_blas_thread():
        assert blas.blas_threads() == 1
        with blas.one_blas_thread():
            assert blas.blas_threads() == 1
        assert blas.blas_threads() == 1        # the inner block does not restore early
    assert blas.blas_threads() == 2
    with pytest.raises(ZeroDivisionError):
        with blas.one_blas_thread():
            1 / 0
    assert blas.blas_threads() == 2


def _threads_seen_by_matmul(monkeypatch, a, b):
    seen = []
    real = np.matmul

    def spy(x, y, out=None):
        seen.append(blas.blas_threads())
        return real(x, y, out=out)
    monkeypatch.setattr(blas.np, "matmul", spy)
    blas.matmul(a, b)
    monkeypatch.setattr(blas.np, "matmul", real)
    return seen[0]


@needs_openblas
def test_small_products_run_on_one_thread_once_the_kernel_pool_has_run(
        monkeypatch, two_blas_threads):
    rng = np.random.default_rng(0)
    small = rng.standard_normal((100, 784)), rng.standard_normal((784, 64))
    large = rng.standard_normal((256, 512)), rng.standard_normal((512, 256))   # 2^25 > SMALL
    monkeypatch.setattr(blas, "_pool_started", [False])      # the pool has not run
    assert _threads_seen_by_matmul(monkeypatch, *small) == 2
    old = _threads.threads()
    _threads.set_threads(2)
    try:
        _threads.run(lambda i: None, 4)                      # the pool runs chunks
    finally:
        _threads.set_threads(old)
    assert _threads_seen_by_matmul(monkeypatch, *small) == 1
    assert _threads_seen_by_matmul(monkeypatch, *large) == 2
    assert blas.blas_threads() == 2                          # restored after each product


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_is_numpys_product_and_the_same_from_call_to_call(monkeypatch, dtype):
    """On one thread OpenBLAS may sum in another order than on two, so the two settings agree
    to rounding only; each is the same from call to call (what makes the switch safe)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((100, 784)).astype(dtype)
    b = rng.standard_normal((784, 64)).astype(dtype)
    monkeypatch.setattr(blas, "_pool_started", [False])
    many = blas.matmul(a, b)
    np.testing.assert_array_equal(many, np.matmul(a, b))
    np.testing.assert_array_equal(many, blas.matmul(a, b))
    blas.pool_started()
    one = blas.matmul(a, b)
    np.testing.assert_array_equal(one, blas.matmul(a, b))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(one, a.astype(np.float64) @ b.astype(np.float64),
                               rtol=0, atol=100 * eps * np.abs(a).sum(1).max())
    ones = np.ones(a.shape[0], dtype)                        # the bias-gradient form
    np.testing.assert_allclose(blas.matmul(ones, a), a.astype(np.float64).sum(0),
                               rtol=0, atol=100 * eps * a.shape[0])


@needs_openblas
def test_products_from_many_threads_at_once_leave_the_count_as_it_was(monkeypatch,
                                                                      two_blas_threads):
    monkeypatch.setattr(blas, "_pool_started", [False])
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
    want = a @ b
    errors = []

    def work():
        for _ in range(200):
            blas.pool_started()
            if not np.array_equal(blas.matmul(a, b), want):
                errors.append("wrong product")
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert blas.blas_threads() == 2
