"""Fused RNN kernels (minigrad/kernels/rnn_basic.py, lstm.py, gru.py) against a step-by-step
numpy reference, float64 finite differences, and TensorFlow (dynamic_rnn with TF1 cells, Keras
LSTM/GRU).

One table (CELLS) describes every cell: weight shapes, how to call the fused pair, and a numpy
step function; every check is generated from it.
"""
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from minigrad.kernels import gru, lstm, rnn_basic, rnn_common, rnn_math

# Before anything imports tensorflow: TF1 cells need tf-keras, and oneDNN's summation order is
# pinned off for tight float64 comparisons.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---------------------------------------------------------------------------------------------
# numpy reference steps: (x_t [B, I], states, weights) -> new states; output = new states[0].


def _rnn_step(x, s, w, relu=False):
    a = np.concatenate([x, s[0]], 1) @ w[0] + w[1]
    return [np.maximum(a, 0) if relu else np.tanh(a)]


def _lstm_step(x, s, w, forget_bias=1.0):
    h, c = s
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ w[0] + w[1], 4, axis=1)
    c = c * _sig(f + forget_bias) + _sig(i) * np.tanh(j)
    return [np.tanh(c) * _sig(o), c]


def _gru_step(x, s, w):
    h = s[0]
    r, u = np.split(_sig(np.concatenate([x, h], 1) @ w[0] + w[1]), 2, axis=1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ w[2] + w[3])
    return [u * h + (1 - u) * c]


def _keras_lstm_step(x, s, w):
    h, c = s
    i, f, g, o = np.split(x @ w[0] + h @ w[1] + w[2], 4, axis=1)
    c = _sig(f) * c + _sig(i) * np.tanh(g)
    return [_sig(o) * np.tanh(c), c]


def _keras_gru_step(x, s, w, reset_after=True):
    h, (k, rk, b) = s[0], w
    H = h.shape[1]
    bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    xz, hz = x @ k + bx, h @ rk + bh
    z = _sig(xz[:, :H] + hz[:, :H])
    r = _sig(xz[:, H:2 * H] + hz[:, H:2 * H])
    rec = r * hz[:, 2 * H:] if reset_after else (r * h) @ rk[:, 2 * H:]
    return [z * h + (1 - z) * np.tanh(xz[:, 2 * H:] + rec)]


def reference(step, x, states, weights, seq_len, mask_zero):
    """Step by step, with dynamic_rnn (mask_zero) or Keras (repeat previous output) masking."""
    y = np.zeros(x.shape[:2] + states[0].shape[1:])
    prev = np.zeros_like(y[0])
    for t in range(x.shape[0]):
        m = (t < seq_len)[:, None]
        new = step(x[t], states, weights)
        states = [np.where(m, n, s) for n, s in zip(new, states)]
        y[t] = prev = np.where(m, new[0], 0.0 if mask_zero else prev)
    return y, states


# ---------------------------------------------------------------------------------------------
# The table.


@dataclass
class Cell:
    name: str
    n_states: int  # 1: (h,), 2: (h, c)
    weight_shapes: Callable  # (I, H) -> list of shapes
    fwd: Callable  # (x, states, weights, seq_len, mask_zero) -> (y, final_states, cache)
    bwd: Callable  # (gy, g_final, x, states, weights, seq_len, cache, mask_zero) -> grads
    step: Callable
    weight_scale: float = 0.5


def _pack(out, n_states):
    """(y, h_T[, c_T], cache) -> (y, [h_T[, c_T]], cache)."""
    return out[0], list(out[1:1 + n_states]), out[-1]


def _cell(name, n_states, shapes, fwd, bwd, step):
    return Cell(name, n_states, shapes,
                lambda x, s, w, L, mz: _pack(fwd(x, *s, *w, L, mask_zero=mz), n_states),
                lambda gy, g, x, s, w, L, cache, mz: bwd(gy, *g, x, *s, *w, L, cache,
                                                         mask_zero=mz),
                step)


