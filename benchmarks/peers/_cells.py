"""TensorFlow's recurrent cells in the peers' libraries, holding a case's own weights.

torch: the library's fused modules (nn.RNN, nn.LSTM, nn.GRU, `num_layers` for a stack) with the
TF weights mapped in. JAX: per layer, the input half of the matmul for every step at once, then
`lax.scan` over time of the recurrent half (the same sums as TF's [x, h] @ K, split in two).

    TF1 BasicRNNCell     h = tanh([x, h] @ K + b)                           K (in + H, H)
    TF1 BasicLSTMCell    i, j, f, o = [x, h] @ K + b                        K (in + H, 4H)
                         c = c * sig(f + forget_bias) + sig(i) * tanh(j);  h = tanh(c) * sig(o)
    Keras LSTM           i, f, c, o = x @ W + h @ U + b  (then as above, forget_bias 0)
    Keras GRU            z, r, hh blocks; reset_after: bias (2, 3H), input and recurrent rows;
                         hh = tanh(x Wh + b0h + r * (h Uh + b1h));  h = z * h + (1 - z) * hh
    torch nn.LSTM        gates i, f, g, o; weight_ih (4H, in), weight_hh (4H, H), two biases
    torch nn.GRU         gates r, z, n; n = tanh(x Wn + b_in + r * (h Un + b_hn)) (reset after)

A torch module's bias_hh is a second bias TF has not got: for TF1 cells it is frozen (no
gradient, not given to the optimizer) and holds the constant forget_bias (LSTM) or zero, so the
optimizer sees exactly TF's variables. Keras's GRU has both biases, so both train.
Layouts follow TF's `time_major`: False (default) [batch, time, ...], True [time, batch, ...].
"""
import numpy as np

from benchmarks.peers import torch_device

TF1_GATES = {"rnn": 1, "lstm": 4}


def tf1_cells(weights, scope="rnn"):
    """[(kernel, bias)] of the TF1 cells under `scope/` (one cell or a MultiRNNCell's), bottom
    layer first, in the order the program made them (`.../kernel` beside `.../bias`)."""
    kernels = [n for n in weights if n.startswith(scope + "/") and n.endswith("/kernel")]
    if not kernels:
        raise KeyError(f"no TF1 cell kernel under {scope!r} in {sorted(weights)}")
    return [(weights[k], weights[k[:-len("kernel")] + "bias"]) for k in kernels]


def _tf1_sizes(kind, cells):
    """(input size, units) of a TF1 stack, checked: torch's stacks need one size per layer."""
    units = cells[0][0].shape[1] // TF1_GATES[kind]
    n_in = cells[0][0].shape[0] - units
    for k, (kernel, bias) in enumerate(cells):
        want = ((n_in if k == 0 else units) + units, TF1_GATES[kind] * units)
        if kernel.shape != want or bias.shape != (want[1],):
            raise ValueError(f"{kind} cell {k}: kernel {kernel.shape}, bias {bias.shape}; "
                             f"a stack of {units} units needs kernel {want}")
    return n_in, units


def _torch_lstm_order(a):
    """TF1 BasicLSTMCell's gate blocks i, j, f, o (last axis) in torch's order i, f, g(=j), o."""
    i, j, f, o = np.split(a, 4, axis=-1)
    return np.concatenate([i, f, j, o], axis=-1)


