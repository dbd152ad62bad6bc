"""The recurrent API against TensorFlow, and the fused nodes against their composite twin.

- TF1 cells under dynamic_rnn / static_rnn vs tf.compat.v1.nn (eager), weights copied from
  minigrad to TF by position: outputs, final states, and the gradients w.r.t. the inputs, the
  initial state and every weight under a random cotangent; ragged sequence_length with a 0.
- Keras layers vs tf.keras (tf_keras) SimpleRNN / LSTM / GRU, with and without masks.
- Fused vs step-by-step composite: 1e-12 in float64, every output and gradient; both gradcheck.
- The pieces around the cells (sequence_loss, losses, embedding_lookup, Dense); bad input.
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.rnn import fused_kernels
from minigrad.testing import gradcheck
from minigrad.testing.tf_compare import assert_close

B, T, I, H = 4, 5, 3, 4
SEQ = np.array([5, 0, 2, 4])
TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-10, 1e-12)}
DTYPES = [pytest.param(np.float32, id="f32"), pytest.param(np.float64, id="f64")]


# --- helpers ----------------------------------------------------------------------------------
def _flat(s):
    return [v for item in s for v in _flat(item)] if isinstance(s, (list, tuple)) else [s]


def _pack(structure, flat, tuple_type):
    """Rebuild `structure` (LSTMStateTuples and tuples) around `flat`, using `tuple_type` for
    the LSTMStateTuples (minigrad's or TF's)."""
    it = iter(flat)

    def pack(s):
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            return tuple_type(*[pack(v) for v in s])
        if isinstance(s, (list, tuple)):
            return tuple(pack(v) for v in s)
        return next(it)
    return pack(structure)


def _cotangents(outs, seed=7):
    """A random non-uniform cotangent per output, in the output's dtype."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(0.5, 1.5, tuple(o.shape)) * rng.choice([-1, 1], tuple(o.shape)))
            .astype(o.numpy().dtype) for o in outs]


def _run_mg(fn, arrays, variables):
    xs = [mg.constant(a) for a in arrays]
    with mg.GradientTape() as tape:
        tape.watch(xs)
        outs = _flat(fn(*xs))
    types = [n.type for n in tape.nodes]
    grads = tape.gradient(outs, xs + list(variables),
                          output_gradients=_cotangents(outs))
    return [o.numpy() for o in outs], [g.numpy() for g in grads], types


def _run_tf(tf, fn, arrays, variables):
    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        outs = _flat(fn(*xs))
    grads = tape.gradient(outs, xs + list(variables),
                          output_gradients=[tf.constant(c) for c in _cotangents(outs)])
    return [o.numpy() for o in outs], [tf.convert_to_tensor(g).numpy() for g in grads]


def _compare(name, got, want, rtol, atol):
    assert len(got[0]) == len(want[0]), f"{name}: {len(got[0])} outputs vs {len(want[0])}"
    for k, (a, b) in enumerate(zip(got[0], want[0])):
        assert a.dtype == b.dtype, f"{name}: output {k} dtype {a.dtype} vs {b.dtype}"
        assert_close(name, f"output {k}", a, b, rtol, atol)
    for k, (a, b) in enumerate(zip(got[1], want[1])):
        assert_close(name, f"gradient {k}", a, b, rtol, atol)


def _copy_weights(src, dst):
    """Assign src's weights to dst by position; shapes must agree (the layout test)."""
    ws, wd = src.weights, dst.weights
    assert [tuple(w.shape) for w in ws] == [tuple(w.shape) for w in wd], (
        f"weight layouts differ: {[tuple(w.shape) for w in ws]} vs "
        f"{[tuple(w.shape) for w in wd]}")
    for a, b in zip(ws, wd):
        b.assign(a.numpy())


def _random_state(cell, batch, dtype, rng):
    leaves = [rng.uniform(-0.8, 0.8, (batch, n)).astype(dtype) for n in _flat(cell.state_size)]
    return cell.state_size, leaves


