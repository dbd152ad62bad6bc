"""The MNIST CNN (the case's weights; RMSProp in TF1's form)."""
import numpy as np

from benchmarks.peers import register, torch_device
from benchmarks.peers._tf1 import f32
from parity.harness import Trainer


@register("torch", "mnist_cnn")
class TorchCNN(Trainer):
    """conv5x5 SAME 1->8, relu, maxpool 2x2, conv5x5 8->16, relu, maxpool, dense 64 relu,
    dense 10, mean softmax cross-entropy; RMSProp written as TF1's (ms from ones, eps inside
    the square root, its scalars float32 as TF1 holds them). NCHW inside, as torch computes
    convolutions."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.data = torch, torch.nn.functional, data
        self.dev = torch_device()
        t = lambda a: torch.tensor(np.asarray(a), requires_grad=True, device=self.dev)  # noqa: E731
        hwio = lambda w: np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))  # noqa: E731
        self.p = [t(hwio(weights["conv1/W"])), t(weights["conv1/b"]),
                  t(hwio(weights["conv2/W"])), t(weights["conv2/b"]), t(weights["fc1/W"]),
                  t(weights["fc1/b"]), t(weights["fc2/W"]), t(weights["fc2/b"])]
        self.ms = [torch.ones_like(p) for p in self.p]
        self.lr, self.decay, self.eps = f32(case.learning_rate), f32(0.9), f32(1e-10)

    def step(self, i):
        torch, F = self.torch, self.F
        x, y = (torch.from_numpy(np.ascontiguousarray(a)).to(self.dev)
                for a in self.data.batch(i))
        w1, b1, w2, b2, w3, b3, w4, b4 = self.p
        h = x.reshape(-1, 1, 28, 28)
        h = F.max_pool2d(F.relu(F.conv2d(h, w1, b1, padding=2)), 2, ceil_mode=True)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=2)), 2, ceil_mode=True)
        h = h.permute(0, 2, 3, 1).reshape(-1, 7 * 7 * 16)
        logits = F.relu(h @ w3 + b3) @ w4 + b4
        cost = torch.mean(torch.sum(-y * F.log_softmax(logits, 1), 1))
        for p in self.p:
            p.grad = None
        cost.backward()
        with torch.no_grad():
            for p, ms in zip(self.p, self.ms):
                ms.mul_(self.decay).addcmul_(p.grad, p.grad, value=1 - self.decay)
                p.sub_(self.lr * p.grad / torch.sqrt(ms + self.eps))
        return cost.item()


@register("jax", "mnist_cnn")
class JaxCNN(Trainer):
    """The same network and update as TorchCNN, one jitted step, NHWC/HWIO as TF."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data, self.jnp = data, jnp
        names = [f"{s}/{k}" for s in ("conv1", "conv2", "fc1", "fc2") for k in "Wb"]
        self.p = [jnp.asarray(weights[n]) for n in names]
        self.ms = [jnp.ones_like(p) for p in self.p]
        lr, decay, eps = f32(case.learning_rate), f32(0.9), f32(1e-10)
        dn = ("NHWC", "HWIO", "NHWC")

        def pool(h):
            return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                         "SAME")

        def cost(p, x, y):
            w1, b1, w2, b2, w3, b3, w4, b4 = p
            h = x.reshape(-1, 28, 28, 1)
            h = pool(jax.nn.relu(jax.lax.conv_general_dilated(h, w1, (1, 1), "SAME",
                                                              dimension_numbers=dn) + b1))
            h = pool(jax.nn.relu(jax.lax.conv_general_dilated(h, w2, (1, 1), "SAME",
                                                              dimension_numbers=dn) + b2))
            logits = jax.nn.relu(h.reshape(-1, 7 * 7 * 16) @ w3 + b3) @ w4 + b4
            return jnp.mean(jnp.sum(-y * jax.nn.log_softmax(logits, 1), 1))

        def step(p, ms, x, y):
            value, g = jax.value_and_grad(cost)(p, x, y)
            ms = [m * decay + gi * gi * (1 - decay) for m, gi in zip(ms, g)]
            p = [pi - lr * gi / jnp.sqrt(m + eps) for pi, gi, m in zip(p, g, ms)]
            return p, ms, value
        self._step = jax.jit(step)

    def step(self, i):
        x, y = self.data.batch(i)
        self.p, self.ms, value = self._step(self.p, self.ms, x, y)
        return float(value)
