"""Fused, in-place optimizer updates in TensorFlow's exact arithmetic.

Every kernel takes flat 1-D float32/float64 arrays (callers pass ``var.reshape(-1)`` views of
contiguous arrays), updates them in place and returns nothing. All arithmetic happens in the
array's own dtype, each scalar first cast to that dtype, in the operation order of the
reference (TF1: the CPU functors of tensorflow/core/kernels/training_ops.cc; Keras 3:
keras/src/optimizers/*.py ``update_step``), so float32 results match bit for bit.

Host-side scalars follow TF too: every function takes Python-float hyperparameters and rounds
each one the way its optimizer does before casting it to the variable's dtype, so float64 runs
match as well (float32 runs are unaffected: rounding through float32 is then a no-op).
- TF1 ``tf.compat.v1.train.*Optimizer`` turns every Python-float hyperparameter into a float32
  tensor and casts that to the variable's dtype: a float64 variable sees ``float64(float32(lr))``.
  Adam's ``beta1_power``/``beta2_power`` are float32 variables multiplied by float32(beta) each
  step (`tf1_beta_power`).
- Keras 3 keeps ``learning_rate`` in a float32 variable and ``ops.cast(python_float, dtype)``
  goes through float32 as well (SGD ``momentum``, Adam's power bases); but ``rho``, RMSprop's
  ``momentum``, ``epsilon`` meet the variable in ``ops.multiply``/``ops.add`` and are cast
  directly, and ``1 - rho``, ``1 - beta_1`` are computed in Python (float64) first.
"""
import numba
import numpy as np
from numba.extending import overload

# NOTE: error_model="numpy" gives IEEE inf/nan on x/0 (as TF) instead of a Python exception,
# which also frees LLVM to vectorize the loops (about 7x faster on 1M floats).
_jit = numba.njit(cache=True, error_model="numpy")

__all__ = [
    "sgd_update", "momentum_update", "rmsprop_update", "centered_rmsprop_update",
    "keras_rmsprop_update", "keras_centered_rmsprop_update", "apply_adam", "adam_update",
    "keras_adam_update", "keras_sgd_update", "tf1_beta_power",
]


@_jit
def _f32(x):
    """A Python float as a float32 TF tensor holds it, back in float64."""
    return np.float64(np.float32(x))


def _same(var, x):
    """Raise unless `x` (a slot or the gradient) has `var`'s shape and dtype."""
    if x.shape != var.shape or x.dtype != var.dtype:
        raise ValueError("optimizer slot or gradient differs from the variable in shape or dtype")


@overload(_same)
def _same_nb(var, x):
    # NOTE: dtypes are compile-time facts in numba, so the dtype check happens while typing
    if var.dtype != x.dtype:
        def impl(var, x):
            raise ValueError("optimizer slot or gradient differs from the variable in dtype")
        return impl

    def impl(var, x):
        if x.shape != var.shape:
            raise ValueError("optimizer slot or gradient differs from the variable in shape")
    return impl


@_jit
def sgd_update(var, g, lr):
    """TF1 ApplyGradientDescent: ``var -= g * lr``."""
    _same(var, g)
    lr_ = var.dtype.type(_f32(lr))
    for i in range(var.size):
        var[i] -= g[i] * lr_


@_jit
def momentum_update(var, accum, g, lr, momentum, nesterov=False):
    """TF1 ApplyMomentum: ``accum = accum*mom + g; var -= accum*lr``.

    Nesterov: ``var -= g*lr + accum*mom*lr``.
    """
    _same(var, accum)
    _same(var, g)
    dt = var.dtype.type
    lr_, mom_ = dt(_f32(lr)), dt(_f32(momentum))
    for i in range(var.size):
        a = accum[i] * mom_ + g[i]
        accum[i] = a
        if nesterov:
            var[i] -= g[i] * lr_ + a * mom_ * lr_
        else:
            var[i] -= a * lr_