def _with(f, **attrs):
    return lambda *a, **kw: f(*a, **attrs, **kw)


CELLS = [
    _cell("rnn_tanh", 1, lambda I, H: [(I + H, H), (H,)], rnn_basic.rnn_forward,
          rnn_basic.rnn_backward, _rnn_step),
    _cell("rnn_relu", 1, lambda I, H: [(I + H, H), (H,)],
          _with(rnn_basic.rnn_forward, activation="relu"),
          _with(rnn_basic.rnn_backward, activation="relu"),
          lambda x, s, w: _rnn_step(x, s, w, relu=True)),
    _cell("lstm", 2, lambda I, H: [(I + H, 4 * H), (4 * H,)], lstm.lstm_forward,
          lstm.lstm_backward, _lstm_step),
    _cell("lstm_fb0.5", 2, lambda I, H: [(I + H, 4 * H), (4 * H,)],
          _with(lstm.lstm_forward, forget_bias=0.5), _with(lstm.lstm_backward, forget_bias=0.5),
          lambda x, s, w: _lstm_step(x, s, w, forget_bias=0.5)),
    _cell("gru", 1, lambda I, H: [(I + H, 2 * H), (2 * H,), (I + H, H), (H,)],
          gru.gru_forward, gru.gru_backward, _gru_step),
    _cell("keras_lstm", 2, lambda I, H: [(I, 4 * H), (H, 4 * H), (4 * H,)],
          lstm.keras_lstm_forward, lstm.keras_lstm_backward, _keras_lstm_step),
    _cell("keras_gru", 1, lambda I, H: [(I, 3 * H), (H, 3 * H), (2, 3 * H)],
          gru.keras_gru_forward, gru.keras_gru_backward, _keras_gru_step),
    _cell("keras_gru_v1", 1, lambda I, H: [(I, 3 * H), (H, 3 * H), (3 * H,)],
          _with(gru.keras_gru_forward, reset_after=False),
          _with(gru.keras_gru_backward, reset_after=False),
          lambda x, s, w: _keras_gru_step(x, s, w, reset_after=False)),
]
CELL_IDS = [c.name for c in CELLS]
MASKS = [pytest.param(True, id="zero"), pytest.param(False, id="carry")]


def _inputs(cell, T, B, I, H, seq_len, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I)).astype(dtype)
    states = [rng.normal(scale=0.5, size=(B, H)).astype(dtype) for _ in range(cell.n_states)]
    weights = [rng.normal(scale=cell.weight_scale, size=s).astype(dtype)
               for s in cell.weight_shapes(I, H)]
    return x, states, weights, np.asarray(seq_len, np.int64)


def _close(name, got, want, rtol, atol):
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    err = np.abs(got - want) - rtol * np.abs(want)
    k = np.unravel_index(np.argmax(err), err.shape) if err.size else ()
    assert not err.size or err[k] <= atol, (
        f"{name}: |got - want| exceeds atol + rtol*|want| by {err[k]:.3g} at {k}: "
        f"got {got[k]!r}, want {want[k]!r}")


# ---------------------------------------------------------------------------------------------
# (a) forward against the numpy reference.


# [7, 4, 7, 5, 7]: steps 0-3 have every row active, which the step kernels run as flat loops
# over the whole batch; the later steps take the row-by-row masked path.
@pytest.mark.parametrize("seq_len", [[7, 0, 3, 1, 6], [7, 4, 7, 5, 7]], ids=["ragged", "flat"])
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)],
                         ids=["f64", "f32"])
