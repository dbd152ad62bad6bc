"""Optimizer kernels: against plain numpy twins (both dtypes), then 100-step trajectories
against tf.compat.v1.train optimizers and Keras 3 optimizers."""
import os
import platform

import numpy as np
import pytest

from minigrad.kernels import optim as K

DTYPES = [np.float32, np.float64]


def _h(x, dt, via_f32=True):
    """A Python-float hyperparameter as the optimizer sees it in dtype `dt`."""
    return dt(np.float32(x)) if via_f32 else dt(x)


# ---- plain numpy twins, written straight from the TF / Keras formulas ----------------------
def np_sgd(w, S, g, dt, t):
    w -= g * _h(0.1, dt)


def np_momentum(w, S, g, dt, t, nesterov=False):
    lr, mom = _h(0.05, dt), _h(0.9, dt)
    S[0][:] = S[0] * mom + g
    w -= (g * lr + S[0] * mom * lr) if nesterov else S[0] * lr


def np_rmsprop(w, S, g, dt, t, centered=False):
    ms, mom, mg = S[0], S[1], (S[2] if centered else None)
    lr, m, eps = _h(0.01, dt), _h(0.7, dt), _h(1e-10, dt)
    omr = dt(1) - _h(0.9, dt)
    ms += (g * g - ms) * omr
    if centered:
        mg += (g - mg) * omr
    den = (ms - mg * mg) + eps if centered else ms + eps
    mom[:] = mom * m + (g * lr) / np.sqrt(den)
    w -= mom


def np_adam_tf1(w, S, g, dt, t):
    m, v = S
    b1p = b2p = np.float32(1)
    for _ in range(t):
        b1p, b2p = b1p * np.float32(0.9), b2p * np.float32(0.999)
    one = dt(1)
    alpha = _h(0.01, dt) * np.sqrt(one - dt(b2p)) / (one - dt(b1p))
    m += (g - m) * (one - _h(0.9, dt))
    v += (g * g - v) * (one - _h(0.999, dt))
    w -= (m * alpha) / (np.sqrt(v) + _h(1e-8, dt))


def np_keras_sgd(w, S, g, dt, t, nesterov=False):
    lr, mom = _h(0.05, dt), _h(0.9, dt)
    S[0][:] = S[0] * mom - g * lr
    w += (S[0] * mom - g * lr) if nesterov else S[0]


def np_keras_rmsprop(w, S, g, dt, t, centered=False):
    v, mom, mg = S[0], S[1], (S[2] if centered else None)
    lr, rho, omr = _h(0.01, dt), dt(0.9), dt(1 - 0.9)
    v[:] = rho * v + omr * (g * g)
    if centered:
        mg[:] = rho * mg + omr * g
    den = (v - mg * mg) + dt(1e-7) if centered else v + dt(1e-7)
    mom[:] = dt(0.7) * mom + (lr * g) / np.sqrt(den)
    w -= mom


def np_keras_adam(w, S, g, dt, t):
    m, v = S
    one, step = dt(1), dt(t)
    b1p, b2p = _h(0.9, dt) ** step, _h(0.999, dt) ** step
    alpha = _h(0.01, dt) * np.sqrt(one - b2p) / (one - b1p)
    m += (g - m) * dt(1 - 0.9)
    v += (g * g - v) * dt(1 - 0.999)
    w -= (m * alpha) / (np.sqrt(v) + dt(1e-7))


# name: (minigrad step, numpy twin, initial slot values, TF optimizer factory, keras3?)
def _tf1(name, *args, **kw):
    return lambda tf, keras: getattr(tf.compat.v1.train, name)(*args, **kw)


def _k3(name, *args, **kw):
    return lambda tf, keras: getattr(keras.optimizers, name)(*args, **kw)