@_jit
def rmsprop_update(var, ms, mom, g, lr, decay, momentum, eps):
    """TF1 ApplyRMSProp (``ms`` starts at ONES).

    ``ms += (g*g - ms)*(1 - decay); mom = mom*momentum + g*lr/sqrt(ms + eps); var -= mom``.
    """
    _same(var, ms)
    _same(var, mom)
    _same(var, g)
    dt = var.dtype.type
    lr_, mom_, eps_ = dt(_f32(lr)), dt(_f32(momentum)), dt(_f32(eps))
    one_minus_rho = dt(1.0) - dt(_f32(decay))  # NOTE: T(1) - rho() in the variable's dtype
    for i in range(var.size):
        gi = g[i]
        s = ms[i] + (gi * gi - ms[i]) * one_minus_rho
        ms[i] = s
        m = mom[i] * mom_ + (gi * lr_) / np.sqrt(s + eps_)
        mom[i] = m
        var[i] -= m


@_jit
def centered_rmsprop_update(var, mg, ms, mom, g, lr, decay, momentum, eps):
    """TF1 ApplyCenteredRMSProp: as `rmsprop_update`, plus ``mg += (g - mg)*(1 - decay)``.

    Denominator ``sqrt((ms - mg*mg) + eps)``.
    """
    _same(var, mg)
    _same(var, ms)
    _same(var, mom)
    _same(var, g)
    dt = var.dtype.type
    lr_, mom_, eps_ = dt(_f32(lr)), dt(_f32(momentum)), dt(_f32(eps))
    one_minus_rho = dt(1.0) - dt(_f32(decay))
    for i in range(var.size):
        gi = g[i]
        s = ms[i] + (gi * gi - ms[i]) * one_minus_rho
        ms[i] = s
        a = mg[i] + (gi - mg[i]) * one_minus_rho
        mg[i] = a
        m = mom[i] * mom_ + (gi * lr_) / np.sqrt((s - a * a) + eps_)
        mom[i] = m
        var[i] -= m


@_jit
def keras_rmsprop_update(var, v, mom, g, lr, rho, momentum, eps):
    """Keras 3 RMSprop (velocity starts at ZEROS).

    ``v = rho*v + (1-rho)*g*g; inc = lr*g / sqrt(v + eps)``; momentum > 0:
    ``mom = momentum*mom + inc; w -= mom``, else ``w -= inc`` (``mom`` untouched).
    """
    _same(var, v)
    _same(var, g)
    dt = var.dtype.type
    lr_, rho_, mom_, eps_ = dt(_f32(lr)), dt(rho), dt(momentum), dt(eps)
    one_minus_rho = dt(1.0 - rho)  # NOTE: Keras computes 1 - rho in Python float64
    use_mom = momentum > 0
    if use_mom:
        _same(var, mom)
    for i in range(var.size):
        gi = g[i]
        vi = rho_ * v[i] + one_minus_rho * (gi * gi)
        v[i] = vi
        inc = (lr_ * gi) / np.sqrt(vi + eps_)
        if use_mom:
            m = mom_ * mom[i] + inc
            mom[i] = m
            var[i] -= m
        else:
            var[i] -= inc


@_jit
def keras_centered_rmsprop_update(var, mg, v, mom, g, lr, rho, momentum, eps):
    """Keras 3 RMSprop(centered=True): `keras_rmsprop_update` with ``mg = rho*mg + (1-rho)*g``.

    Denominator ``sqrt((v - mg*mg) + eps)``.
    """
    _same(var, mg)
    _same(var, v)
    _same(var, g)
    dt = var.dtype.type
    lr_, rho_, mom_, eps_ = dt(_f32(lr)), dt(rho), dt(momentum), dt(eps)
    one_minus_rho = dt(1.0 - rho)
    use_mom = momentum > 0
    if use_mom:
        _same(var, mom)
    for i in range(var.size):
        gi = g[i]
        vi = rho_ * v[i] + one_minus_rho * (gi * gi)
        v[i] = vi
        a = rho_ * mg[i] + one_minus_rho * gi
        mg[i] = a
        inc = (lr_ * gi) / np.sqrt((vi - a * a) + eps_)
        if use_mom:
            m = mom_ * mom[i] + inc
            mom[i] = m
            var[i] -= m
        else:
            var[i] -= inc


