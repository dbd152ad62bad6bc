"""Op-table entries for the fused recurrent ops (minigrad/ops/rnn.py), each against TensorFlow's
own recurrent code: tf.compat.v1.nn.dynamic_rnn with the TF1 cells, and tf.keras layers.

TF's cells read their weights from attributes; the references build a cell, then point those
attributes at the sample's weight tensors, so TF differentiates with respect to them too.
Inputs: x, initial state(s), weights, seq_len (an int input: lengths 0 and T included).
"""
import numpy as np

from minigrad.testing.optable import OpInfo, Sample, add

B, T, I, H = 4, 5, 3, 3
_RAGGED = np.array([5, 0, 2, 4], np.int32)
_FULL = np.full(B, T, np.int32)


def _arr(rng, *shape, scale=0.5):
    return rng.uniform(-1.0, 1.0, shape) * scale * 2


def _samples(weight_shapes, n_states, time_major_too=True):
    def make(rng):
        out = []
        for label, L, tm in [("ragged", _RAGGED, False), ("full", _FULL, False),
                             ("time-major", _RAGGED, True)][:3 if time_major_too else 2]:
            x = _arr(rng, T, B, I) if tm else _arr(rng, B, T, I)
            states = [_arr(rng, B, H) for _ in range(n_states)]
            weights = [_arr(rng, *s, scale=0.6) for s in weight_shapes]
            out.append(Sample([x] + states + weights + [L.copy()],
                              dict(time_major=True) if tm else {}, label))
        return out
    return make


_WHY32 = ("T = 5 recurrent steps in float32: TF's gate arithmetic is ordered differently "
          "(the input and recurrent products are summed apart) and the kernels' tanh/sigmoid "
          "are within an ulp of Eigen's; differences compound along the sequence")


# --- TF1 cells under dynamic_rnn --------------------------------------------------------------
def _tf1(tf, cls, x, weights, attrs, L, init, time_major, **kw):
    cell = getattr(tf.compat.v1.nn.rnn_cell, cls)(H, dtype=x.dtype, **kw)
    cell.build(tf.TensorShape([None, I]))
    for name, w in zip(attrs, weights):
        setattr(cell, name, w)
    return tf.compat.v1.nn.dynamic_rnn(cell, x, sequence_length=L, initial_state=init,
                                       time_major=time_major)


def _tf1_rnn(tf, x, h0, k, b, L, time_major=False):
    y, h = _tf1(tf, "BasicRNNCell", x, [k, b], ["_kernel", "_bias"], L, h0, time_major)
    return [y, h]


def _tf1_lstm(tf, x, h0, c0, k, b, L, time_major=False):
    init = tf.compat.v1.nn.rnn_cell.LSTMStateTuple(c0, h0)
    y, s = _tf1(tf, "BasicLSTMCell", x, [k, b], ["_kernel", "_bias"], L, init, time_major)
    return [y, s.h, s.c]


def _tf1_gru(tf, x, h0, kg, bg, kc, bc, L, time_major=False):
    y, h = _tf1(tf, "GRUCell", x, [kg, bg, kc, bc],
                ["_gate_kernel", "_gate_bias", "_candidate_kernel", "_candidate_bias"], L, h0,
                time_major)
    return [y, h]


add(OpInfo("dynamic_rnn_basic_rnn_cell",
           lambda mg, x, h0, k, b, L, time_major=False:
           mg.ops.rnn.basic_rnn_sequence(x, h0, k, b, L, batch_major=not time_major),
           _tf1_rnn, _samples([(I + H, H), (H,)], 1), nograd=(4,), rtol32=1e-5, atol32=1e-5,
           why=_WHY32))
add(OpInfo("dynamic_rnn_basic_lstm_cell",
           lambda mg, x, h0, c0, k, b, L, time_major=False:
           mg.ops.rnn.basic_lstm_sequence(x, h0, c0, k, b, L, batch_major=not time_major),
           _tf1_lstm, _samples([(I + H, 4 * H), (4 * H,)], 2), nograd=(5,), rtol32=1e-5,
           atol32=1e-5, why=_WHY32))
add(OpInfo("dynamic_rnn_gru_cell",
           lambda mg, x, h0, kg, bg, kc, bc, L, time_major=False:
           mg.ops.rnn.gru_sequence(x, h0, kg, bg, kc, bc, L, batch_major=not time_major),
           _tf1_gru, _samples([(I + H, 2 * H), (2 * H,), (I + H, H), (H,)], 1), nograd=(6,),
           rtol32=1e-5, atol32=1e-5, why=_WHY32))


# --- Keras layers (masking: the state is carried and the previous output repeated) ----------
def _keras(tf, cls, x, states, weights, L, **kw):
    layer = getattr(tf.keras.layers, cls)(H, return_sequences=True, return_state=True,
                                          dtype=x.dtype, **kw)
    layer.build(tf.TensorShape([None, None, I]))
    layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias = weights
    mask = tf.constant(np.arange(T)[None, :] < np.asarray(L)[:, None])
    return list(layer(x, mask=mask, initial_state=list(states)))


add(OpInfo("SimpleRNN",
           lambda mg, x, h0, k, r, b, L, activation="tanh":
           mg.ops.rnn.keras_simple_rnn_sequence(x, h0, k, r, b, L, activation),
           lambda tf, x, h0, k, r, b, L, activation="tanh":
           _keras(tf, "SimpleRNN", x, [h0], [k, r, b], L, activation=activation),
           lambda rng: (_samples([(I, H), (H, H), (H,)], 1, False)(rng) +
                        [Sample(s.args, dict(activation="relu"), s.label + " relu")
                         for s in _samples([(I, H), (H, H), (H,)], 1, False)(rng)]),
           nograd=(5,), rtol32=1e-5, atol32=1e-5, why=_WHY32))
add(OpInfo("LSTM",
           lambda mg, x, h0, c0, k, r, b, L:
           mg.ops.rnn.keras_lstm_sequence(x, h0, c0, k, r, b, L),
           lambda tf, x, h0, c0, k, r, b, L: _keras(tf, "LSTM", x, [h0, c0], [k, r, b], L),
           _samples([(I, 4 * H), (H, 4 * H), (4 * H,)], 2, False), nograd=(6,), rtol32=1e-5,
           atol32=1e-5, why=_WHY32))
add(OpInfo("GRU",
           lambda mg, x, h0, k, r, b, L, reset_after=True:
           mg.ops.rnn.keras_gru_sequence(x, h0, k, r, b, L, reset_after),
           lambda tf, x, h0, k, r, b, L, reset_after=True:
           _keras(tf, "GRU", x, [h0], [k, r, b], L, reset_after=reset_after),
           lambda rng: (_samples([(I, 3 * H), (H, 3 * H), (2, 3 * H)], 1, False)(rng) +
                        [Sample(s.args, dict(reset_after=False), s.label + " reset_after=False")
                         for s in _samples([(I, 3 * H), (H, 3 * H), (3 * H,)], 1, False)(rng)]),
           nograd=(5,), rtol32=1e-5, atol32=1e-5, why=_WHY32))
