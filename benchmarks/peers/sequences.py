"""Deck 002's character and stock LSTMs and its RNN-basics fit (the cases' weights and data).

    hihello, char_seq   one BasicLSTMCell, fully_connected on every output, sequence_loss
    char_stacked        MultiRNNCell of 2 BasicLSTMCells, the same head and loss
    stock_lstm          BasicLSTMCell(10), fully_connected 1 on the last output, sum of squares
    rnn_basics          every cell of lab 12-0 fitted to fixed targets

All of them train with TF1's AdamOptimizer (_tf1's form "tf1").
"""
import numpy as np

from benchmarks.peers import register, torch_device
from benchmarks.peers._cells import jax_tf1_stack, lstm_cell, tf1_cells, torch_tf1_stack
from benchmarks.peers._tf1 import TorchAdam, jax_adam, jax_step
from parity.cases.rnn_basics import ARANGE, HELLO
from parity.harness import Trainer


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
class _TorchLstmFc(Trainer):
    """The TF1 LSTM cells as one nn.LSTM (_cells), fully_connected's weights, TF1's Adam at the
    lecture's rate; a subclass sets self.x and gives `loss(outputs)`, then calls `_build`."""

    def _build(self, case, weights, dtype):
        torch = self.torch
        self.rnn, params = torch_tf1_stack("lstm", tf1_cells(weights), dtype)
        self.fc = [torch.tensor(weights[n], device=self.dev, requires_grad=True)
                   for n in ("fully_connected/weights", "fully_connected/biases")]
        self.opt = TorchAdam(params + self.fc, lecture_option(case, "learning_rate"))

    def step(self, i):
        out, _ = self.rnn(self.x)
        loss = self.loss(out)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


@register("torch", "hihello", "char_seq", "char_stacked")
class TorchChars(_TorchLstmFc):
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
        self._build(case, weights, dtype)

    def loss(self, out):
        logits = self.torch.addmm(self.fc[1], out.reshape(-1, self.hidden), self.fc[0])
        return self.F.cross_entropy(logits, self.y, reduction="sum") / self.denominator


@register("jax", "hihello", "char_seq", "char_stacked")
class JaxChars(Trainer):
    """The same model as one jitted step: _cells.jax_tf1_stack (lax.scan), the dense layer,
    sequence_loss as the lecture's sum / (batch * time + 1e-12), jax_adam(0.1)."""

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
        init, update = jax_adam(lecture_option(case, "learning_rate"))
        self.state = init(self.p)

        def loss(p, x, y):
            out, _ = jax_tf1_stack("lstm", list(zip(p[:-2:2], p[1:-2:2])), x)
            logp = jax.nn.log_softmax(out.reshape(-1, hidden) @ p[-2] + p[-1])
            return -jnp.sum(jnp.take_along_axis(logp, y, 1)) / denominator

        self._step = jax_step(loss, update)

    def step(self, i):
        self.p, self.state, value = self._step(self.p, self.state, self.x, self.y)
        return float(value)


