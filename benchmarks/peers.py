"""Peers beyond TensorFlow: PyTorch eager and JAX jit, when installed.

A case may give its own `build_torch(weights, data, dtype)` / `build_jax(...)`; otherwise the
builders here cover the XOR lecture's sigmoid networks (the cases with `layers`, W{i}/b{i}
weights and a learning rate). Everything else reports "not implemented for this model".
"""
import numpy as np

from parity.harness import Trainer


def supports(builder, case):
    return (getattr(case, f"build_{builder}", None) is not None or
            builder in _MLP and _is_sigmoid_mlp(case))


def build(builder, case, weights, data, dtype):
    own = getattr(case, f"build_{builder}", None)
    if own is not None:
        return own(weights, data, dtype)
    return _MLP[builder](case.layers, weights, data, case.learning_rate, dtype)


def _is_sigmoid_mlp(case):
    return case.name in ("xor", "xor_wide") and hasattr(case, "layers")


class TorchMLP(Trainer):
    """h = sigmoid(h @ W + b) per layer; cross-entropy as the lecture; torch.optim.SGD."""

    def __init__(self, layers, weights, data, lr, dtype):
        import torch
        self.torch = torch
        self.x, self.y = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
        self.params = [torch.tensor(weights[f"{k}{i}"], requires_grad=True)
                       for i in range(1, len(layers)) for k in "Wb"]
        self.opt = torch.optim.SGD(self.params, lr=lr)

    def step(self, i):
        torch, h, y = self.torch, self.x, self.y
        for w, b in zip(self.params[::2], self.params[1::2]):
            h = torch.sigmoid(h @ w + b)
        cost = -torch.mean(y * torch.log(h) + (1 - y) * torch.log(1 - h))
        self.opt.zero_grad()
        cost.backward()
        self.opt.step()
        return cost.item()


class JaxMLP(Trainer):
    """The same network as one jitted step: value_and_grad, then p - lr * g."""

    def __init__(self, layers, weights, data, lr, dtype):
        import jax
        import jax.numpy as jnp
        if np.dtype(dtype) == np.float64:
            jax.config.update("jax_enable_x64", True)
        self.x, self.y = (jnp.asarray(a) for a in data)
        self.params = [jnp.asarray(weights[f"{k}{i}"])
                       for i in range(1, len(layers)) for k in "Wb"]

        def cost(params, x, y):
            h = x
            for w, b in zip(params[::2], params[1::2]):
                h = jax.nn.sigmoid(h @ w + b)
            return -jnp.mean(y * jnp.log(h) + (1 - y) * jnp.log(1 - h))

        def step(params, x, y):
            value, grads = jax.value_and_grad(cost)(params, x, y)
            return [p - lr * g for p, g in zip(params, grads)], value
        self._step = jax.jit(step)

    def step(self, i):
        self.params, value = self._step(self.params, self.x, self.y)
        return float(value)


_MLP = {"torch": TorchMLP, "jax": JaxMLP}
