"""The MNIST-rows RNNs."""
import numpy as np

from benchmarks.peers import register
from parity.harness import Trainer


@register("torch", "rnn_mnist", "rnn_mnist_stacked", "lstm_mnist")
class TorchRowsRNN(Trainer):
    """torch.nn.RNN (tanh) or torch.nn.LSTM stacks of the case's sizes over the 28 rows, the
    last output -> dense 10, mean sparse softmax cross-entropy, torch.optim.Adam."""

    def __init__(self, case, weights, data, dtype):
        import torch
        torch.manual_seed(0)
        self.torch, self.data = torch, data
        cls = torch.nn.LSTM if case.kind == "lstm" else torch.nn.RNN
        layers = case.layers
        self.rnn = cls(28, layers[0], num_layers=len(layers), batch_first=True)
        self.dense = torch.nn.Linear(layers[-1], 10)
        if np.dtype(dtype) == np.float64:
            self.rnn, self.dense = self.rnn.double(), self.dense.double()
        self.opt = torch.optim.Adam(list(self.rnn.parameters()) + list(self.dense.parameters()),
                                    lr=case.learning_rate)

    def step(self, i):
        torch = self.torch
        x, y = self.data.batch(i)
        out, _ = self.rnn(torch.from_numpy(x))
        cost = torch.nn.functional.cross_entropy(self.dense(out[:, -1]), torch.from_numpy(y))
        self.opt.zero_grad()
        cost.backward()
        self.opt.step()
        return cost.item()


@register("jax", "rnn_mnist", "rnn_mnist_stacked", "lstm_mnist")
class JaxRowsRNN(Trainer):
    """The same stacks as lax.scan over the rows (TF1 cell forms), one jitted step with Adam
    written out (TF1's epsilon-hat form)."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data = data
        rng = np.random.default_rng(0)
        lstm, sizes = case.kind == "lstm", [28] + list(case.layers)
        g = 4 if lstm else 1
        params = []
        for i, h in zip(sizes[:-1], sizes[1:]):
            params += [rng.uniform(-0.1, 0.1, (i + h, g * h)).astype(dtype), np.zeros(g * h, dtype)]
        params += [rng.uniform(-0.1, 0.1, (sizes[-1], 10)).astype(dtype), np.zeros(10, dtype)]
        self.p = [jnp.asarray(a) for a in params]
        self.m = [jnp.zeros_like(a) for a in self.p]
        self.v = [jnp.zeros_like(a) for a in self.p]
        self.t = 0
        lr, b1, b2, eps = case.learning_rate, 0.9, 0.999, 1e-8
        n_layers = len(case.layers)

        def layer(k, b, xs, h):
            def cell(carry, x):
                if lstm:
                    hh, c = carry
                    z = jnp.concatenate([x, hh], 1) @ k + b
                    i, j, f, o = jnp.split(z, 4, 1)
                    c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
                    hh = jnp.tanh(c) * jax.nn.sigmoid(o)
                    return (hh, c), hh
                hh = jnp.tanh(jnp.concatenate([x, carry], 1) @ k + b)
                return hh, hh
            init = (jnp.zeros((xs.shape[1], h)),) * 2 if lstm else jnp.zeros((xs.shape[1], h))
            return jax.lax.scan(cell, init, xs)[1]

        def cost(p, x, y):
            hs = jnp.transpose(x, (1, 0, 2))
            for li in range(n_layers):
                hs = layer(p[2 * li], p[2 * li + 1], hs, case.layers[li])
            logits = hs[-1] @ p[-2] + p[-1]
            logp = jax.nn.log_softmax(logits, 1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], 1))

        def step(p, m, v, t, x, y):
            value, g = jax.value_and_grad(cost)(p, x, y)
            m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
            v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
            a = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            p = [pi - a * mi / (jnp.sqrt(vi) + eps) for pi, mi, vi in zip(p, m, v)]
            return p, m, v, value
        self._step = jax.jit(step)

    def step(self, i):
        x, y = self.data.batch(i)
        self.t += 1
        self.p, self.m, self.v, value = self._step(self.p, self.m, self.v, self.t, x, y)
        return float(value)
