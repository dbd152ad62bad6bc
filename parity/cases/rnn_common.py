"""What the RNN parity cases share.

- initial weights in TF1's layouts and names, made with numpy (`stack_weights`, `dense_weights`);
- one cell factory for both engines: `make_cell(tf.compat.v1.nn.rnn_cell, ...)` and
  `make_cell(mg.nn.rnn_cell, ...)` build the same cell, because the names are the same;
- copying weights BY POSITION into a minigrad cell's or layer's weights, shapes checked;
- the TF1 -> Keras layout conversions the tf.function references need;
- a lecture program's TF1 default initial values under its variable names (`lecture_weights`).
"""
import warnings

import numpy as np

from parity.tf_env import import_tf

CELL_CLASS = {"rnn": "BasicRNNCell", "lstm": "BasicLSTMCell", "gru": "GRUCell"}
CELL_SCOPE = {"rnn": "basic_rnn_cell", "lstm": "basic_lstm_cell", "gru": "gru_cell"}


# ---- initial weights ---------------------------------------------------------------------------
def glorot_uniform(rng, shape):
    """U(-L, L), L = sqrt(6 / (fan_in + fan_out)): `get_variable`'s default initializer."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, shape)


def cell_weights(rng, kind, input_size, units):
    """One TF1 cell's initial weights as [(name, array)], in the order of its `weights`."""
    n = input_size + units
    if kind == "rnn":
        return [("kernel", glorot_uniform(rng, (n, units))), ("bias", np.zeros(units))]
    if kind == "lstm":
        return [("kernel", glorot_uniform(rng, (n, 4 * units))), ("bias", np.zeros(4 * units))]
    if kind == "gru":   # NOTE: TF1's GRUCell starts the gates' bias at 1.0, the candidate's at 0
        return [("gates/kernel", glorot_uniform(rng, (n, 2 * units))),
                ("gates/bias", np.ones(2 * units)),
                ("candidate/kernel", glorot_uniform(rng, (n, units))),
                ("candidate/bias", np.zeros(units))]
    raise ValueError(f"unknown cell kind {kind!r}; one of {sorted(CELL_CLASS)}")


def stack_weights(rng, kind, input_size, layers, scope="rnn"):
    """Weights of one cell (one layer) or a MultiRNNCell (several), named as TF1 names them
    (`rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel`), in `cell.weights` order."""
    out = {}
    for k, units in enumerate(layers):
        prefix = (f"{scope}/{CELL_SCOPE[kind]}" if len(layers) == 1 else
                  f"{scope}/multi_rnn_cell/cell_{k}/{CELL_SCOPE[kind]}")
        for name, w in cell_weights(rng, kind, input_size, units):
            out[f"{prefix}/{name}"] = w
        input_size = units
    return out


def dense_weights(rng, n_in, n_out, name="fully_connected"):
    """contrib.layers.fully_connected / layers.dense: xavier kernel [in, out], zero bias."""
    return {f"{name}/kernel": glorot_uniform(rng, (n_in, n_out)), f"{name}/bias": np.zeros(n_out)}


def under(weights, scope):
    """The arrays whose names start with `scope/`, in order."""
    return [w for name, w in weights.items() if name.startswith(scope + "/")]


# ---- building and copying, either engine -------------------------------------------------------
def make_cell(rnn_cell, kind, layers, **kwargs):
    """`rnn_cell` is `tf.compat.v1.nn.rnn_cell` or `mg.nn.rnn_cell`: one cell for one layer,
    a MultiRNNCell of them for several."""
    cls = getattr(rnn_cell, CELL_CLASS[kind])
    cells = [cls(units, **kwargs) for units in layers]
    return cells[0] if len(cells) == 1 else rnn_cell.MultiRNNCell(cells, state_is_tuple=True)


def check_layout(owner, variables, arrays):
    """Copying by position needs the same count and shapes, in the same order."""
    have = [tuple(int(d) for d in v.shape) for v in variables]
    want = [tuple(a.shape) for a in arrays]
    if have != want:
        raise ValueError(f"{owner}.weights have shapes {have}; the case's initial weights "
                         f"(TF1 order) have {want}")


def mg_copy(owner, variables, arrays):
    """Assign `arrays` to a minigrad cell's or layer's variables, by position."""
    variables = list(variables)
    check_layout(owner, variables, arrays)
    for v, a in zip(variables, arrays):
        v.assign(a)
    return variables