def test_forward_matches_reference(cell, mask_zero, dtype, tol, seq_len):
    T, B, I, H = 7, 5, 4, 6
    x, s, w, L = _inputs(cell, T, B, I, H, seq_len, dtype)
    y, final, cache = cell.fwd(x, s, w, L, mask_zero)
    as64 = [a.astype(np.float64) for a in [x] + s + w]
    y_ref, final_ref = reference(cell.step, as64[0], as64[1:1 + len(s)], as64[1 + len(s):], L,
                                 mask_zero)
    assert y.dtype == dtype and all(f.dtype == dtype for f in final)
    _close("y", y, y_ref, tol, tol)
    for k, (f, fr) in enumerate(zip(final, final_ref)):
        _close(f"state{k}", f, fr, tol, tol)
    assert isinstance(cache, dict)


def test_full_length_and_rows_past_end():
    """seq_len == T everywhere gives no masking; outputs past a row's end are exact zeros."""
    cell = CELLS[2]
    x, s, w, _ = _inputs(cell, 5, 3, 2, 4, [5, 5, 5])
    y_full, final, _ = cell.fwd(x, s, w, np.array([5, 5, 5]), True)
    y_ref, final_ref = reference(cell.step, x, s, w, np.array([5, 5, 5]), True)
    _close("y", y_full, y_ref, 1e-12, 1e-12)
    y, final, _ = cell.fwd(x, s, w, np.array([2, 5, 0]), True)
    assert np.all(y[2:, 0] == 0) and np.all(y[:, 2] == 0)
    assert np.array_equal(final[0][2], s[0][2]) and np.array_equal(final[1][2], s[1][2])


def test_bad_shapes_are_rejected():
    """The numba kernels do not check bounds: the wrappers must refuse mismatched arrays."""
    x, h, L = np.ones((3, 2, 2)), np.zeros((2, 4)), np.array([3, 1])
    with pytest.raises(ValueError):  # bias for H=3
        lstm.lstm_forward(x, h, h, np.ones((6, 16)), np.zeros(12), L)
    with pytest.raises(ValueError):  # kernel with 3H columns
        lstm.keras_lstm_forward(x, h, h, np.ones((2, 12)), np.ones((4, 16)), np.zeros(16), L)
    with pytest.raises(ValueError):  # gy of the wrong length
        gru.gru_backward(np.ones((2, 2, 4)), h, x, h, np.ones((6, 8)), np.ones(8),
                         np.ones((6, 4)), np.ones(4), L, {})
    with pytest.raises(ValueError):  # seq_len beyond T
        rnn_basic.rnn_forward(x, h, np.ones((6, 4)), np.zeros(4), np.array([4, 1]))
    with pytest.raises(ValueError):  # dtype mismatch
        rnn_basic.rnn_forward(x, h.astype(np.float32), np.ones((6, 4)), np.zeros(4), L)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_empty_sequence_and_batch(cell):
    for T, B in [(0, 3), (3, 0)]:
        x, s, w, L = _inputs(cell, T, B, 2, 3, np.full(B, T))
        y, final, cache = cell.fwd(x, s, w, L, True)
        assert y.shape == (T, B, 3) and all(np.array_equal(f, s0) for f, s0 in zip(final, s))
        grads = cell.bwd(y, final, x, s, w, L, cache, True)
        assert [g.shape for g in grads] == [a.shape for a in [x] + s + w]
        assert all(not np.any(g) for g in grads[1 + len(s):])


def test_activation_kernels_accuracy():
    """The vectorized tanh / sigmoid agree with numpy to a few ulp, and pass NaN through."""
    a = np.concatenate([np.linspace(-30, 30, 20001), np.logspace(-12, 3, 500),
                        -np.logspace(-12, 3, 500), [0.0, 0.625, -0.625, 800.0, -800.0]])
    for dtype, tol in [(np.float64, 4e-16), (np.float32, 3e-7)]:
        v = a.astype(dtype)
        out = np.empty_like(v)
        rnn_math._vtanh(v, out)
        _close(f"tanh {dtype.__name__}", out, np.tanh(v.astype(np.float64)), tol, 1e-300)
        with np.errstate(over="ignore"):
            ref = 1.0 / (1.0 + np.exp(-v.astype(np.float64)))
        rnn_math._vsigmoid(v, out)
        _close(f"sigmoid {dtype.__name__}", out, ref, tol, 1e-300 if dtype == np.float64 else
               1e-37)
        nan = np.array([np.nan], dtype)
        rnn_math._vtanh(nan, out[:1])
        assert np.isnan(out[0])
        rnn_math._vsigmoid(nan, out[:1])
        assert np.isnan(out[0])


