"""The MNIST-rows RNNs (parity/lectures/mnist_rnn.py), from the case's TF1 weights.

`TorchRows` / `JaxRows` hold what every MNIST-rows classifier shares (rows -> recurrent layers
-> the last step's output -> dense 10 -> mean sparse softmax cross-entropy, TF's Adam); a
subclass says which recurrent layers (`_rnn`). keras.py builds its Keras LSTM / GRU peers on
them.
"""
from benchmarks.peers import register, torch_device
from benchmarks.peers._cells import jax_tf1_stack, tf1_cells, torch_tf1_stack
from benchmarks.peers._tf1 import TorchAdam, jax_adam, jax_step
from parity.harness import Trainer

BATCH_MAJOR = ("rnn_mnist", "rnn_mnist_stacked", "rnn_mnist_static", "rnn_mnist_static_stacked",
               "lstm_mnist")
TIME_MAJOR = ("rnn_mnist_time_major", "rnn_mnist_time_major_stacked")


class TorchRows(Trainer):
    """Rows [batch, 28, 28] -> `_rnn` -> last output -> dense 10 -> F.cross_entropy (mean),
    TorchAdam (TF's Adam: `adam_form`, `epsilon`); `time_major` feeds the module [28, batch,
    28]."""
    time_major = False
    adam_form, epsilon = "tf1", 1e-8

    def _rnn(self, case, weights, dtype):
        """(torch RNN module, its trainable tensors)."""
        raise NotImplementedError

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.data = torch, torch.nn.functional, data
        self.device = torch_device()
        self.rnn, params = self._rnn(case, weights, dtype)
        self.dense = [torch.tensor(weights[n], device=self.device, requires_grad=True)
                      for n in ("dense/kernel", "dense/bias")]
        self.opt = TorchAdam(params + self.dense, case.learning_rate, epsilon=self.epsilon,
                             form=self.adam_form)

    def step(self, i):
        x, y = (self.torch.tensor(a, device=self.device) for a in self.data.batch(i))
        if self.time_major:
            x = x.transpose(0, 1)
        out, _ = self.rnn(x)
        last = out[-1] if self.time_major else out[:, -1]
        cost = self.F.cross_entropy(self.torch.addmm(self.dense[1], last, self.dense[0]), y)
        self.opt.zero_grad()
        cost.backward()
        self.opt.step()
        return cost.item()


class JaxRows(Trainer):
    """The same classifier as one jitted step: value_and_grad of the cost, then jax_adam
    (TF's Adam: `adam_form`, `epsilon`)."""
    time_major = False
    adam_form, epsilon = "tf1", 1e-8

    def _rnn(self, case, weights):
        """(arrays, run): the recurrent layers' weights, and `run(arrays, x)` -> (outputs,
        states) for rows x in the `time_major` layout."""
        raise NotImplementedError

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        self.data = data
        arrays, run = self._rnn(case, weights)
        self.p = [jnp.asarray(a) for a in arrays + [weights["dense/kernel"],
                                                    weights["dense/bias"]]]
        init, update = jax_adam(case.learning_rate, epsilon=self.epsilon, form=self.adam_form)
        self.state = init(self.p)
        time_major = self.time_major

        def cost(p, x, y):
            if time_major:
                x = jnp.swapaxes(x, 0, 1)
            out, _ = run(p[:-2], x)
            logits = (out[-1] if time_major else out[:, -1]) @ p[-2] + p[-1]
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))

        self._step = jax_step(cost, update)

    def step(self, i):
        self.p, self.state, value = self._step(self.p, self.state, *self.data.batch(i))
        return float(value)


@register("torch", *BATCH_MAJOR)
class TorchRowsRNN(TorchRows):
    """The lecture's cells as one nn.RNN (tanh) / nn.LSTM of `num_layers`, TF's weights mapped
    in (_cells.torch_tf1_stack). static_rnn over the unstacked rows is the same math as
    dynamic_rnn, so the static cases run this same peer."""

    def _rnn(self, case, weights, dtype):
        return torch_tf1_stack(case.kind, tf1_cells(weights), dtype, time_major=self.time_major)


@register("torch", *TIME_MAJOR)
class TorchRowsRNNTimeMajor(TorchRowsRNN):
    """As the lecture: the rows transposed to [28, batch, 28], the module time-major. The
    lecture feeds sequence_length = 28 for every image, the whole sequence, so nothing is
    masked and the last output is step 28's: the module runs the full length."""
    time_major = True


@register("jax", *BATCH_MAJOR)
class JaxRowsRNN(JaxRows):
    """The lecture's cells as lax.scan over the rows (_cells.jax_tf1_stack); static_rnn as
    dynamic_rnn (the same math)."""

    def _rnn(self, case, weights):
        kind, time_major = case.kind, self.time_major

        def run(p, x):
            return jax_tf1_stack(kind, list(zip(p[::2], p[1::2])), x, time_major=time_major)
        return [a for cell in tf1_cells(weights) for a in cell], run


@register("jax", *TIME_MAJOR)
class JaxRowsRNNTimeMajor(JaxRowsRNN):
    """Time-major rows, as TorchRowsRNNTimeMajor (sequence_length = 28 everywhere: no mask)."""
    time_major = True
