"""Lab 7's MNIST softmax regression and deck 000's text CNN (the cases' weights and batches)."""
import numpy as np

from benchmarks.peers import register, torch_device
from benchmarks.peers._tf1 import TorchAdam, jax_adam
from parity.harness import Trainer


def _keep_prob(case):
    """The dropout keep probability the lecture is fed: its options' value, else its own."""
    return case.lecture_options.get("dropout_keep_prob", case.lecture.dropout_keep_prob)


@register("torch", "mnist_softmax")
class TorchSoftmax(Trainer):
    """logits = x W + b; F.cross_entropy with the one-hot rows as probabilities (the lecture's
    mean of -sum(y * log(softmax)), written as log_softmax: the same value, no log(0));
    torch.optim.SGD(0.5), TF's GradientDescent."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.data, self.dev = torch, torch.nn.functional, data, torch_device()
        self.p = [torch.tensor(weights[n], device=self.dev, requires_grad=True)
                  for n in ("Variable", "Variable_1")]
        self.opt = torch.optim.SGD(self.p, lr=case.learning_rate)

    def step(self, i):
        x, y = (self.torch.as_tensor(a, device=self.dev) for a in self.data.batch(i))
        w, b = self.p
        cost = self.F.cross_entropy(x @ w + b, y)
        self.opt.zero_grad(set_to_none=True)
        cost.backward()
        self.opt.step()
        return cost.item()


@register("jax", "mnist_softmax")
class JaxSoftmax(Trainer):
    """The same regression and cost as one jitted step: value_and_grad, then p - 0.5 g."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data = data
        self.p = [jnp.asarray(weights[n]) for n in ("Variable", "Variable_1")]
        lr = case.learning_rate

        def cost(p, x, y):
            logits = x @ p[0] + p[1]
            return jnp.mean(-jnp.sum(y * jax.nn.log_softmax(logits, 1), 1))

        def step(p, x, y):
            value, g = jax.value_and_grad(cost)(p, x, y)
            return [pi - lr * gi for pi, gi in zip(p, g)], value
        self._step = jax.jit(step)

    def step(self, i):
        self.p, value = self._step(self.p, *self.data.batch(i))
        return float(value)


@register("torch", "text_cnn")
class TorchTextCNN(Trainer):
    """F.embedding, then per filter size k F.conv1d over time with the embedding as the
    channels (the lecture's conv2d of a [k, 128, 1, 128] kernel across the whole width of a
    one-channel [seq, 128] image is exactly this), relu, max over time; concat, F.dropout with
    the lecture's keep probability, dense 2, F.cross_entropy; TF1's Adam(1e-3, beta1=0.5) on
    every weight (_tf1.TorchAdam). The embedding's gradient is dense here; TF1's Adam
    on its sparse gradient still decays m and v and moves every row, so the update is the
    same."""
    check_options = {"dropout_keep_prob": 1.0}      # every mask keeps every unit: no randomness

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.data, self.dev = torch, torch.nn.functional, data, torch_device()
        self.drop = 1.0 - _keep_prob(case)

        def param(a):
            return torch.tensor(np.ascontiguousarray(a), device=self.dev, requires_grad=True)
        self.emb = param(weights["embedding/W"])
        self.convs = [param(np.transpose(weights[f"conv-maxpool-{fs}/W"][:, :, 0, :], (2, 1, 0)))
                      for fs in case.lecture.filter_sizes]          # HWIO -> [out, in, k]
        self.biases = [param(weights[f"conv-maxpool-{fs}/b"]) for fs in case.lecture.filter_sizes]
        self.w, self.b = param(weights["W"]), param(weights["output/b"])
        params = [self.emb, *self.convs, *self.biases, self.w, self.b]
        self.opt = TorchAdam(params, lr=1e-3, beta1=0.5)

    def step(self, i):
        torch, F = self.torch, self.F
        ids, y = self.data.batch(i)
        ids = torch.as_tensor(ids, device=self.dev)
        y = torch.as_tensor(y.astype(np.int64), device=self.dev)
        x = F.embedding(ids, self.emb).transpose(1, 2)              # [batch, 128, seq]
        pooled = [F.relu(F.conv1d(x, w, b)).amax(2) for w, b in zip(self.convs, self.biases)]
        h = F.dropout(torch.cat(pooled, 1), p=self.drop, training=True)
        loss = F.cross_entropy(h @ self.w + self.b, y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


@register("jax", "text_cnn")
class JaxTextCNN(Trainer):
    """The same network as one jitted step: embedding by jnp.take, per filter size a 1-D
    lax.conv_general_dilated (NWC input, WIO kernel: the lecture's HWIO kernel without its
    width-1 input dimension), relu, max over time; dropout by jax.random.bernoulli with a key
    carried from step to step; TF1's Adam(1e-3, beta1=0.5) (_tf1.jax_adam)."""
    check_options = TorchTextCNN.check_options

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data = data
        fs = case.lecture.filter_sizes
        self.p = ([jnp.asarray(weights["embedding/W"])] +
                  [jnp.asarray(weights[f"conv-maxpool-{k}/W"][:, :, 0, :]) for k in fs] +
                  [jnp.asarray(weights[f"conv-maxpool-{k}/b"]) for k in fs] +
                  [jnp.asarray(weights["W"]), jnp.asarray(weights["output/b"])])
        init, update = jax_adam(1e-3, beta1=0.5)
        self.state, self.key = init(self.p), jax.random.PRNGKey(0)
        keep, n = _keep_prob(case), len(fs)

        def loss(p, key, ids, y):
            x = jnp.take(p[0], ids, axis=0)                         # [batch, seq, 128]
            pooled = [jnp.max(jax.nn.relu(jax.lax.conv_general_dilated(
                x, w, (1,), "VALID", dimension_numbers=("NWC", "WIO", "NWC")) + b), 1)
                for w, b in zip(p[1:1 + n], p[1 + n:1 + 2 * n])]
            h = jnp.concatenate(pooled, 1)
            h = jnp.where(jax.random.bernoulli(key, keep, h.shape), h / keep, 0)
            logp = jax.nn.log_softmax(h @ p[-2] + p[-1], 1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], 1))

        def step(p, state, key, ids, y):
            key, sub = jax.random.split(key)
            value, g = jax.value_and_grad(loss)(p, sub, ids, y)
            p, state = update(p, g, state)
            return p, state, key, value
        self._step = jax.jit(step)

    def step(self, i):
        self.p, self.state, self.key, value = self._step(self.p, self.state, self.key,
                                                         *self.data.batch(i))
        return float(value)