CASES = {
    "gd": (lambda w, S, g, t: K.sgd_update(w, g, 0.1), np_sgd, [],
           _tf1("GradientDescentOptimizer", 0.1)),
    "momentum": (lambda w, S, g, t: K.momentum_update(w, S[0], g, 0.05, 0.9), np_momentum, [0],
                 _tf1("MomentumOptimizer", 0.05, 0.9)),
    "nesterov": (lambda w, S, g, t: K.momentum_update(w, S[0], g, 0.05, 0.9, True),
                 lambda *a: np_momentum(*a, nesterov=True), [0],
                 _tf1("MomentumOptimizer", 0.05, 0.9, use_nesterov=True)),
    "rmsprop": (lambda w, S, g, t: K.rmsprop_update(w, S[0], S[1], g, 0.01, 0.9, 0.7, 1e-10),
                np_rmsprop, [1, 0], _tf1("RMSPropOptimizer", 0.01, momentum=0.7)),
    "centered_rmsprop": (
        lambda w, S, g, t: K.centered_rmsprop_update(w, S[2], S[0], S[1], g, 0.01, 0.9, 0.7,
                                                     1e-10),
        lambda *a: np_rmsprop(*a, centered=True), [1, 0, 0],
        _tf1("RMSPropOptimizer", 0.01, momentum=0.7, centered=True)),
    "adam": (lambda w, S, g, t: K.adam_update(w, S[0], S[1], g, 0.01, 0.9, 0.999, 1e-8, t),
             np_adam_tf1, [0, 0], _tf1("AdamOptimizer", 0.01)),
    "keras_sgd": (lambda w, S, g, t: K.keras_sgd_update(w, S[0], g, 0.1), np_sgd, [0],
                  _k3("SGD", 0.1)),
    "keras_sgd_momentum": (lambda w, S, g, t: K.keras_sgd_update(w, S[0], g, 0.05, 0.9),
                           np_keras_sgd, [0], _k3("SGD", 0.05, momentum=0.9)),
    "keras_sgd_nesterov": (lambda w, S, g, t: K.keras_sgd_update(w, S[0], g, 0.05, 0.9, True),
                           lambda *a: np_keras_sgd(*a, nesterov=True), [0],
                           _k3("SGD", 0.05, momentum=0.9, nesterov=True)),
    "keras_rmsprop": (
        lambda w, S, g, t: K.keras_rmsprop_update(w, S[0], S[1], g, 0.01, 0.9, 0.7, 1e-7),
        np_keras_rmsprop, [0, 0], _k3("RMSprop", 0.01, momentum=0.7)),
    "keras_centered_rmsprop": (
        lambda w, S, g, t: K.keras_centered_rmsprop_update(w, S[2], S[0], S[1], g, 0.01, 0.9,
                                                           0.7, 1e-7),
        lambda *a: np_keras_rmsprop(*a, centered=True), [0, 0, 0],
        _k3("RMSprop", 0.01, momentum=0.7, centered=True)),
    "keras_adam": (
        lambda w, S, g, t: K.keras_adam_update(w, S[0], S[1], g, 0.01, 0.9, 0.999, 1e-7, t),
        np_keras_adam, [0, 0], _k3("Adam", 0.01)),
}

# ---- a fixed quadratic-ish problem: the gradient depends on w, so any drift compounds ---------
N, STEPS = 37, 100
_rng = np.random.default_rng(0)
H, C, W0 = _rng.uniform(0.5, 2.0, N), _rng.normal(size=N), _rng.normal(size=N)
NOISE = _rng.normal(scale=0.3, size=(STEPS, N))


def grad(w, k):
    return (H * (w - C) + 0.1 * np.sin(3 * w) + NOISE[k]).astype(w.dtype)


def run_minigrad(step, slots, dt, steps=STEPS):
    w, S = W0.astype(dt), [np.full(N, s, dt) for s in slots]
    out = []
    for k in range(steps):
        step(w, S, grad(w, k), k + 1)
        out.append(w.copy())
    return np.array(out)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_numpy(name, dt):
    step, twin, slots = CASES[name][:3]
    got = run_minigrad(step, slots, dt, steps=5)
    want = run_minigrad(lambda w, S, g, t: twin(w, S, g, dt, t), slots, dt, steps=5)
    assert got.dtype == want.dtype == dt
    np.testing.assert_array_max_ulp(got, want, maxulp=1)


