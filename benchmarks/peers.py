"""Peers beyond TensorFlow: PyTorch eager and JAX jit, when installed.

A case may give its own `build_torch(weights, data, dtype)` / `build_jax(...)`; otherwise the
builders here cover the XOR lecture's sigmoid networks (the cases' own weights), the MNIST CNN
(the case's weights; RMSProp in TF1's form) and the MNIST-rows RNNs (BasicRNNCell / LSTM
stacks of the same sizes, the peer's own initial weights: these time the same work, they are
not parity). Everything else reports "not implemented for this model".
"""
import numpy as np

from parity.harness import Trainer


def supports(builder, case):
    return (getattr(case, f"build_{builder}", None) is not None or
            builder in _MLP and _is_sigmoid_mlp(case) or
            (builder, case.name) in _MODELS)


def build(builder, case, weights, data, dtype):
    own = getattr(case, f"build_{builder}", None)
    if own is not None:
        return own(weights, data, dtype)
    if (builder, case.name) in _MODELS:
        return _MODELS[builder, case.name](case, weights, data, dtype)
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


class JaxMLP(Trainer):
    """The same network as one jitted step: value_and_grad, then p - lr * g."""

    def __init__(self, layers, weights, data, lr, dtype):
        import jax
        import jax.numpy as jnp
        if np.dtype(dtype) == np.float64:
            jax.config.update("jax_enable_x64", True)
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


_MLP = {"torch": TorchMLP, "jax": JaxMLP}


# --- the MNIST CNN ------------------------------------------------------------------------------
class TorchCNN(Trainer):
    """conv5x5 SAME 1->8, relu, maxpool 2x2, conv5x5 8->16, relu, maxpool, dense 64 relu,
    dense 10, mean softmax cross-entropy; RMSProp written as TF1's (ms from ones, eps inside
    the square root). NCHW inside, as torch computes convolutions."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.data = torch, torch.nn.functional, data
        t = lambda a: torch.tensor(np.asarray(a), requires_grad=True)      # noqa: E731
        hwio = lambda w: np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))  # noqa: E731
        self.p = [t(hwio(weights["conv1/W"])), t(weights["conv1/b"]),
                  t(hwio(weights["conv2/W"])), t(weights["conv2/b"]), t(weights["fc1/W"]),
                  t(weights["fc1/b"]), t(weights["fc2/W"]), t(weights["fc2/b"])]
        self.ms = [torch.ones_like(p) for p in self.p]
        self.lr, self.decay, self.eps = case.learning_rate, 0.9, 1e-10

    def step(self, i):
        torch, F = self.torch, self.F
        x, y = (torch.from_numpy(np.ascontiguousarray(a)) for a in self.data.batch(i))
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


class JaxCNN(Trainer):
    """The same network and update as TorchCNN, one jitted step, NHWC/HWIO as TF."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data, self.jnp = data, jnp
        names = [f"{s}/{k}" for s in ("conv1", "conv2", "fc1", "fc2") for k in "Wb"]
        self.p = [jnp.asarray(weights[n]) for n in names]
        self.ms = [jnp.ones_like(p) for p in self.p]
        lr, decay, eps = case.learning_rate, 0.9, 1e-10
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


# --- the MNIST-rows RNNs ------------------------------------------------------------------------
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


class JaxRowsRNN(Trainer):
    """The same stacks as lax.scan over the rows (TF1 cell forms), one jitted step with Adam
    written out (TF1's epsilon-hat form)."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        if np.dtype(dtype) == np.float64:
            jax.config.update("jax_enable_x64", True)
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


_MODELS = {("torch", "mnist_cnn"): TorchCNN, ("jax", "mnist_cnn"): JaxCNN}
for _name in ("rnn_mnist", "rnn_mnist_stacked", "lstm_mnist"):
    _MODELS["torch", _name] = TorchRowsRNN
    _MODELS["jax", _name] = JaxRowsRNN
