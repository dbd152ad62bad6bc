"""TensorFlow's update rules in the peers' libraries, so a peer trains as the lecture does.

TF1's AdamOptimizer and Keras's Adam both step
    alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t);   var -= alpha * m / (sqrt(v) + epsilon)
(tensorflow/core/kernels/training_ops.cc, ApplyAdam: epsilon is added to sqrt(v) before the
bias correction, "epsilon hat" in the Adam paper's section 2). torch.optim.Adam adds its eps to
sqrt(v_hat) after it; multiplying through, the two agree when torch's eps at step t is
epsilon / sqrt(1 - beta2^t), which `TorchAdam` sets before each step, keeping torch's own
(foreach) update, the one a PyTorch user would run.
"""
import math


class TorchAdam:
    """torch.optim.Adam stepping as TF's Adam (see the module's docstring)."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
        import torch
        self.opt = torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=epsilon)
        self.beta2, self.epsilon, self.t = beta2, epsilon, 0

    def zero_grad(self):
        self.opt.zero_grad(set_to_none=True)

    def step(self):
        self.t += 1
        self.opt.param_groups[0]["eps"] = self.epsilon / math.sqrt(1.0 - self.beta2 ** self.t)
        self.opt.step()


def jax_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """(init, update) for use inside a jitted step: `state = init(params)`,
    `params, state = update(params, grads, state)`; params is a list of arrays."""
    import jax.numpy as jnp

    def init(params):
        return ([jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params],
                jnp.zeros((), params[0].dtype))

    def update(params, grads, state):
        m, v, t = state
        t = t + 1
        m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
        v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
        alpha = lr * jnp.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        params = [p - alpha * mi / (jnp.sqrt(vi) + epsilon) for p, mi, vi in zip(params, m, v)]
        return params, (m, v, t)
    return init, update