# ---------------------------------------------------------------------------------------------
# (b) backward against float64 central finite differences, for every input.


def _loss(cell, x, s, w, L, mz, ct_y, ct_s):
    y, final, _ = cell.fwd(x, s, w, L, mz)
    return np.sum(ct_y * y) + sum(np.sum(c * f) for c, f in zip(ct_s, final))


@pytest.mark.parametrize("seq_len", [[4, 0, 2, 3], [4, 2, 4, 3]], ids=["ragged", "flat"])
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_backward_matches_finite_differences(cell, mask_zero, seq_len):
    T, B, I, H = 4, 4, 3, 3
    x, s, w, L = _inputs(cell, T, B, I, H, seq_len, seed=1)
    rng = np.random.default_rng(2)
    ct_y = rng.normal(size=(T, B, H))
    ct_s = [rng.normal(size=(B, H)) for _ in s]
    _, _, cache = cell.fwd(x, s, w, L, mask_zero)
    grads = cell.bwd(ct_y, ct_s, x, s, w, L, cache, mask_zero)
    inputs = [x] + s + w
    names = ["x"] + ["h0", "c0"][:len(s)] + [f"w{k}" for k in range(len(w))]
    assert len(grads) == len(inputs)
    eps = 1e-6
    for name, arr, g in zip(names, inputs, grads):
        assert g.shape == arr.shape and g.dtype == arr.dtype, name
        fd = np.zeros_like(arr)
        for k in np.ndindex(arr.shape):
            old = arr[k]
            arr[k] = old + eps
            up = _loss(cell, inputs[0], inputs[1:1 + len(s)], inputs[1 + len(s):], L,
                       mask_zero, ct_y, ct_s)
            arr[k] = old - eps
            down = _loss(cell, inputs[0], inputs[1:1 + len(s)], inputs[1 + len(s):], L,
                         mask_zero, ct_y, ct_s)
            arr[k] = old
            fd[k] = (up - down) / (2 * eps)
        _close(f"g{name}", g, fd, 1e-6, 1e-8)


# The cells with a whole-batch backward path (the forward has only that path): each family's
# flat and row kernels call one cell function, so they must agree to the bit.
FLAT_FAMILIES = {"rnn": ["rnn_tanh", "rnn_relu"], "lstm": ["lstm", "lstm_fb0.5", "keras_lstm"]}
FLAT_KERNELS = {"rnn": (rnn_basic, "_rnn_step_bwd_flat"), "lstm": (lstm, "_lstm_step_bwd_flat")}


