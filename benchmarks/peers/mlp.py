"""The XOR lecture's sigmoid networks (the case's layers and weights)."""
import numpy as np

from benchmarks.peers import register, torch_device
from benchmarks.peers._tf1 import f32
from parity.harness import Trainer


@register("torch", "xor", "xor_wide")
class TorchMLP(Trainer):
    """h = sigmoid(h @ W + b) per layer; cross-entropy as the lecture; torch.optim.SGD at TF1's
    float32 learning rate."""

    def __init__(self, case, weights, data, dtype):
        layers, lr = case.layers, f32(case.learning_rate)
        import torch
        self.torch = torch
        dev = torch_device()
        self.x, self.y = (torch.from_numpy(np.ascontiguousarray(a)).to(dev) for a in data)
        self.params = [torch.tensor(weights[f"{k}{i}"], requires_grad=True, device=dev)
                       for i in range(1, len(layers)) for k in ("weight", "bias")]
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


@register("jax", "xor", "xor_wide")
class JaxMLP(Trainer):
    """The same network as one jitted step: value_and_grad, then p - lr * g."""

    def __init__(self, case, weights, data, dtype):
        layers, lr = case.layers, f32(case.learning_rate)
        import jax
        import jax.numpy as jnp
        self.x, self.y = (jnp.asarray(a) for a in data)
        self.params = [jnp.asarray(weights[f"{k}{i}"])
                       for i in range(1, len(layers)) for k in ("weight", "bias")]

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
