"""TensorFlow's update rules in the peers' libraries, so a peer trains as the lecture does.

TF1's AdamOptimizer and Keras's Adam both step
    alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t);   var -= alpha * m / (sqrt(v) + epsilon)
(tensorflow/core/kernels/training_ops.cc, ApplyAdam: epsilon is added to sqrt(v) before the
bias correction, "epsilon hat" in the Adam paper's section 2). Their scalars are float32
tensors, cast to the variable's dtype (minigrad/kernels/optim.py does the same):
    form "tf1"    lr, beta1, beta2, epsilon rounded to float32; beta^t kept in float32
                  variables, times float32(beta) each step;  m += (g - m) * (1 - beta1)
    form "keras"  lr rounded to float32, beta^t = float32(beta) ** t in the variable's dtype;
                  1 - beta and epsilon exact
In float32 the roundings vanish; in float64 they move the loss by ~1e-8 within a few steps.
torch.optim.Adam adds its eps to sqrt(v_hat) and divides by its own 1 - beta^t: `TorchAdam`
sets its lr and eps before each step so that its update is TF's, keeping torch's own (foreach)
update, the one a PyTorch user would run.
"""
import math

import numpy as np

FORMS = ("tf1", "keras")


def f32(x):
    """A Python float as a float32 TF tensor holds it: TF1's optimizers keep their learning
    rate (and Adam its betas and epsilon) so, cast to the variable's dtype when they apply."""
    return float(np.float32(x))


class _Powers:
    """beta1^t, beta2^t as the form keeps them (python floats, float64)."""

    def __init__(self, form, beta1, beta2):
        if form not in FORMS:
            raise ValueError(f"Adam form {form!r}: one of {FORMS}")
        self.form, self.b1, self.b2 = form, np.float32(beta1), np.float32(beta2)
        self.p1, self.p2, self.t = np.float32(1), np.float32(1), 0

    def next(self):
        self.t += 1
        if self.form == "tf1":
            self.p1, self.p2 = self.p1 * self.b1, self.p2 * self.b2       # float32 products
            return float(self.p1), float(self.p2)
        return float(self.b1) ** self.t, float(self.b2) ** self.t


class TorchAdam:
    """torch.optim.Adam stepping as TF's Adam of `form` (see the module's docstring)."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, form="tf1"):
        import torch
        if form == "tf1":
            beta1, beta2, epsilon = f32(beta1), f32(beta2), f32(epsilon)
        self.opt = torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=epsilon)
        self.lr, self.beta1, self.beta2, self.epsilon = f32(lr), beta1, beta2, epsilon
        self.powers = _Powers(form, beta1, beta2)

    def zero_grad(self):
        self.opt.zero_grad(set_to_none=True)

    def step(self):
        # torch: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), bc = 1 - beta**t (its own)
        p1, p2 = self.powers.next()
        t = self.powers.t
        bc1, bc2 = 1 - self.beta1 ** t, math.sqrt(1 - self.beta2 ** t)
        alpha = self.lr * math.sqrt(1 - p2) / (1 - p1)
        group = self.opt.param_groups[0]
        group["lr"], group["eps"] = alpha * bc1 / bc2, self.epsilon / bc2
        self.opt.step()


def jax_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8, form="tf1"):
    """(init, update) for use inside a jitted step: `state = init(params)`,
    `params, state = update(params, grads, state)`; params is a list of arrays."""
    import jax.numpy as jnp
    if form not in FORMS:
        raise ValueError(f"Adam form {form!r}: one of {FORMS}")
    lr, b1, b2 = f32(lr), f32(beta1), f32(beta2)
    c1, c2 = (1 - b1, 1 - b2) if form == "tf1" else (1 - beta1, 1 - beta2)
    epsilon = f32(epsilon) if form == "tf1" else epsilon

    def init(params):
        zeros = [jnp.zeros_like(p) for p in params]
        return zeros, list(zeros), jnp.ones((2,), jnp.float32), jnp.zeros((), jnp.int32)

    def update(params, grads, state):
        m, v, p32, t = state
        dt, t = params[0].dtype, t + 1
        if form == "tf1":
            p32 = p32 * jnp.asarray([b1, b2], jnp.float32)
            p1, p2 = p32.astype(dt)
        else:
            p1, p2 = jnp.asarray(b1, dt) ** t.astype(dt), jnp.asarray(b2, dt) ** t.astype(dt)
        m = [mi + (g - mi) * c1 for mi, g in zip(m, grads)]
        v = [vi + (g * g - vi) * c2 for vi, g in zip(v, grads)]
        alpha = lr * jnp.sqrt(1 - p2) / (1 - p1)
        params = [p - mi * alpha / (jnp.sqrt(vi) + epsilon) for p, mi, vi in zip(params, m, v)]
        return params, (m, v, p32, t)
    return init, update


def jax_step(loss, update):
    """One jitted training step `(params, state, *batch) -> (params, state, loss)`: the loss
    and its gradient by value_and_grad, then `update` (jax_adam's)."""
    import jax

    def step(params, state, *batch):
        value, grads = jax.value_and_grad(loss)(params, *batch)
        params, state = update(params, grads, state)
        return params, state, value
    return jax.jit(step)