# --- TF1 cells: the same constructor call in both namespaces ---------------------------------
CELLS = {
    "basic_rnn": lambda rc, d: rc.BasicRNNCell(H, dtype=d),
    "basic_rnn_relu": lambda rc, d: rc.BasicRNNCell(H, activation="relu", dtype=d),
    "basic_lstm": lambda rc, d: rc.BasicLSTMCell(H, forget_bias=0.7, dtype=d),
    "basic_lstm_concat": lambda rc, d: rc.BasicLSTMCell(H, state_is_tuple=False, dtype=d),
    "lstm": lambda rc, d: rc.LSTMCell(H, dtype=d),
    "lstm_peep_proj": lambda rc, d: rc.LSTMCell(H, use_peepholes=True, cell_clip=0.9,
                                                num_proj=3, proj_clip=0.4, dtype=d),
    "gru": lambda rc, d: rc.GRUCell(H, dtype=d),
    "multi": lambda rc, d: rc.MultiRNNCell([rc.BasicLSTMCell(H, dtype=d), rc.GRUCell(3, dtype=d)]),
}
FUSABLE = ["basic_rnn", "basic_rnn_relu", "basic_lstm", "lstm", "gru", "multi"]


def _dynamic_rnn_case(dynamic_rnn, tuple_type, cell, structure, seq, time_major):
    """(x, *initial state leaves) -> [outputs, *final state leaves] in one engine."""
    def fn(x, *state):
        y, s = dynamic_rnn(cell, x, sequence_length=seq, time_major=time_major,
                           initial_state=_pack(structure, state, tuple_type))
        return [y] + _flat(s)
    return fn


def _mg_case(cell, structure, seq, time_major=False):
    return _dynamic_rnn_case(mg.nn.dynamic_rnn, mg.nn.rnn_cell.LSTMStateTuple, cell, structure,
                             seq, time_major)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CELLS))
def test_dynamic_rnn_matches_tensorflow(tf, name, dtype):
    rc_tf = tf.compat.v1.nn.rnn_cell
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (B, T, I)).astype(dtype)
    mg_cell, tf_cell = CELLS[name](mg.nn.rnn_cell, dtype), CELLS[name](rc_tf, dtype)
    structure, state = _random_state(mg_cell, B, dtype, rng)
    mg_fn = _mg_case(mg_cell, structure, SEQ)
    tf_fn = _dynamic_rnn_case(tf.compat.v1.nn.dynamic_rnn, rc_tf.LSTMStateTuple, tf_cell,
                              structure, SEQ, False)
    tf_fn(tf.constant(x), *[tf.constant(s) for s in state])      # builds TF's variables
    mg_fn(mg.constant(x), *[mg.constant(s) for s in state])
    _copy_weights(mg_cell, tf_cell)
    got = _run_mg(mg_fn, [x] + state, mg_cell.trainable_variables)
    want = _run_tf(tf, tf_fn, [x] + state, tf_cell.trainable_variables)
    _compare(f"dynamic_rnn[{name}]", got, want, *TOL[dtype])
    y = got[0][0]
    assert np.all(y[1] == 0) and np.all(y[2, 2:] == 0), "outputs past a row's end are zero"


@pytest.mark.parametrize("dtype", DTYPES)
def test_static_rnn_matches_tensorflow(tf, dtype):
    rng = np.random.default_rng(1)
    xs = [rng.uniform(-1, 1, (B, I)).astype(dtype) for _ in range(T)]
    mg_cell = mg.nn.rnn_cell.BasicLSTMCell(H, dtype=dtype)
    tf_cell = tf.compat.v1.nn.rnn_cell.BasicLSTMCell(H, dtype=dtype)

    def case(static_rnn, cell):
        def fn(*xs):
            ys, s = static_rnn(cell, list(xs), sequence_length=SEQ, dtype=dtype)
            return list(ys) + [s.c, s.h]
        return fn
    mg_fn, tf_fn = case(mg.nn.static_rnn, mg_cell), case(tf.compat.v1.nn.static_rnn, tf_cell)
    tf_fn(*[tf.constant(a) for a in xs])
    mg_fn(*[mg.constant(a) for a in xs])
    _copy_weights(mg_cell, tf_cell)
    got = _run_mg(mg_fn, xs, mg_cell.trainable_variables)
    want = _run_tf(tf, tf_fn, xs, tf_cell.trainable_variables)
    _compare("static_rnn", got, want, *TOL[dtype])
    with fused_kernels(False):
        twin = _run_mg(mg_fn, xs, mg_cell.trainable_variables)
    _compare("static_rnn fused vs composite", got, twin, *TOL[dtype])