@_jit
def _adam_core(var, m, v, g, alpha, one_minus_b1, one_minus_b2, eps):
    """``m += (g-m)*(1-b1); v += (g*g-v)*(1-b2); var -= m*alpha / (sqrt(v) + eps)``.

    All scalars already in the variable's dtype.
    """
    for i in range(var.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_b1
        m[i] = mi
        vi = v[i] + (gi * gi - v[i]) * one_minus_b2
        v[i] = vi
        var[i] -= (mi * alpha) / (np.sqrt(vi) + eps)


@_jit
def apply_adam(var, m, v, g, beta1_power, beta2_power, lr, beta1, beta2, eps):
    """TF1 ApplyAdam op, powers given: ``alpha = lr*sqrt(1 - b2p)/(1 - b1p)``, then `_adam_core`.

    Optimizers that track ``beta1_power``/``beta2_power`` themselves call this.
    """
    _same(var, m)
    _same(var, v)
    _same(var, g)
    dt = var.dtype.type
    one = dt(1.0)
    alpha = dt(_f32(lr)) * np.sqrt(one - dt(_f32(beta2_power))) / (one - dt(_f32(beta1_power)))
    _adam_core(var, m, v, g, alpha, one - dt(_f32(beta1)), one - dt(_f32(beta2)),
               dt(_f32(eps)))


@_jit
def tf1_beta_power(beta, t):
    """``beta**t`` as TF1 Adam keeps it: a float32 variable times float32(beta) each step."""
    b = np.float32(beta)
    p = b
    for _ in range(t - 1):
        p = p * b
    return p


@_jit
def adam_update(var, m, v, g, lr, beta1, beta2, eps, t):
    """TF1 AdamOptimizer step `t` (1 on the first step): `apply_adam` with TF1's float32 powers.

    O(t) for the powers; long runs should track them and call `apply_adam`.
    """
    if t < 1:
        raise ValueError("Adam step t counts from 1")
    apply_adam(var, m, v, g, tf1_beta_power(beta1, t), tf1_beta_power(beta2, t),
               lr, beta1, beta2, eps)


@_jit
def keras_adam_update(var, m, v, g, lr, beta1, beta2, eps, t):
    """Keras 3 Adam step `t` (= iterations + 1): powers ``cast(beta, T) ** cast(t, T)``.

    Then ``alpha = lr*sqrt(1 - b2p)/(1 - b1p)``; ``1 - beta`` computed in Python float64.
    """
    _same(var, m)
    _same(var, v)
    _same(var, g)
    if t < 1:
        raise ValueError("Adam step t counts from 1")
    dt = var.dtype.type
    one, step = dt(1.0), dt(t)
    b1p, b2p = dt(_f32(beta1)) ** step, dt(_f32(beta2)) ** step
    alpha = dt(_f32(lr)) * np.sqrt(one - b2p) / (one - b1p)
    _adam_core(var, m, v, g, alpha, dt(1.0 - beta1), dt(1.0 - beta2), dt(eps))


@_jit
def keras_sgd_update(var, m, g, lr, momentum=0.0, nesterov=False):
    """Keras 3 SGD: ``m = m*mom - g*lr; w += m`` (nesterov ``w += m*mom - g*lr``).

    momentum == 0: ``w -= g*lr`` and ``m`` is untouched.
    """
    _same(var, g)
    dt = var.dtype.type
    lr_, mom_ = dt(_f32(lr)), dt(_f32(momentum))
    if momentum == 0:
        for i in range(var.size):
            var[i] -= g[i] * lr_
        return
    _same(var, m)
    for i in range(var.size):
        mi = m[i] * mom_ - g[i] * lr_
        m[i] = mi
        if nesterov:
            var[i] += mi * mom_ - g[i] * lr_
        else:
            var[i] += mi