def test_kernel_keeps_dtype_and_updates_in_place():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    flat = w.reshape(-1)
    K.adam_update(flat, np.zeros_like(flat), np.zeros_like(flat), np.ones_like(flat),
                  0.1, 0.9, 0.999, 1e-8, 1)
    assert w.dtype == np.float32 and np.all(w < np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("bad", [np.zeros(4, np.float32), np.zeros(5, np.float64)],
                         ids=["shape", "dtype"])
def test_kernel_rejects_mismatched_slot(bad):
    var = np.zeros(5, np.float32)
    with pytest.raises(ValueError, match="differs from the variable"):
        K.momentum_update(var, bad, np.zeros(5, np.float32), 0.1, 0.9)
    with pytest.raises(ValueError, match="differs from the variable"):
        K.sgd_update(var, bad, 0.1)


def test_adam_step_counts_from_one():
    z = np.zeros(3)
    with pytest.raises(ValueError, match="counts from 1"):
        K.adam_update(z, z.copy(), z.copy(), z.copy(), 0.1, 0.9, 0.999, 1e-8, 0)
    with pytest.raises(ValueError, match="counts from 1"):
        K.keras_adam_update(z, z.copy(), z.copy(), z.copy(), 0.1, 0.9, 0.999, 1e-7, 0)


def test_tf1_beta_power_is_a_float32_running_product():
    p = np.float32(0.999)
    for _ in range(999):
        p = p * np.float32(0.999)
    assert K.tf1_beta_power(0.999, 1000) == p
    assert K.tf1_beta_power(0.9, 1) == np.float32(0.9)


@pytest.fixture(scope="module")
def tf_and_keras():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")  # Keras 3 itself, not tf.keras (legacy tf-keras here)
    if not keras.__version__.startswith("3."):
        pytest.skip("needs Keras 3")
    return tf, keras


def run_tf(tf, keras, make_opt, dt):
    k3 = make_opt.__qualname__.startswith("_k3")
    var = (keras.Variable if k3 else tf.Variable)(W0.astype(dt), dtype=dt)
    opt, out = make_opt(tf, keras), []
    for k in range(STEPS):
        opt.apply_gradients([(tf.constant(grad(var.numpy(), k)), var)])
        out.append(var.numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("dt", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(CASES))
def test_trajectory_matches_tensorflow(tf_and_keras, name, dt):
    step, _, slots, make_opt = CASES[name]
    want = run_tf(*tf_and_keras, make_opt, dt)
    got = run_minigrad(step, slots, dt)
    rtol = 1e-12 if dt == np.float64 else 1e-5
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3)
    if platform.machine() in ("x86_64", "AMD64"):
        # NOTE: bit-identical on x86-64 in both dtypes; elsewhere TF's Eigen kernels may
        # contract into FMAs, hence only the tolerances above
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_descent_numpy_path_is_the_kernel_bit_for_bit(dtype, monkeypatch):
    """GradientDescentOptimizer updates small variables in numpy (no numba start-up) and large
    ones with the kernel: the same bits either way."""
    import minigrad as mg
    import minigrad.train as train
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(1000).astype(dtype)
    grads = [rng.standard_normal(1000).astype(dtype) for _ in range(5)]
    out = []
    for limit in (1 << 16, 0):
        monkeypatch.setattr(train, "_SGD_NUMPY_MAX", limit)
        v = mg.Variable(w0.copy())
        opt = mg.train.GradientDescentOptimizer(0.37)
        for g in grads:
            opt.apply_gradients([(mg.constant(g), v)])
        out.append(v.numpy())
    assert np.array_equal(out[0], out[1]) and not np.array_equal(out[0], w0)