def test_dropout_wrapper():
    """keep 1 is the bare cell; the memory c is never dropped; a seed repeats the masks."""
    x = np.random.default_rng(2).uniform(-1, 1, (B, T, I))
    cell = mg.nn.rnn_cell.BasicLSTMCell(H)
    y0, s0 = mg.nn.dynamic_rnn(cell, x, dtype=mg.float64)
    with mg.GradientTape() as tape:
        y1, s1 = mg.nn.dynamic_rnn(mg.nn.rnn_cell.DropoutWrapper(cell), x, dtype=mg.float64)
    assert [n.type for n in tape.nodes] == ["BasicLSTMSequence"], "keep 1: still fused"
    np.testing.assert_array_equal(y0.numpy(), y1.numpy())

    def run(seed):
        w = mg.nn.rnn_cell.DropoutWrapper(cell, input_keep_prob=0.7, output_keep_prob=0.6,
                                          state_keep_prob=0.5, seed=seed)
        with mg.GradientTape() as tape:
            y, s = mg.nn.dynamic_rnn(w, x, dtype=mg.float64)
        assert "BasicLSTMSequence" not in [n.type for n in tape.nodes], "dropout: composite"
        return y.numpy(), s
    (ya, sa), (yb, sb) = run(3), run(3)
    np.testing.assert_array_equal(ya, yb)
    assert np.mean(ya == 0) > 0.3, "output dropout zeroes entries"
    assert np.mean(sa.c.numpy() == 0) == 0, "state dropout leaves c alone"
    assert np.any(sa.h.numpy() == 0), "state dropout drops h"
    with pytest.raises(ValueError, match="keep_prob"):
        mg.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=0.0)


# --- Keras layers -----------------------------------------------------------------------------
KERAS = {
    "simple_rnn": lambda L, **k: L.SimpleRNN(H, **k),
    "simple_rnn_relu": lambda L, **k: L.SimpleRNN(H, activation="relu", **k),
    "lstm": lambda L, **k: L.LSTM(H, **k),
    "lstm_no_bias": lambda L, **k: L.LSTM(H, use_bias=False, **k),
    "lstm_backwards": lambda L, **k: L.LSTM(H, go_backwards=True, **k),
    "gru": lambda L, **k: L.GRU(H, **k),
    "gru_reset_before": lambda L, **k: L.GRU(H, reset_after=False, **k),
}
MASKS = {"none": None, "prefix": np.arange(T)[None, :] < SEQ[:, None],
         "holes": np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 1, 1]],
                           bool)}


def _keras_case(layer, n_states, mask):
    def fn(x, *states):
        out = layer(x, mask=mask, initial_state=list(states))
        return list(out)
    return fn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("name", list(KERAS))
def test_keras_layer_matches_tensorflow(tf, name, mask, dtype):
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (B, T, I)).astype(dtype)
    seqs = mask != "prefix"         # cover return_sequences False too
    kw = dict(return_sequences=seqs, return_state=True)
    mg_layer = KERAS[name](mg.keras.layers, dtype=dtype, **kw)
    tf_layer = KERAS[name](tf.keras.layers, dtype=dtype, **kw)
    n = 2 if "lstm" in name else 1
    states = [rng.uniform(-0.8, 0.8, (B, H)).astype(dtype) for _ in range(n)]
    m = MASKS[mask]
    mg_fn = _keras_case(mg_layer, n, m)
    tf_fn = _keras_case(tf_layer, n, None if m is None else tf.constant(m))
    tf_fn(tf.constant(x), *[tf.constant(s) for s in states])
    mg_fn(mg.constant(x), *[mg.constant(s) for s in states])
    _copy_weights(mg_layer, tf_layer)
    got = _run_mg(mg_fn, [x] + states, mg_layer.trainable_variables)
    want = _run_tf(tf, tf_fn, [x] + states, tf_layer.trainable_variables)
    _compare(f"keras {name} mask={mask}", got, want, *TOL[dtype])


def test_dtype_policies():
    """mg.layers takes the first input's dtype (tf.layers); mg.keras.layers is float32 unless
    told otherwise and casts its inputs (Keras)."""
    x = np.zeros((2, 3, I))
    assert mg.layers.LSTM(H)(x).dtype == mg.float64
    assert mg.layers.Dense(H)(x).dtype == mg.float64
    assert mg.keras.layers.LSTM(H)(x).dtype == mg.float32
    assert mg.keras.layers.Dense(H)(x).dtype == mg.float32
    assert mg.keras.layers.GRU(H, dtype="float64")(x.astype(np.float32)).dtype == mg.float64


