"""Deck 002's character and stock LSTMs and its RNN-basics fit (the cases' weights and data).

    hihello, char_seq   one BasicLSTMCell, fully_connected on every output, sequence_loss
    char_stacked        MultiRNNCell of 2 BasicLSTMCells, the same head and loss
    stock_lstm          BasicLSTMCell(10), fully_connected 1 on the last output, sum of squares
    rnn_basics          every cell of lab 12-0 fitted to fixed targets

All of them train with TF1's AdamOptimizer, whose hyperparameters TF1 holds as float32 tensors
and whose beta powers are float32 variables (`TorchTF1Adam`, `jax_tf1_adam` below).
"""
import numpy as np

from benchmarks.peers import register, torch_device
from benchmarks.peers._cells import jax_tf1_stack, tf1_cells, torch_tf1_stack
from benchmarks.peers._tf1 import TorchAdam
from parity.harness import Trainer


def _f32(x):
    """A python float as TF1 holds it: a float32 scalar (cast to the variable's dtype later)."""
    return float(np.float32(x))


class TorchTF1Adam(TorchAdam):
    """torch.optim.Adam stepping exactly as TF1's AdamOptimizer in either dtype: lr, betas and
    epsilon rounded to float32, and alpha = lr sqrt(1 - b2p) / (1 - b1p) from beta powers kept
    as float32 products (tensorflow/python/training/adam.py: beta1_power = beta1_power * beta1
    in float32). torch computes its bias corrections from betas ** t in float64; the step's lr
    and eps are set so that its update is TF's `alpha * m / (sqrt(v) + epsilon)`.
    NOTE: _tf1.TorchAdam keeps float64 hyperparameters: in float64, Adam(1e-3) steps 5e-8
    relatively larger than TF1's float32(1e-3), and beta2's float32 powers move the bias
    correction by ~1e-5 from step 2 on: past the peers' check (rtol 1e-7) within 2 steps."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
        lr, beta1, beta2, epsilon = (_f32(a) for a in (lr, beta1, beta2, epsilon))
        super().__init__(params, lr, beta1, beta2, epsilon)
        self.lr, self.beta1 = lr, beta1
        self.powers = np.ones(2, np.float32)

    def step(self):
        self.t += 1
        self.powers *= np.array([self.beta1, self.beta2], np.float32)
        b1p, b2p = (float(p) for p in self.powers)
        alpha = self.lr * np.sqrt(1.0 - b2p) / (1.0 - b1p)
        correction1, correction2 = 1.0 - self.beta1 ** self.t, 1.0 - self.beta2 ** self.t
        group = self.opt.param_groups[0]
        group["lr"] = alpha * correction1 / np.sqrt(correction2)
        group["eps"] = self.epsilon / np.sqrt(correction2)
        self.opt.step()


def jax_tf1_adam(lr, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """TF1's AdamOptimizer as (init, update) for inside a jitted step, as `_tf1.jax_adam`:
    float32 hyperparameters and float32 beta powers (see TorchTF1Adam), and the ApplyAdam
    kernel's forms m += (g - m)(1 - beta1), v += (g g - v)(1 - beta2),
    var -= m alpha / (sqrt(v) + epsilon)."""
    import jax.numpy as jnp
    lr, beta1, beta2, epsilon = (_f32(a) for a in (lr, beta1, beta2, epsilon))

    def init(params):
        return ([jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params],
                jnp.ones(2, jnp.float32))

    def update(params, grads, state):
        m, v, powers = state
        powers = powers * jnp.array([beta1, beta2], jnp.float32)
        b1p, b2p = powers.astype(params[0].dtype)
        alpha = lr * jnp.sqrt(1 - b2p) / (1 - b1p)
        m = [mi + (g - mi) * (1 - beta1) for mi, g in zip(m, grads)]
        v = [vi + (g * g - vi) * (1 - beta2) for vi, g in zip(v, grads)]
        params = [p - mi * alpha / (jnp.sqrt(vi) + epsilon) for p, mi, vi in zip(params, m, v)]
        return params, (m, v, powers)
    return init, update


def lecture_option(case, name):
    """A lecture setting as the case runs it: its lecture options' value, else the lecture's."""
    return case.lecture_options.get(name, getattr(case.lecture, name))


def _char_arrays(data, n_classes, dtype):
    """(one-hot inputs [batch, time, classes], target ids [batch, time]) of a char lecture's
    data: hihello's one-hot rows, char_seq's x_data / y_data, char_stacked's dataX / dataY."""
    if hasattr(data, "x_one_hot"):
        return np.asarray(data.x_one_hot, dtype), np.asarray(data.y_data)
    x, y = (data.x_data, data.y_data) if hasattr(data, "x_data") else (data.dataX, data.dataY)
    return np.eye(n_classes, dtype=dtype)[x], np.asarray(y)


def _char_sizes(weights):
    return weights["fully_connected/weights"].shape