@pytest.mark.parametrize("small", [False, True], ids=["python_loop", "small_loop"])
@pytest.mark.parametrize("family", list(FLAT_FAMILIES))
@pytest.mark.parametrize("mask_zero", MASKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flat_path_is_the_row_loops_bit_for_bit(monkeypatch, family, mask_zero, dtype, small):
    """The whole-batch backward step (every row active) does each element's arithmetic in the
    row loops' order: same bits. seq_len [6, 6, 3, 6, 5] takes both paths when flat is on; so
    does the time loop run inside one numba call (small cells), where the calls are not seen."""
    module, name = FLAT_KERNELS[family]
    kernel, calls = getattr(module, name), []
    if not small:
        monkeypatch.setattr(rnn_common, "SMALL_RECURRENT", 0)
        monkeypatch.setattr(module, name, lambda *a: calls.append(a) or kernel(*a))
    runs = []
    for flat in (True, False):
        monkeypatch.setattr(rnn_common, "_FLAT", flat)
        for cell in CELLS:
            if cell.name not in FLAT_FAMILIES[family]:
                continue
            x, s, w, L = _inputs(cell, 6, 5, 3, 7, [6, 6, 3, 6, 5], dtype, seed=4)
            ct = np.random.default_rng(5).normal(size=(6, 5, 7)).astype(dtype)
            y, final, cache = cell.fwd(x, s, w, L, mask_zero)
            grads = cell.bwd(ct, list(ct[:len(s)]), x, s, w, L, cache, mask_zero)
            runs.append([y, *final, *grads])
    half = len(runs) // 2
    assert half >= 2 and (small or calls), "the flat runs must take the whole-batch path"
    for flat, rows in zip(runs[:half], runs[half:]):
        assert all(np.array_equal(a, b) for a, b in zip(flat, rows))


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("mask_zero", MASKS)
def test_small_cells_time_loop_in_one_call_is_the_blas_loops_twin(monkeypatch, cell, mask_zero):
    """Small cells (rnn_common.small_recurrent) run the time loop inside one numba call with the
    recurrent product as loops; the Python loop around BLAS is its composite twin: float64
    results agree to 1e-12, rows past their end included."""
    runs = []
    for small in (True, False):
        monkeypatch.setattr(rnn_common, "SMALL_RECURRENT", 1 << 12 if small else 0)
        x, s, w, L = _inputs(cell, 6, 5, 3, 7, [6, 6, 3, 0, 5], np.float64, seed=6)
        assert rnn_common.small_recurrent(5, 7, 4 * 7) == small
        ct = np.random.default_rng(7).normal(size=(6, 5, 7))
        y, final, cache = cell.fwd(x, s, w, L, mask_zero)
        grads = cell.bwd(ct, list(ct[:len(s)]), x, s, w, L, cache, mask_zero)
        runs.append([y, *final, *grads])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_backward_is_deterministic_and_float32():
    """Same float64 bits on every run; float32 gradients close to float64 ones."""
    cell = CELLS[2]
    x, s, w, L = _inputs(cell, 6, 9, 5, 8, [6, 0, 3, 6, 1, 2, 5, 4, 6])
    ct = np.random.default_rng(3).normal(size=(6, 9, 8))
    runs = []
    for _ in range(2):
        _, _, cache = cell.fwd(x, s, w, L, True)
        runs.append(cell.bwd(ct, [ct[0], ct[1]], x, s, w, L, cache, True))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))
    f32 = [a.astype(np.float32) for a in [x] + s + w]
    _, _, cache = cell.fwd(f32[0], f32[1:3], f32[3:], L, True)
    g32 = cell.bwd(ct.astype(np.float32), [ct[0].astype(np.float32), ct[1].astype(np.float32)],
                   f32[0], f32[1:3], f32[3:], L, cache, True)
    for g, g64 in zip(g32, runs[0]):
        assert g.dtype == np.float32
        _close("g32", g, g64, 1e-4, 1e-4)


# ---------------------------------------------------------------------------------------------
# (c) TensorFlow: dynamic_rnn with the TF1 cells and Keras LSTM/GRU, float64, copied weights.


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = pytest.importorskip("tensorflow")
    try:
        tf.compat.v1.nn.rnn_cell.BasicRNNCell(1)
    except Exception as e:  # tensorflow was imported earlier without TF_USE_LEGACY_KERAS
        pytest.skip(f"TF1 cells unavailable: {e}")
    return tf


TF1_CELLS = {"rnn_tanh": "BasicRNNCell", "lstm": "BasicLSTMCell", "gru": "GRUCell"}
KERAS = {"keras_lstm": ("LSTM", {}), "keras_gru": ("GRU", {"reset_after": True}),
         "keras_gru_v1": ("GRU", {"reset_after": False})}
T_, B_, I_, H_ = 6, 4, 3, 5
SEQ = [6, 0, 2, 5]