def test_keras_initial_weights():
    lstm = mg.layers.LSTM(H)
    lstm(np.zeros((2, 3, I)))
    k, r, b = lstm.get_weights()
    assert k.shape == (I, 4 * H) and r.shape == (H, 4 * H) and b.shape == (4 * H,)
    np.testing.assert_array_equal(b, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])
    np.testing.assert_allclose(r @ r.T, np.eye(H), atol=1e-5)   # orthogonal rows
    gru = mg.keras.layers.GRU(H)
    gru(np.zeros((2, 3, I), np.float32))
    assert [w.shape for w in gru.get_weights()] == [(I, 3 * H), (H, 3 * H), (2, 3 * H)]


# --- fused vs composite -----------------------------------------------------------------------
def _twins(make_fn, arrays, variables, expect_nodes):
    fused = _run_mg(make_fn(), arrays, variables)
    assert fused[2] == expect_nodes, f"fused path recorded {fused[2]}"
    with fused_kernels(False):
        composite = _run_mg(make_fn(), arrays, variables)
    assert len(composite[2]) > 10 * len(expect_nodes), "the composite records every step"
    _compare("fused vs composite", fused[:2], composite[:2], 1e-12, 1e-12)


_NODES = {"basic_rnn": ["BasicRNNSequence"], "basic_rnn_relu": ["BasicRNNSequence"],
          "basic_lstm": ["BasicLSTMSequence"], "lstm": ["BasicLSTMSequence"],
          "gru": ["GRUSequence"], "multi": ["BasicLSTMSequence", "GRUSequence"]}


@pytest.mark.parametrize("time_major", [False, True], ids=["batch-major", "time-major"])
@pytest.mark.parametrize("name", FUSABLE)
def test_fused_matches_composite_tf1(name, time_major):
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (T, B, I) if time_major else (B, T, I))
    cell = CELLS[name](mg.nn.rnn_cell, np.float64)
    structure, state = _random_state(cell, B, np.float64, rng)
    make = lambda: _mg_case(cell, structure, SEQ, time_major)
    make()(mg.constant(x), *[mg.constant(s) for s in state])
    _twins(make, [x] + state, cell.trainable_variables, _NODES[name])


@pytest.mark.parametrize("name", list(KERAS))
def test_fused_matches_composite_keras(name):
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, (B, T, I))
    layer = KERAS[name](mg.layers, return_sequences=True, return_state=True)
    n = 2 if "lstm" in name else 1
    states = [rng.uniform(-0.8, 0.8, (B, H)) for _ in range(n)]
    backwards = "backwards" in name      # reversed, a prefix mask is a suffix: not fusable
    make = lambda: _keras_case(layer, n, None if backwards else MASKS["prefix"])
    make()(mg.constant(x), *[mg.constant(s) for s in states])
    op = {"simple": "KerasSimpleRNNSequence", "lstm": "KerasLSTMSequence",
          "gru": "KerasGRUSequence"}[name.split("_")[0]]
    nodes = ["StridedSlice", op] if backwards else [op, "StridedSlice"]   # x[:, ::-1]; y[:, -1]
    _twins(make, [x] + states, layer.trainable_variables, nodes)


# --- gradcheck of both paths ------------------------------------------------------------------
def _slots(layer):
    """(owner, attribute) holding each weight, in `weights` order."""
    owners = getattr(layer, "_cells", [layer])
    where = {id(v): (o, k) for o in owners for k, v in vars(o).items()
             if isinstance(v, mg.Variable)}
    return [where[id(w)] for w in layer.weights]


def _gradcheck_layer(layer, run, arrays):
    """gradcheck w.r.t. the inputs AND every weight: the weights are swapped for the checked
    tensors inside the function."""
    slots = _slots(layer)
    weights = [w.numpy() for w in layer.weights]
    n = len(arrays)

    def fn(*xs):
        saved = [getattr(o, k) for o, k in slots]
        for (o, k), t in zip(slots, xs[n:]):
            setattr(o, k, t)
        try:
            return run(*xs[:n])
        finally:
            for (o, k), v in zip(slots, saved):
                setattr(o, k, v)
    for enabled in (True, False):
        with fused_kernels(enabled):
            gradcheck(fn, arrays + weights)


Bg, Tg, Ig, Hg = 3, 4, 2, 3
SEQg = np.array([4, 0, 2])