# ---- the character LSTMs ------------------------------------------------------------------------
@register("torch", "hihello", "char_seq", "char_stacked")
class TorchChars(Trainer):
    """nn.LSTM (one layer or the MultiRNNCell's two) holding the TF1 cells (_cells), from zero
    states; addmm with fully_connected's weights on every output; the lecture's sequence_loss
    (weights of ones): F.cross_entropy summed / (batch * time + 1e-12); TF1's Adam(0.1). The
    inputs are one-hot once, as data (the lectures' tf.one_hot of a fed constant)."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.dev = torch, torch.nn.functional, torch_device()
        hidden, classes = _char_sizes(weights)
        x, y = _char_arrays(data, classes, dtype)
        self.x = torch.as_tensor(x, device=self.dev)
        self.y = torch.as_tensor(y.reshape(-1).astype(np.int64), device=self.dev)
        self.hidden, self.denominator = hidden, y.size + 1e-12
        self.rnn, params = torch_tf1_stack("lstm", tf1_cells(weights), dtype)
        self.fc = [torch.tensor(weights[n], device=self.dev, requires_grad=True)
                   for n in ("fully_connected/weights", "fully_connected/biases")]
        self.opt = TorchTF1Adam(params + self.fc, lecture_option(case, "learning_rate"))

    def step(self, i):
        out, _ = self.rnn(self.x)
        logits = self.torch.addmm(self.fc[1], out.reshape(-1, self.hidden), self.fc[0])
        loss = self.F.cross_entropy(logits, self.y, reduction="sum") / self.denominator
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


@register("jax", "hihello", "char_seq", "char_stacked")
class JaxChars(Trainer):
    """The same model as one jitted step: _cells.jax_tf1_stack (lax.scan), the dense layer,
    sequence_loss as the lecture's sum / (batch * time + 1e-12), jax_tf1_adam(0.1)."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        hidden, classes = _char_sizes(weights)
        x, y = _char_arrays(data, classes, dtype)
        self.x, self.y = jnp.asarray(x), jnp.asarray(y.reshape(-1, 1))
        denominator = y.size + 1e-12
        self.p = [jnp.asarray(a) for cell in tf1_cells(weights) for a in cell]
        self.p += [jnp.asarray(weights[n])
                   for n in ("fully_connected/weights", "fully_connected/biases")]
        init, update = jax_tf1_adam(lecture_option(case, "learning_rate"))
        self.state = init(self.p)

        def loss(p, x, y):
            out, _ = jax_tf1_stack("lstm", list(zip(p[:-2:2], p[1:-2:2])), x)
            logp = jax.nn.log_softmax(out.reshape(-1, hidden) @ p[-2] + p[-1])
            return -jnp.sum(jnp.take_along_axis(logp, y, 1)) / denominator

        def step(p, state, x, y):
            value, g = jax.value_and_grad(loss)(p, x, y)
            p, state = update(p, g, state)
            return p, state, value
        self._step = jax.jit(step)

    def step(self, i):
        self.p, self.state, value = self._step(self.p, self.state, self.x, self.y)
        return float(value)


# ---- the stock LSTM ------------------------------------------------------------------------------
@register("torch", "stock_lstm")
class TorchStock(Trainer):
    """nn.LSTM(5 -> 10) holding the TF1 cell, its last output -> addmm with fully_connected's
    [10, 1] -> the lecture's sum of squared errors (F.mse_loss, reduction "sum") on the whole
    training split; TF1's Adam(0.01)."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.dev = torch, torch.nn.functional, torch_device()
        self.x, self.y = (torch.as_tensor(a, device=self.dev) for a in (data.trainX, data.trainY))
        self.rnn, params = torch_tf1_stack("lstm", tf1_cells(weights), dtype)
        self.fc = [torch.tensor(weights[n], device=self.dev, requires_grad=True)
                   for n in ("fully_connected/weights", "fully_connected/biases")]
        self.opt = TorchTF1Adam(params + self.fc, lecture_option(case, "learning_rate"))

    def step(self, i):
        out, _ = self.rnn(self.x)
        prediction = self.torch.addmm(self.fc[1], out[:, -1], self.fc[0])
        loss = self.F.mse_loss(prediction, self.y, reduction="sum")
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


@register("jax", "stock_lstm")
class JaxStock(Trainer):
    """The same model as one jitted step: _cells.jax_tf1_stack, the last output's dense 1, the
    sum of squares, jax_tf1_adam(0.01)."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.x, self.y = jnp.asarray(data.trainX), jnp.asarray(data.trainY)
        (kernel, bias), = tf1_cells(weights)
        self.p = [jnp.asarray(a) for a in (kernel, bias, weights["fully_connected/weights"],
                                           weights["fully_connected/biases"])]
        init, update = jax_tf1_adam(lecture_option(case, "learning_rate"))
        self.state = init(self.p)

        def loss(p, x, y):
            out, _ = jax_tf1_stack("lstm", [(p[0], p[1])], x)
            return jnp.sum(jnp.square(out[:, -1] @ p[2] + p[3] - y))

        def step(p, state, x, y):
            value, g = jax.value_and_grad(loss)(p, x, y)
            p, state = update(p, g, state)
            return p, state, value
        self._step = jax.jit(step)

    def step(self, i):
        self.p, self.state, value = self._step(self.p, self.state, self.x, self.y)
        return float(value)