def _tf_grads(tf, run, x, s, variables, ct_y, ct_s):
    xs = [tf.constant(x)] + [tf.constant(a) for a in s]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y, final = run(xs[0], xs[1:])
        loss = tf.reduce_sum(ct_y * y) + sum(tf.reduce_sum(c * f) for c, f in zip(ct_s, final))
    grads = tape.gradient(loss, xs + list(variables))
    return y.numpy(), [f.numpy() for f in final], [g.numpy() for g in grads]


@pytest.mark.parametrize("name", list(TF1_CELLS))
def test_tf1_dynamic_rnn(tf, name):
    cell = next(c for c in CELLS if c.name == name)
    x, s, w, L = _inputs(cell, T_, B_, I_, H_, SEQ, seed=4)
    tf_cell = getattr(tf.compat.v1.nn.rnn_cell, TF1_CELLS[name])(H_, dtype=tf.float64)
    tf_cell(tf.zeros((B_, I_), tf.float64), tf_cell.zero_state(B_, tf.float64))
    for var, value in zip(tf_cell.trainable_variables, w):
        var.assign(value)

    def run(xt, st):
        init = tf.compat.v1.nn.rnn_cell.LSTMStateTuple(st[1], st[0]) if len(st) == 2 else st[0]
        y, fin = tf.compat.v1.nn.dynamic_rnn(tf_cell, xt, sequence_length=L,
                                             initial_state=init, time_major=True)
        return y, ([fin.h, fin.c] if len(st) == 2 else [fin])

    rng = np.random.default_rng(5)
    ct_y, ct_s = rng.normal(size=(T_, B_, H_)), [rng.normal(size=(B_, H_)) for _ in s]
    y_tf, final_tf, g_tf = _tf_grads(tf, run, x, s, tf_cell.trainable_variables, ct_y, ct_s)
    y, final, cache = cell.fwd(x, s, w, L, True)
    _close("y vs TF", y, y_tf, 1e-10, 1e-12)
    for f, ft in zip(final, final_tf):
        _close("final state vs TF", f, ft, 1e-10, 1e-12)
    for k, (g, gt) in enumerate(zip(cell.bwd(ct_y, ct_s, x, s, w, L, cache, True), g_tf)):
        _close(f"grad {k} vs TF", g, gt, 1e-10, 1e-12)


@pytest.mark.parametrize("name", list(KERAS))
def test_keras_layers(tf, name):
    cell = next(c for c in CELLS if c.name == name)
    x, s, w, L = _inputs(cell, T_, B_, I_, H_, SEQ, seed=6)
    cls, kw = KERAS[name]
    layer = getattr(tf.keras.layers, cls)(H_, return_sequences=True, return_state=True,
                                          dtype="float64", **kw)
    mask = tf.constant(np.arange(T_)[None, :] < L[:, None])
    layer(tf.zeros((B_, T_, I_), tf.float64), initial_state=[tf.constant(a) for a in s])
    layer.set_weights(w)

    def run(xt, st):
        out = layer(tf.transpose(xt, [1, 0, 2]), mask=mask, initial_state=list(st))
        return tf.transpose(out[0], [1, 0, 2]), list(out[1:])

    rng = np.random.default_rng(7)
    ct_y, ct_s = rng.normal(size=(T_, B_, H_)), [rng.normal(size=(B_, H_)) for _ in s]
    y_tf, final_tf, g_tf = _tf_grads(tf, run, x, s, layer.trainable_variables, ct_y, ct_s)
    y, final, cache = cell.fwd(x, s, w, L, False)
    _close("y vs Keras", y, y_tf, 1e-10, 1e-12)
    for f, ft in zip(final, final_tf):
        _close("final state vs Keras", f, ft, 1e-10, 1e-12)
    for k, (g, gt) in enumerate(zip(cell.bwd(ct_y, ct_s, x, s, w, L, cache, False), g_tf)):
        _close(f"grad {k} vs Keras", g, gt, 1e-10, 1e-12)