# ---- the stock LSTM -----------------------------------------------------------------------------
@register("torch", "stock_lstm")
class TorchStock(_TorchLstmFc):
    """nn.LSTM(5 -> 10) holding the TF1 cell, its last output -> addmm with fully_connected's
    [10, 1] -> the lecture's sum of squared errors (F.mse_loss, reduction "sum") on the whole
    training split; TF1's Adam(0.01)."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, self.F, self.dev = torch, torch.nn.functional, torch_device()
        self.x, self.y = (torch.as_tensor(a, device=self.dev) for a in (data.trainX, data.trainY))
        self._build(case, weights, dtype)

    def loss(self, out):
        prediction = self.torch.addmm(self.fc[1], out[:, -1], self.fc[0])
        return self.F.mse_loss(prediction, self.y, reduction="sum")


@register("jax", "stock_lstm")
class JaxStock(Trainer):
    """The same model as one jitted step: _cells.jax_tf1_stack, the last output's dense 1, the
    sum of squares, jax_adam(0.01)."""

    def __init__(self, case, weights, data, dtype):
        import jax.numpy as jnp
        self.x, self.y = jnp.asarray(data.trainX), jnp.asarray(data.trainY)
        (kernel, bias), = tf1_cells(weights)
        self.p = [jnp.asarray(a) for a in (kernel, bias, weights["fully_connected/weights"],
                                           weights["fully_connected/biases"])]
        init, update = jax_adam(lecture_option(case, "learning_rate"))
        self.state = init(self.p)

        def loss(p, x, y):
            out, _ = jax_tf1_stack("lstm", [(p[0], p[1])], x)
            return jnp.sum(jnp.square(out[:, -1] @ p[2] + p[3] - y))

        self._step = jax_step(loss, update)

    def step(self, i):
        self.p, self.state, value = self._step(self.p, self.state, self.x, self.y)
        return float(value)


# ---- lab 12-0's cells ---------------------------------------------------------------------------
# What _cells has not got, for rnn_basics: dynamic_rnn's sequence_length, the bidirectional run
# and TF1's GRUCell (candidate kernel on [x, r * h], which nn.GRU's reset-after form is not).
BASICS_LENGTHS = {"3_batches_dynamic_length": [5, 3, 4], "dynamic_rnn": [1, 3, 2],
                  "bi-directional": [2, 3, 1]}


def _gru_weights(weights, scope):
    return [weights[f"{scope}/rnn/gru_cell/{k}"]
            for k in ("gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")]


def _fitted_targets(shapes, dtype):
    """The lecture's fixed targets: U(-0.5, 0.5) from RandomState(1234), one per fitted value
    in the order of its `show` (see parity/lectures/rnn_basics.py)."""
    rng = np.random.RandomState(1234)
    return [rng.uniform(-0.5, 0.5, s).astype(dtype) for s in shapes]


def _sum_of_mse(values, targets):
    """The lecture's cost: the mean squared errors, summed from the first."""
    terms = [((v - t) ** 2).mean() for v, t in zip(values, targets)]
    return sum(terms[1:], terms[0])


def _torch_packed(module, x, lengths):
    """A torch RNN module over x [batch, time, in] with TF's sequence_length: outputs zero
    past each length, final states at it (pack_padded_sequence)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, state = module(packed)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], state


def _torch_bidirectional(fw, bw, dtype):
    """nn.LSTM(bidirectional=True) holding two one-layer TF1 LSTM modules' tensors (from
    _cells.torch_tf1_stack: the gate mapping is theirs), bias_hh frozen as there."""
    import torch
    module = torch.nn.LSTM(fw.input_size, fw.hidden_size, batch_first=True, bidirectional=True,
                           dtype=getattr(torch, np.dtype(dtype).name), device=torch_device())
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(module, f"{name}_l0").copy_(getattr(fw, f"{name}_l0"))
            getattr(module, f"{name}_l0_reverse").copy_(getattr(bw, f"{name}_l0"))
    module.bias_hh_l0.requires_grad_(False)
    module.bias_hh_l0_reverse.requires_grad_(False)
    return module, [p for p in module.parameters() if p.requires_grad]


def _torch_gru(x, gates_kernel, gates_bias, candidate_kernel, candidate_bias):
    """TF1's GRUCell over x [batch, time, in] from a zero state: r, u = sig([x, h] Kg + bg);
    h = u h + (1 - u) tanh([x, r h] Kc + bc). (outputs, final h)"""
    import torch
    n_in = x.shape[-1]
    xg = x @ gates_kernel[:n_in] + gates_bias              # the input halves, every step at once
    xc = x @ candidate_kernel[:n_in] + candidate_bias
    h = x.new_zeros(x.shape[0], candidate_kernel.shape[1])
    outputs = []
    for t in range(x.shape[1]):
        r, u = torch.sigmoid(xg[:, t] + h @ gates_kernel[n_in:]).chunk(2, 1)
        h = u * h + (1 - u) * torch.tanh(xc[:, t] + (r * h) @ candidate_kernel[n_in:])
        outputs.append(h)
    return torch.stack(outputs, 1), h


@register("torch", "rnn_basics")
class TorchRnnBasics(Trainer):
    """Lab 12-0's step: every cell's outputs (and the states the lecture shows) fitted to its
    fixed targets, sum of mean squared errors, TF1's Adam(0.01). nn.RNN / nn.LSTM (num_layers
    3 for the MultiRNNCell) holding the TF1 cells; sequence_length by pack_padded_sequence;
    bidirectional_dynamic_rnn as nn.LSTM(bidirectional=True) on the packed batch. TF1's
    GRUCell is a loop over the 5 steps: nn.GRU applies the reset gate after the recurrent
    matmul (r * (h U + b)), TF1 before it ((r * h) U), so nn.GRU cannot hold it."""

    def __init__(self, case, weights, data, dtype):
        import torch
        self.torch, dev = torch, torch_device()
        self.hello = torch.as_tensor(HELLO, dtype=getattr(torch, np.dtype(dtype).name),
                                     device=dev)
        self.arange = torch.as_tensor(ARANGE, dtype=self.hello.dtype, device=dev)
        self.rnn, params = {}, []
        for scope in ("one_cell", "two_sequances", "3_batches", "3_batches_dynamic_length",
                      "initial_state", "generated_data", "MultiRNNCell", "dynamic_rnn"):
            kind = "rnn" if scope in ("one_cell", "two_sequances") else "lstm"
            self.rnn[scope], more = torch_tf1_stack(kind, tf1_cells(weights, f"{scope}/rnn"),
                                                    dtype)
            params += more
        bi = "bi-directional/bidirectional_rnn"
        fw, bw = (torch_tf1_stack("lstm", tf1_cells(weights, f"{bi}/{d}"), dtype)[0]
                  for d in ("fw", "bw"))
        self.rnn["bi-directional"], more = _torch_bidirectional(fw, bw, dtype)
        params += more
        self.gru = {scope: [torch.tensor(a, device=dev, requires_grad=True)
                            for a in _gru_weights(weights, scope)]
                    for scope in ("gru", "gru_generated_data")}
        params += [p for ps in self.gru.values() for p in ps]
        with torch.no_grad():
            shapes = [tuple(v.shape) for v in self.fitted()]
        self.targets = [torch.as_tensor(t, device=dev) for t in _fitted_targets(shapes, dtype)]
        self.opt = TorchAdam(params, 0.01)

    def fitted(self):
        """The lecture's `show`, its leaves in order (an LSTM state is (c, h))."""
        rnn, hello, arange = self.rnn, self.hello, self.arange
        values = [rnn["one_cell"](hello[:1, :1])[0], rnn["two_sequances"](hello[:1])[0],
                  rnn["3_batches"](hello)[0]]
        out, (h, c) = _torch_packed(rnn["3_batches_dynamic_length"], hello,
                                    BASICS_LENGTHS["3_batches_dynamic_length"])
        values += [out, c[0], h[0], rnn["initial_state"](hello)[0],
                   _torch_gru(hello, *self.gru["gru"])[0],
                   rnn["generated_data"](arange)[0], rnn["MultiRNNCell"](arange)[0],
                   _torch_packed(rnn["dynamic_rnn"], arange, BASICS_LENGTHS["dynamic_rnn"])[0]]
        out, (h, c) = _torch_packed(rnn["bi-directional"], arange,
                                    BASICS_LENGTHS["bi-directional"])
        values += [*out.chunk(2, 2), c[0], h[0], c[1], h[1]]
        return values + list(_torch_gru(arange, *self.gru["gru_generated_data"]))

    def step(self, i):
        cost = _sum_of_mse(self.fitted(), self.targets)
        self.opt.zero_grad()
        cost.backward()
        self.opt.step()
        return cost.item()