# ---- TensorFlow helpers ------------------------------------------------------------------------
def tf_for(device="cpu"):
    tf = import_tf(device)
    tf.get_logger().setLevel("ERROR")   # the legacy cells' deprecation notices
    return tf


# ---- TF1 cell layouts -> Keras cell layouts (for the tf.function references) -------------------
def keras_cell_weights(kind, arrays, input_size, forget_bias=1.0):
    """One TF1 cell's [kernel, bias...] as the Keras cell's [kernel, recurrent_kernel, bias].

    BasicLSTMCell: gates i, j, f, o with `forget_bias` added at run time; Keras: i, f, c, o
    with the forget bias in the bias. GRUCell: gates r, u then the candidate; Keras
    (reset_after=False): z(=u), r, h, where `tanh(x Wh + (r*h) Uh + b)` is TF1's candidate.
    """
    if kind == "rnn":
        k, b = arrays
        return [k[:input_size], k[input_size:], b]
    if kind == "lstm":
        k, b = arrays
        i, j, f, o = np.split(k, 4, axis=1)
        bi, bj, bf, bo = np.split(b, 4)
        k = np.concatenate([i, f, j, o], axis=1)
        return [k[:input_size], k[input_size:], np.concatenate([bi, bf + forget_bias, bj, bo])]
    gk, gb, ck, cb = arrays
    r, u = np.split(gk, 2, axis=1)
    br, bu = np.split(gb, 2)
    k = np.concatenate([u, r, ck], axis=1)
    return [k[:input_size], k[input_size:], np.concatenate([bu, br, cb])]


def import_keras():
    """Keras 3 on the TensorFlow backend (`tf.keras` is tf-keras 2 here: TF_USE_LEGACY_KERAS)."""
    tf_for()
    import keras
    return keras


def keras_cell(keras, kind, units, dtype, activation="tanh"):
    """The Keras cell equal to TF1's `kind` cell."""
    kw = dict(dtype=np.dtype(dtype).name, activation=activation)
    if kind == "rnn":
        return keras.layers.SimpleRNNCell(units, **kw)
    if kind == "lstm":
        return keras.layers.LSTMCell(units, **kw)
    return keras.layers.GRUCell(units, reset_after=False, **kw)


def keras_rnn(keras, kind, layers, dtype, activation="tanh", **kwargs):
    """keras.layers.RNN over one Keras cell, or StackedRNNCells of several (given the dtype
    itself: RNN's own wrapper would make float32 initial states)."""
    dtype = np.dtype(dtype).name
    cells = [keras_cell(keras, kind, units, dtype, activation) for units in layers]
    cell = cells[0] if len(cells) == 1 else keras.layers.StackedRNNCells(cells, dtype=dtype)
    return keras.layers.RNN(cell, dtype=dtype, **kwargs)


def keras_stack_weights(kind, weights, input_size, layers, scope="rnn"):
    """A TF1 stack's weights (from `stack_weights`) in a Keras RNN(StackedRNNCells) order."""
    per_cell = len(cell_weights(np.random.default_rng(0), kind, 1, 1))
    arrays = under(weights, scope)
    out = []
    for k, units in enumerate(layers):
        out += keras_cell_weights(kind, arrays[k * per_cell:(k + 1) * per_cell], input_size)
        input_size = units
    return out


# ---- a lecture's initial weights ---------------------------------------------------------------
def lecture_weights(lecture, rng, dtype, data=None):
    """TF1's default initial values for the trainable variables of a lecture program
    (parity/lectures), drawn with numpy under the variables' names, in the order the program
    creates them: matrices glorot-uniform (get_variable's default, contrib's xavier), biases
    zero, a GRUCell's gates bias one. The names and shapes are read off the program's graph,
    built by minigrad.compat.v1 on `data` (default: the lecture's generated data)."""
    import minigrad.compat.v1 as v1
    dtype = np.dtype(dtype).name
    data = lecture.data(None, dtype) if data is None else data
    with v1.Graph().as_default(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lecture.build(v1, dtype, data)
        shapes = [(v.op.name, v.shape.as_list()) for v in v1.trainable_variables()]
    out = {}
    for name, shape in shapes:
        if len(shape) == 2:
            out[name] = glorot_uniform(rng, shape)
        else:
            out[name] = np.full(shape, 1.0 if name.endswith("gates/bias") else 0.0)
    return out