@pytest.mark.parametrize("name", ["basic_rnn", "basic_lstm", "gru", "multi", "lstm_peep_proj"])
def test_gradcheck_tf1(name):
    rng = np.random.default_rng(8)
    cell = {"basic_rnn": lambda: mg.nn.rnn_cell.BasicRNNCell(Hg),
            "basic_lstm": lambda: mg.nn.rnn_cell.BasicLSTMCell(Hg),
            "gru": lambda: mg.nn.rnn_cell.GRUCell(Hg),
            "multi": lambda: mg.nn.rnn_cell.MultiRNNCell([mg.nn.rnn_cell.BasicLSTMCell(Hg),
                                                          mg.nn.rnn_cell.GRUCell(2)]),
            "lstm_peep_proj": lambda: mg.nn.rnn_cell.LSTMCell(Hg, use_peepholes=True,
                                                              num_proj=2)}[name]()
    x = rng.uniform(-1, 1, (Bg, Tg, Ig))
    structure, state = _random_state(cell, Bg, np.float64, rng)
    run = _mg_case(cell, structure, SEQg)
    run(mg.constant(x), *[mg.constant(s) for s in state])
    _gradcheck_layer(cell, run, [x] + state)


@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_gradcheck_keras(name):
    rng = np.random.default_rng(9)
    layer = {"simple_rnn": mg.layers.SimpleRNN, "lstm": mg.layers.LSTM, "gru": mg.layers.GRU,
             "gru_reset_before": lambda h, **k: mg.layers.GRU(h, reset_after=False, **k)}[name](
        Hg, return_sequences=True, return_state=True)
    x = rng.uniform(-1, 1, (Bg, Tg, Ig))
    mask = np.arange(Tg)[None, :] < SEQg[:, None]
    run = lambda x: list(layer(x, mask=mask))
    run(mg.constant(x))
    _gradcheck_layer(layer, run, [x])


# --- the pieces around the cells --------------------------------------------------------------
def _tf_sequence_loss(tf, logits, targets, weights, avg_t, avg_b):
    """contrib.seq2seq.sequence_loss, written from TF ops as TF 1.x wrote it."""
    b, t, c = logits.shape
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.reshape(targets, [-1]), logits=tf.reshape(logits, [-1, c]))
    xent *= tf.reshape(weights, [-1])
    if avg_t and avg_b:
        return tf.reduce_sum(xent) / (tf.reduce_sum(weights) + 1e-12)
    xent = tf.reshape(xent, [b, t])
    if avg_t:
        return tf.reduce_sum(xent, axis=[1]) / (tf.reduce_sum(weights, axis=[1]) + 1e-12)
    if avg_b:
        return tf.reduce_sum(xent, axis=[0]) / (tf.reduce_sum(weights, axis=[0]) + 1e-12)
    return xent