def _jax_lstm_lengths(kernel, bias, x, lengths, forget_bias=1.0):
    """x [batch, time, in] through one TF1 BasicLSTMCell as dynamic_rnn with sequence_length:
    from step lengths[b] on, row b's output is zero and its state held. (outputs, (c, h))"""
    import jax
    import jax.numpy as jnp
    n_in, (batch, time) = x.shape[-1], x.shape[:2]
    units = kernel.shape[0] - n_in
    xw = jnp.swapaxes(x @ kernel[:n_in] + bias, 0, 1)
    live = np.arange(time)[:, None, None] < np.asarray(lengths)[None, :, None]
    cell = lstm_cell(kernel[n_in:], "ijfo", forget_bias)

    def masked(carry, inputs):
        xw_t, live_t = inputs
        new, h = cell(carry, xw_t)
        return tuple(jnp.where(live_t, n, o) for n, o in zip(new, carry)), jnp.where(live_t, h, 0)
    zeros = jnp.zeros((batch, units), x.dtype)
    state, ys = jax.lax.scan(masked, (zeros, zeros), (xw, live))
    return jnp.swapaxes(ys, 0, 1), state


def _reverse_sequence(x, lengths):
    """tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0): each row's first lengths[b]
    steps reversed, the rest kept."""
    import jax.numpy as jnp
    t, n = np.arange(x.shape[1])[None, :], np.asarray(lengths)[:, None]
    return jnp.take_along_axis(x, np.where(t < n, n - 1 - t, t)[:, :, None], 1)