def _torch_gru_order(a):
    """Keras GRU's gate blocks z, r, h (last axis) in torch's order r, z, n(=h)."""
    z, r, h = np.split(a, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def _torch_module(cls, n_in, units, layers, dtype, time_major):
    import torch
    return cls(n_in, units, num_layers=layers, batch_first=not time_major,
               dtype=getattr(torch, np.dtype(dtype).name), device=torch_device())


def _torch_set(module, layer, w_ih, w_hh, b_ih, b_hh):
    """Copy arrays into layer `layer` of a torch RNN module (weights as TF: [in, gates])."""
    import torch
    with torch.no_grad():
        for name, a in (("weight_ih", w_ih.T), ("weight_hh", w_hh.T), ("bias_ih", b_ih),
                        ("bias_hh", b_hh)):
            getattr(module, f"{name}_l{layer}").copy_(torch.from_numpy(np.ascontiguousarray(a)))


def torch_tf1_stack(kind, cells, dtype, forget_bias=1.0, time_major=False):
    """nn.RNN (tanh) or nn.LSTM of len(cells) layers holding TF1 BasicRNNCell /
    BasicLSTMCell weights `cells` = [(kernel, bias)]; returns (module, params), params the
    trainable tensors (weight_ih, weight_hh, bias_ih per layer; bias_hh frozen, see above)."""
    import torch
    n_in, units = _tf1_sizes(kind, cells)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.RNN
    module = _torch_module(cls, n_in, units, len(cells), dtype, time_major)
    params = []
    for k, (kernel, bias) in enumerate(cells):
        fixed = np.zeros_like(bias)
        if kind == "lstm":
            kernel, bias = _torch_lstm_order(kernel), _torch_lstm_order(bias)
            fixed[units:2 * units] = forget_bias          # torch's f block
        rows = n_in if k == 0 else units
        _torch_set(module, k, kernel[:rows], kernel[rows:], bias, fixed)
        getattr(module, f"bias_hh_l{k}").requires_grad_(False)
        params += [getattr(module, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih")]
    return module, params


def torch_keras_rnn(kind, kernel, recurrent_kernel, bias, dtype, time_major=False):
    """nn.LSTM or nn.GRU (one layer) holding a Keras LSTM's or GRU's (reset_after=True)
    kernel, recurrent_kernel, bias; returns (module, params), params the trainable tensors
    (LSTM: bias_hh frozen at zero, Keras has one bias; GRU: bias[0] -> bias_ih, bias[1] ->
    bias_hh, both trained)."""
    import torch
    units = recurrent_kernel.shape[0]
    if kind == "lstm":           # Keras i, f, c, o is torch's i, f, g, o
        module = _torch_module(torch.nn.LSTM, kernel.shape[0], units, 1, dtype, time_major)
        _torch_set(module, 0, kernel, recurrent_kernel, bias, np.zeros_like(bias))
        module.bias_hh_l0.requires_grad_(False)
    elif kind == "gru":
        if bias.shape != (2, 3 * units):
            raise ValueError(f"GRU bias {bias.shape}: reset_after=True has (2, {3 * units})")
        module = _torch_module(torch.nn.GRU, kernel.shape[0], units, 1, dtype, time_major)
        _torch_set(module, 0, *(_torch_gru_order(a) for a in (kernel, recurrent_kernel,
                                                                bias[0], bias[1])))
    else:
        raise ValueError(f"no Keras {kind!r} layer here; 'lstm' or 'gru'")
    return module, [p for p in module.parameters() if p.requires_grad]


# ---- JAX ---------------------------------------------------------------------------------------
def _scan(cell, xw, init, time_major):
    """lax.scan of `cell(carry, xw_t) -> (carry, h_t)` over time; (outputs, final carry), the
    outputs in the input's layout."""
    import jax
    import jax.numpy as jnp
    xs = xw if time_major else jnp.swapaxes(xw, 0, 1)
    carry, ys = jax.lax.scan(cell, init, xs)
    return (ys if time_major else jnp.swapaxes(ys, 0, 1)), carry


def lstm_cell(u, order, forget_bias):
    """The LSTM step on the input half `xw_t` (x @ W + b); `order` names the gate blocks."""
    import jax
    import jax.numpy as jnp
    slot = {g: k for k, g in enumerate(order)}

    def cell(carry, xw_t):
        c, h = carry
        z = jnp.split(xw_t + h @ u, 4, axis=-1)
        i, j, f, o = (z[slot[g]] for g in "ijfo")
        c = c * jax.nn.sigmoid(f + forget_bias) + jax.nn.sigmoid(i) * jnp.tanh(j)
        h = jnp.tanh(c) * jax.nn.sigmoid(o)
        return (c, h), h
    return cell


def _rnn_cell(u):
    import jax.numpy as jnp

    def cell(h, xw_t):
        h = jnp.tanh(xw_t + h @ u)
        return h, h
    return cell


def _zeros(xw, units, time_major):
    import jax.numpy as jnp
    return jnp.zeros((xw.shape[1 if time_major else 0], units), xw.dtype)


def jax_tf1_stack(kind, cells, x, forget_bias=1.0, time_major=False):
    """x through a stack of TF1 BasicRNNCell / BasicLSTMCell `cells` = [(kernel, bias)] (jax
    arrays), from zero states, as dynamic_rnn: (outputs of the top layer in x's layout, [each
    layer's final state]: h for RNN, (c, h) for LSTM, as LSTMStateTuple)."""
    states = []
    for kernel, bias in cells:
        n_in = x.shape[-1]
        units = kernel.shape[0] - n_in
        xw = x @ kernel[:n_in] + bias
        h0 = _zeros(xw, units, time_major)
        if kind == "lstm":
            cell, init = lstm_cell(kernel[n_in:], "ijfo", forget_bias), (h0, h0)
        else:
            cell, init = _rnn_cell(kernel[n_in:]), h0
        x, state = _scan(cell, xw, init, time_major)
        states.append(state)
    return x, states


def jax_keras_rnn(kind, kernel, recurrent_kernel, bias, x, time_major=False):
    """x through a Keras LSTM or GRU (reset_after=True) layer from zero states: (outputs in
    x's layout, final state: (c, h) for LSTM, h for GRU)."""
    import jax
    import jax.numpy as jnp
    units = recurrent_kernel.shape[0]
    if kind == "lstm":
        xw = x @ kernel + bias
        h0 = _zeros(xw, units, time_major)
        return _scan(lstm_cell(recurrent_kernel, "ifjo", 0.0), xw, (h0, h0), time_major)
    xw = x @ kernel + bias[0]

    def cell(h, xw_t):
        xz, xr, xh = jnp.split(xw_t, 3, axis=-1)
        hz, hr, hh = jnp.split(h @ recurrent_kernel + bias[1], 3, axis=-1)
        z, r = jax.nn.sigmoid(xz + hz), jax.nn.sigmoid(xr + hr)
        h = z * h + (1 - z) * jnp.tanh(xh + r * hh)
        return h, h
    return _scan(cell, xw, _zeros(xw, units, time_major), time_major)