@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_match_tensorflow(tf, dtype):
    rng = np.random.default_rng(10)
    logits = rng.normal(size=(3, 5, 6)).astype(dtype)
    targets = rng.integers(0, 6, (3, 5)).astype(np.int32)
    weights = (rng.random((3, 5)) > 0.3).astype(dtype)
    for avg_t in (True, False):
        for avg_b in (True, False):
            got = _run_mg(lambda z, w: mg.seq2seq.sequence_loss(z, targets, w, avg_t, avg_b),
                          [logits, weights], [])
            want = _run_tf(tf, lambda z, w: _tf_sequence_loss(tf, z, targets, w, avg_t, avg_b),
                           [logits, weights], [])
            _compare(f"sequence_loss t={avg_t} b={avg_b}", got, want, *TOL[dtype])
    z, y = logits[:, 0], targets[:, 0]
    cases = [(lambda m, z: m.losses.sparse_softmax_cross_entropy(y, z), [z]),
             (lambda m, z: m.losses.sparse_softmax_cross_entropy(y, z, weights=weights[:, 0]),
              [z]),
             (lambda m, p, l: m.losses.mean_squared_error(l, p), [z, z[::-1] * 0.5]),
             (lambda m, p, l: m.losses.mean_squared_error(l, p, weights=np.float32(0)),
              [z, z[::-1]])]
    for k, (fn, arrays) in enumerate(cases):
        got = _run_mg(lambda *a: fn(mg, *a), arrays, [])
        want = _run_tf(tf, lambda *a: fn(tf.compat.v1, *a), arrays, [])
        _compare(f"losses case {k}", got, want, *TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_lookup_and_dense_match_tensorflow(tf, dtype):
    rng = np.random.default_rng(11)
    params = rng.normal(size=(7, 3)).astype(dtype)
    ids = np.array([[0, 6, 2], [2, 2, 5]], np.int32)
    got = _run_mg(lambda p: mg.nn.embedding_lookup(p, ids), [params], [])
    want = _run_tf(tf, lambda p: tf.nn.embedding_lookup(p, ids), [params], [])
    _compare("embedding_lookup", got, want, *TOL[dtype])
    shards = [params[:4], params[4:]]
    sharded = mg.nn.embedding_lookup([mg.constant(s) for s in shards], ids).numpy()
    np.testing.assert_array_equal(sharded, tf.compat.v1.nn.embedding_lookup(shards, ids).numpy())
    x = rng.normal(size=(2, 3, 4)).astype(dtype)
    mg_d, tf_d = mg.keras.layers.Dense(5, activation="tanh", dtype=dtype), tf.keras.layers.Dense(
        5, activation="tanh", dtype=dtype)
    mg_d(x), tf_d(x)
    _copy_weights(mg_d, tf_d)
    got = _run_mg(lambda v: mg_d(v), [x], mg_d.trainable_variables)
    want = _run_tf(tf, lambda v: tf_d(v), [x], tf_d.trainable_variables)
    _compare("Dense", got, want, *TOL[dtype])


def test_functional_dense_reuses_by_name():
    mg.layers.clear_dense_layers()
    x = np.ones((2, 3))
    a = mg.layers.dense(x, 4, name="fc")
    b = mg.layers.dense(x, 4, name="fc")
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    mg.layers.dense(x, 4)
    with mg.name_scope("out"):
        mg.layers.dense(x, 2, name="fc")
    names = list(mg.layers.dense_layers())
    assert len(names) == 3 and names[0] == "fc" and names[2] == "out/fc"
    assert names[1].startswith("dense"), "unnamed: TF's automatic names"
    assert [w.shape for w in mg.layers.dense_layers()["fc"].weights] == [(3, 4), (4,)]
    with pytest.raises(ValueError, match="exists with 4 units"):
        mg.layers.dense(x, 5, name="fc")


def test_weight_layouts_and_state_sizes():
    rc = mg.nn.rnn_cell
    cell = rc.MultiRNNCell([rc.GRUCell(3), rc.LSTMCell(3, use_peepholes=True, num_proj=2)])
    y, s = mg.nn.dynamic_rnn(cell, np.zeros((2, 4, 5), np.float32), dtype=mg.float32)
    assert [tuple(w.shape) for w in cell.weights] == [(8, 6), (6,), (8, 3), (3,), (5, 12), (12,),
                                                      (3,), (3,), (3,), (3, 2)]
    np.testing.assert_array_equal(cell.weights[1].numpy(), np.ones(6))
    assert cell.state_size == (3, rc.LSTMStateTuple(3, 2)) and cell.output_size == 2
    assert y.shape == (2, 4, 2) and isinstance(s[1], rc.LSTMStateTuple)
    assert s[1].c.shape == (2, 3) and s[1].h.shape == (2, 2)


# --- bad input --------------------------------------------------------------------------------
def test_cell_wrong_input_rank():
    cell = mg.nn.rnn_cell.BasicLSTMCell(4, name="enc")
    with pytest.raises(ValueError, match=r"BasicLSTMCell 'enc'.*rank 2.*\[2, 3, 5\]"):
        cell(np.zeros((2, 3, 5)), cell.zero_state(2, mg.float64))


def test_cell_wrong_feature_size_after_build():
    cell = mg.nn.rnn_cell.GRUCell(4, name="g")
    cell(np.zeros((2, 3)), cell.zero_state(2, mg.float64))
    with pytest.raises(ValueError, match=r"GRUCell 'g' was built for inputs \[batch, 3\] but "
                                         r"got inputs of shape \[2, 5\]"):
        cell(np.zeros((2, 5)), cell.zero_state(2, mg.float64))
    with pytest.raises(ValueError, match=r"GRUCell 'g' was built for inputs \[batch, 3\]"):
        mg.nn.dynamic_rnn(cell, np.zeros((2, 6, 5)), dtype=mg.float64)


@pytest.mark.parametrize("seq,msg", [([3, 7], r"in \[0, 6\].*\[3, 7\]"),
                                     ([3, -1], r"in \[0, 6\].*\[3, -1\]"),
                                     ([3, 2, 1], r"shape \[2\].*\[3\]")],
                         ids=["too-long", "negative", "wrong-shape"])
def test_bad_sequence_length(seq, msg):
    cell = mg.nn.rnn_cell.BasicRNNCell(4, name="r")
    with pytest.raises(ValueError, match=r"BasicRNNCell 'r'.*" + msg):
        mg.nn.dynamic_rnn(cell, np.zeros((2, 6, 3)), sequence_length=seq, dtype=mg.float64)


def test_bad_initial_state():
    rc = mg.nn.rnn_cell
    x = np.zeros((2, 6, 3))
    lstm = rc.BasicLSTMCell(4, name="l")
    with pytest.raises(ValueError, match=r"BasicLSTMCell 'l': initial_state should be "
                                         r"LSTMStateTuple\(c=\[batch, 4\], h=\[batch, 4\]\) "
                                         r"with batch 2, got \[2, 4\]"):
        mg.nn.dynamic_rnn(lstm, x, initial_state=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"got \(\[2, 4\], \[2, 5\]\)"):
        mg.nn.dynamic_rnn(lstm, x, initial_state=(np.zeros((2, 4)), np.zeros((2, 5))))
    multi = rc.MultiRNNCell([rc.GRUCell(3), rc.GRUCell(3)])
    with pytest.raises(ValueError, match=r"MultiRNNCell '.*': initial_state should be "
                                         r"\(\[batch, 3\], \[batch, 3\]\)"):
        mg.nn.dynamic_rnn(multi, x, initial_state=(np.zeros((2, 3)),))
    with pytest.raises(ValueError, match=r"inputs must have rank 3.*\[2, 3\]"):
        mg.nn.dynamic_rnn(multi, np.zeros((2, 3)), dtype=mg.float64)


def test_keras_layer_bad_input():
    layer = mg.layers.LSTM(4, name="k")
    with pytest.raises(ValueError, match=r"LSTM 'k': inputs must have rank 3.*\[2, 3\]"):
        layer(np.zeros((2, 3)))
    layer(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"LSTM 'k' was built for inputs \[batch, time, 5\] "
                                         r"but got inputs of shape \[2, 3, 6\]"):
        layer(np.zeros((2, 3, 6)))
    with pytest.raises(ValueError, match=r"LSTM 'k': initial_state must be 2 tensor\(s\) of "
                                         r"shape \[2, 4\], got shapes \[\[2, 4\]\]"):
        layer(np.zeros((2, 3, 5)), initial_state=[np.zeros((2, 4))])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composite"])
def test_data_input_gets_no_gradient_and_weights_the_same(fused):
    """A first layer's input is data: the fused backward skips its gradient (one matmul over
    all steps); the weights' gradients are the same bits as when the input is watched."""
    rng = np.random.default_rng(8)
    x = mg.constant(rng.uniform(-1, 1, (B, T, I)))
    cell = mg.nn.rnn_cell.BasicLSTMCell(H, dtype=np.float64)
    grads = []
    for watch in (False, True):
        with fused_kernels(fused), mg.GradientTape() as tape:
            if watch:
                tape.watch(x)
            y, _ = mg.nn.dynamic_rnn(cell, x, dtype=np.float64)
            loss = mg.reduce_sum(y * y)
        g = tape.gradient(loss, cell.trainable_variables + [x])
        assert (g[-1] is not None) == watch
        grads.append([v.numpy() for v in g[:-1]])
    assert all(np.array_equal(a, b) for a, b in zip(*grads))


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composite"])
def test_sequence_lengths_are_read_on_every_call_of_a_traced_function(fused):
    """The lengths are a tensor input of the sequence ops, not numbers frozen at trace time."""
    mg.random.set_seed(3)
    cell = mg.nn.rnn_cell.BasicLSTMCell(4)
    x = np.random.default_rng(0).normal(size=(3, 5, 2))

    def run(x, lengths):
        with fused_kernels(fused):
            out, state = mg.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=mg.float64)
        return out, state.h

    traced = mg.function(run)
    for lengths in ([5, 2, 0], [1, 4, 3], [5, 5, 5]):
        lengths = np.array(lengths, np.int32)
        want, got = run(x, lengths), traced(x, lengths)
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert traced.trace_count() == 1