def _jax_bidirectional(fw, bw, x, lengths):
    """bidirectional_dynamic_rnn of two TF1 LSTM cells: ((out_fw, out_bw), (state_fw,
    state_bw)), the backward cell run on the length-reversed rows, its outputs reversed back."""
    out_fw, state_fw = _jax_lstm_lengths(*fw, x, lengths)
    out_bw, state_bw = _jax_lstm_lengths(*bw, _reverse_sequence(x, lengths), lengths)
    return (out_fw, _reverse_sequence(out_bw, lengths)), (state_fw, state_bw)


def _jax_gru(x, gates_kernel, gates_bias, candidate_kernel, candidate_bias):
    """TF1's GRUCell over x [batch, time, in] from a zero state, lax.scan (see _torch_gru)."""
    import jax
    import jax.numpy as jnp
    n_in = x.shape[-1]
    xg = jnp.swapaxes(x @ gates_kernel[:n_in] + gates_bias, 0, 1)
    xc = jnp.swapaxes(x @ candidate_kernel[:n_in] + candidate_bias, 0, 1)

    def cell(h, inputs):
        xg_t, xc_t = inputs
        r, u = jnp.split(jax.nn.sigmoid(xg_t + h @ gates_kernel[n_in:]), 2, axis=-1)
        h = u * h + (1 - u) * jnp.tanh(xc_t + (r * h) @ candidate_kernel[n_in:])
        return h, h
    h0 = jnp.zeros((x.shape[0], candidate_kernel.shape[1]), x.dtype)
    h, ys = jax.lax.scan(cell, h0, (xg, xc))
    return jnp.swapaxes(ys, 0, 1), h


@register("jax", "rnn_basics")
class JaxRnnBasics(Trainer):
    """TorchRnnBasics's step as one jitted step: _cells.jax_tf1_stack for the cells run whole,
    a masked lax.scan for sequence_length, reverse_sequence around the backward cell, TF1's
    GRUCell as a lax.scan, jax_adam(0.01)."""

    def __init__(self, case, weights, data, dtype):
        import jax
        import jax.numpy as jnp
        hello, arange = jnp.asarray(HELLO, dtype), jnp.asarray(ARANGE, dtype)
        bi = "bi-directional/bidirectional_rnn"
        scopes = {s: f"{s}/rnn" for s in ("one_cell", "two_sequances", "3_batches",
                                          "3_batches_dynamic_length", "initial_state",
                                          "generated_data", "MultiRNNCell", "dynamic_rnn")}
        scopes.update(fw=f"{bi}/fw", bw=f"{bi}/bw")
        self.p = {s: [tuple(jnp.asarray(a) for a in c) for c in tf1_cells(weights, scope)]
                  for s, scope in scopes.items()}
        self.p.update({s: [tuple(jnp.asarray(a) for a in _gru_weights(weights, s))]
                       for s in ("gru", "gru_generated_data")})

        def fitted(p):
            def whole(kind, scope, x):
                return jax_tf1_stack(kind, p[scope], x)[0]

            def lengths(scope, x):
                return _jax_lstm_lengths(*p[scope][0], x, BASICS_LENGTHS[scope])
            out, state = lengths("3_batches_dynamic_length", hello)
            values = [whole("rnn", "one_cell", hello[:1, :1]), whole("rnn", "two_sequances",
                      hello[:1]), whole("lstm", "3_batches", hello), out, *state,
                      whole("lstm", "initial_state", hello), _jax_gru(hello, *p["gru"][0])[0],
                      whole("lstm", "generated_data", arange),
                      whole("lstm", "MultiRNNCell", arange), lengths("dynamic_rnn", arange)[0]]
            outs, states = _jax_bidirectional(p["fw"][0], p["bw"][0], arange,
                                              BASICS_LENGTHS["bi-directional"])
            return values + [*outs, *states[0], *states[1],
                             *_jax_gru(arange, *p["gru_generated_data"][0])]

        shapes = [v.shape for v in jax.eval_shape(fitted, self.p)]
        targets = [jnp.asarray(t) for t in _fitted_targets(shapes, dtype)]
        leaves, tree = jax.tree_util.tree_flatten(self.p)
        init, update = jax_adam(0.01)
        self.leaves, self.state = leaves, init(leaves)

        def cost(leaves):
            return _sum_of_mse(fitted(jax.tree_util.tree_unflatten(tree, leaves)), targets)

        def step(leaves, state):
            value, g = jax.value_and_grad(cost)(leaves)
            leaves, state = update(leaves, g, state)
            return leaves, state, value
        self._step = jax.jit(step)

    def step(self, i):
        self.leaves, self.state, value = self._step(self.leaves, self.state)
        return float(value)
