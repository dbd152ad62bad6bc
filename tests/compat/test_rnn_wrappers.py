"""The TF1 cell wrappers in graph mode against TensorFlow's own: EmbeddingWrapper,
InputProjectionWrapper, OutputProjectionWrapper (TF 1.x's tf.contrib.rnn), ResidualWrapper and
DropoutWrapper (tf.nn.rnn_cell), each through tf.nn.dynamic_rnn on one program text under both
engines, from one seeded start (tests/compat/_rnn_support.py).

TensorFlow 2 has no contrib, so the TensorFlow side of the three contrib wrappers is TF 1.15's
tensorflow/contrib/rnn/python/ops/core_rnn_cell.py transcribed onto tf.compat.v1's legacy
RNNCell (TF's own ops, get_variable and scoping: `_tf_contrib_wrappers` below); ResidualWrapper
and DropoutWrapper are TensorFlow's own.

Each case fetches outputs, the final state, and `tf.gradients` of a loss of every output and
state tensor w.r.t. every trainable variable and the (floating) input. Tolerances as
tests/compat/test_rnn.py: float64 1e-10 relative, float32 1e-6 with atol 1e-6.
"""
import math

import numpy as np
import pytest

from minigrad.ops.rnn import fused_kernels
from minigrad.testing.tf1_compare import run_in_graph, tf_v1
from tests.compat._rnn_support import FixedStart, check, run_both_fixed, structure

B, T, I, H = 3, 5, 3, 4
CLASSES, EMBED = 7, 5
SEQ = [5, 0, 2]
DTYPES = ["float32", "float64"]
# --- TensorFlow's side of tf.contrib.rnn's wrappers ----------------------------------------------
def _tf_contrib_wrappers(tf):
    """TF 1.15's core_rnn_cell wrappers, line for line, on tf.compat.v1's RNNCell (whose
    __call__ gives the cell its scope, snake_case of the class name, as TF 1.15's did)."""
    RNNCell = tf.nn.rnn_cell.RNNCell

    def linear(inputs, output_size):
        # core_rnn_cell._Linear with one argument and a bias, in the current scope
        weights = tf.get_variable("kernel", [inputs.shape[1], output_size], dtype=inputs.dtype)
        biases = tf.get_variable("bias", [output_size], dtype=inputs.dtype,
                                 initializer=tf.constant_initializer(0.0, dtype=inputs.dtype))
        return tf.nn.bias_add(tf.matmul(inputs, weights), biases)

    class _Wrapper(RNNCell):
        def __init__(self, cell, reuse=None):
            super().__init__(_reuse=reuse)
            self._cell = cell

        @property
        def state_size(self):
            return self._cell.state_size

        @property
        def output_size(self):
            return self._cell.output_size

        def zero_state(self, batch_size, dtype):
            with tf.name_scope(type(self).__name__ + "ZeroState"):
                return self._cell.zero_state(batch_size, dtype)

    class EmbeddingWrapper(_Wrapper):
        def __init__(self, cell, embedding_classes, embedding_size, initializer=None,
                     reuse=None):
            super().__init__(cell, reuse)
            self._embedding_classes = embedding_classes
            self._embedding_size = embedding_size
            self._initializer = initializer

        def call(self, inputs, state):
            if self._initializer:
                initializer = self._initializer
            elif tf.get_variable_scope().initializer:
                initializer = tf.get_variable_scope().initializer
            else:
                sqrt3 = math.sqrt(3)
                initializer = tf.random_uniform_initializer(-sqrt3, sqrt3)
            data_type = state[0].dtype if isinstance(state, tuple) else state.dtype
            embedding = tf.get_variable(
                "embedding", [self._embedding_classes, self._embedding_size],
                initializer=initializer, dtype=data_type)
            embedded = tf.nn.embedding_lookup(embedding, tf.reshape(inputs, [-1]))
            return self._cell(embedded, state)

    class InputProjectionWrapper(_Wrapper):
        def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None):
            super().__init__(cell, reuse)
            self._num_proj = num_proj
            self._activation = activation

        def call(self, inputs, state):
            projected = linear(inputs, self._num_proj)
            if self._activation:
                projected = self._activation(projected)
            return self._cell(projected, state)

    class OutputProjectionWrapper(_Wrapper):
        def __init__(self, cell, output_size, activation=None, reuse=None):
            super().__init__(cell, reuse)
            self._output_size = output_size
            self._activation = activation

        @property
        def output_size(self):
            return self._output_size

        def call(self, inputs, state):
            output, res_state = self._cell(inputs, state)
            projected = linear(output, self._output_size)
            if self._activation:
                projected = self._activation(projected)
            return projected, res_state

    return EmbeddingWrapper, InputProjectionWrapper, OutputProjectionWrapper


def contrib_rnn(tf):
    """tf.contrib.rnn's wrappers: minigrad's own, or the transcription above for TensorFlow."""
    if hasattr(tf, "contrib"):
        c = tf.contrib.rnn
        return c.EmbeddingWrapper, c.InputProjectionWrapper, c.OutputProjectionWrapper
    return _tf_contrib_wrappers(tf)


# --- the cells -----------------------------------------------------------------------------------
def make_cell(tf, kind):
    rc = tf.nn.rnn_cell
    Embedding, InputProjection, OutputProjection = contrib_rnn(tf)
    if kind == "embedding":
        return Embedding(rc.BasicLSTMCell(H), CLASSES, EMBED)
    if kind == "embedding_gru_init":      # an initializer given: it, not the default
        return Embedding(rc.GRUCell(H), CLASSES, EMBED,
                         initializer=tf.random_uniform_initializer(-0.1, 0.1))
    if kind == "input_projection":
        return InputProjection(rc.GRUCell(H), 2, activation=tf.tanh)
    if kind == "input_projection_peephole":   # a cell that only runs step by step
        return InputProjection(rc.LSTMCell(H, use_peepholes=True), 2)
    if kind == "output_projection":
        return OutputProjection(rc.BasicLSTMCell(H), 2)
    if kind == "output_projection_sigmoid":
        return OutputProjection(rc.BasicRNNCell(H), 2, activation=tf.sigmoid)
    if kind == "residual":
        return rc.ResidualWrapper(rc.BasicLSTMCell(I))
    if kind == "residual_fn":                 # a residual_fn given: the step-by-step path
        return rc.ResidualWrapper(rc.GRUCell(I), residual_fn=lambda i, o: i * 0.5 + o)
    if kind == "multi":                       # wrappers as layers, and around the stack
        return OutputProjection(rc.MultiRNNCell([
            rc.ResidualWrapper(rc.BasicLSTMCell(I)),
            InputProjection(rc.GRUCell(H), 2),
            rc.DropoutWrapper(rc.BasicRNNCell(H), output_keep_prob=1.0)]), 2)
    raise ValueError(kind)


def leaves(s):
    return [v for item in s for v in leaves(item)] if isinstance(s, (list, tuple)) else [s]


def wrapper_program(tf, kind, dtype, seq=None, time_major=False, sync=None):
    """dynamic_rnn of the wrapped cell on a fed input; a loss with a non-uniform cotangent on
    every output and state; its gradients w.r.t. every variable and the input (not ids)."""
    f = getattr(tf, dtype)
    rng = np.random.default_rng(1)
    ids = kind.startswith("embedding")
    if ids:
        x = rng.integers(0, CLASSES, (B, T, 1)).astype(np.int32)
        X = tf.placeholder(tf.int32, [None, T, 1], name="X")
    else:
        x = rng.uniform(-1, 1, (B, T, I)).astype(dtype)
        X = tf.placeholder(f, [T, None, I] if time_major else [None, T, I], name="X")
        x = x.transpose(1, 0, 2) if time_major else x
    cell = make_cell(tf, kind)
    outputs, state = tf.nn.dynamic_rnn(cell, X, sequence_length=seq, dtype=f,
                                       time_major=time_major)
    fetched = [outputs] + leaves(state)
    loss = sum(tf.reduce_sum(tf.square(v) * 0.5 + v * (k + 1.0) * 0.3)
               for k, v in enumerate(fetched))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables + ([] if ids else [X]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        values, grad_values = sess.run([fetched, grads], {X: x})
    return {"values": values, "grads": grad_values, "names": [v.name for v in variables],
            "state": structure(state), "shape": outputs.shape.as_list()}


def run_both_paths(program, *args, **kwargs):
    """TensorFlow's result, then minigrad's with the fused kernels and step by step."""
    import minigrad.compat.v1 as mg_tf
    sync = FixedStart(0)
    want = run_in_graph(tf_v1(), program, *args, sync=sync, **kwargs)
    got = run_in_graph(mg_tf, program, *args, sync=sync.replay(), **kwargs)
    with fused_kernels(False):
        got_steps = run_in_graph(mg_tf, program, *args, sync=sync.replay(), **kwargs)
    return want, got, got_steps


KINDS = ["embedding", "embedding_gru_init", "input_projection", "input_projection_peephole",
         "output_projection", "output_projection_sigmoid", "residual", "residual_fn", "multi"]


@pytest.mark.parametrize("kind,dtype", [(k, d) for k in KINDS for d in DTYPES
                                        if (k, d) != ("multi", "float32")])   # test_names_as_tf
def test_wrapper_through_dynamic_rnn(kind, dtype):
    want, got = run_both_fixed(wrapper_program, kind, dtype)
    check(want, got, dtype)


@pytest.mark.parametrize("kind", ["embedding", "input_projection", "output_projection",
                                  "residual", "multi"])
def test_wrapper_sequence_length_fused_and_step_by_step(kind):
    """Ragged lengths with a 0, in float64, by both of minigrad's paths: math after the fused
    sequence (projection, residual) is zero past each row's end, as a masked step's is."""
    want, got, got_steps = run_both_paths(wrapper_program, kind, "float64", seq=SEQ)
    check(want, got, "float64")
    check(want, got_steps, "float64")


def test_wrapper_time_major():
    """Time-major inputs through the stack: the residual layer adds its batch-major input to a
    time-major output inside the fused stack."""
    want, got, got_steps = run_both_paths(wrapper_program, "multi", "float64", seq=SEQ,
                                          time_major=True)
    check(want, got, "float64")
    check(want, got_steps, "float64")


def test_names_as_tf():
    """The wrappers' scopes: contrib's open their own (the cell under it); Residual and
    Dropout call the cell in theirs. (The float32 run of the same program.)"""
    want, got = run_both_fixed(wrapper_program, "multi", "float32")
    check(want, got, "float32")
    assert got["names"] == want["names"] == [
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/"
        "kernel:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/bias:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/"
        "gru_cell/gates/kernel:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/"
        "gru_cell/gates/bias:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/"
        "gru_cell/candidate/kernel:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_1/input_projection_wrapper/"
        "gru_cell/candidate/bias:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_2/basic_rnn_cell/kernel:0",
        "rnn/output_projection_wrapper/multi_rnn_cell/cell_2/basic_rnn_cell/bias:0",
        "rnn/output_projection_wrapper/kernel:0",
        "rnn/output_projection_wrapper/bias:0"]


# --- DropoutWrapper: keep probabilities against TF's, with the same masks ------------------------
# TF draws its masks from its own stream, so the two engines agree only where the masks are made
# equal: TF's RandomUniform tensors (static_rnn unrolls the steps, so every draw is an ordinary
# graph tensor) are fed the uniforms, and minigrad's wrapper draws the same uniforms, in TF's
# order (per step: input, state, output), from a stand-in for its random stream. Both then
# apply their own rule (x / keep * (u >= 1 - keep); the LSTM memory c never dropped).
class FedDraws:
    """A random stream that gives the arrays it holds, in order, shapes checked."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def random(self, shape, dtype=None):
        assert self.arrays, "more draws than TF's graph has"
        a = self.arrays.pop(0)
        assert a.shape == tuple(shape), f"draw of shape {list(shape)}, fed {list(a.shape)}"
        return a


def feed_uniforms(tf, cell, uniforms):
    """TF: the feed of its RandomUniform tensors; minigrad: the stream installed (no feed)."""
    if hasattr(cell, "_draws"):
        cell._draws = FedDraws(uniforms)
        return {}
    ops = [op for op in tf.get_default_graph().get_operations() if op.type == "RandomUniform"]
    assert [tuple(op.outputs[0].shape.as_list()) for op in ops] == [u.shape for u in uniforms]
    return {op.outputs[0]: u for op, u in zip(ops, uniforms)}


def dropout_program(tf, kind, dtype, keeps, fed_keeps=False, sync=None):
    """static_rnn of DropoutWrapper(cell, input/output/state keep probabilities) on the given
    uniforms; outputs, final state, gradients w.r.t. the variables and the input."""
    f = getattr(tf, dtype)
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (B, T, I)).astype(dtype)
    X = tf.placeholder(f, [B, T, I])
    feed = {X: x}
    probs = keeps
    if fed_keeps:
        probs = [tf.placeholder(f, []) for _ in keeps]
        feed.update(zip(probs, keeps))
    inner = tf.nn.rnn_cell.BasicLSTMCell(H) if kind == "lstm" else tf.nn.rnn_cell.GRUCell(H)
    cell = tf.nn.rnn_cell.DropoutWrapper(inner, input_keep_prob=probs[0],
                                         output_keep_prob=probs[1], state_keep_prob=probs[2])
    outputs, state = tf.nn.static_rnn(cell, tf.unstack(X, axis=1), dtype=f)
    fetched = list(outputs) + leaves(state)
    loss = sum(tf.reduce_sum(tf.square(v) * 0.5 + v * (k + 1.0) * 0.3)
               for k, v in enumerate(fetched))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables + [X])
    shapes = [(B, I), (B, H), (B, H)]      # per step: input, state (h or the GRU state), output
    dropped = [s for _ in range(T) for s, p in zip(shapes, keeps) if fed_keeps or p < 1]
    uniforms = [rng.uniform(0, 1, s).astype(dtype) for s in dropped]
    feed.update(feed_uniforms(tf, cell, uniforms))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        values, grad_values = sess.run([fetched, grads], feed)
    return {"values": values, "grads": grad_values, "names": [v.name for v in variables],
            "state": structure(state), "shape": outputs[-1].shape.as_list()}


# keep probabilities exact in float32, and (next test) ones that are not
@pytest.mark.parametrize("kind,dtype,keeps,fed", [
    ("lstm", "float64", (1.0, 1.0, 1.0), False),     # no dropout ops at all: the bare cell
    ("lstm", "float64", (0.75, 0.625, 0.5), False),
    ("gru", "float64", (0.75, 0.625, 0.5), False),   # a plain state is dropped whole
    ("lstm", "float32", (0.7, 0.6, 0.5), True),      # keep probabilities fed
    ("gru", "float32", (1.0, 1.0, 1.0), True),       # fed 1: the ops run, and change nothing
])
def test_dropout_wrapper_same_masks(kind, dtype, keeps, fed):
    want, got = run_both_fixed(dropout_program, kind, dtype, keeps, fed)
    check(want, got, dtype)


def test_dropout_wrapper_float_keep_rounded_as_tf():
    want, got = run_both_fixed(dropout_program, "lstm", "float64", (0.7, 0.6, 0.5), False)
    check(want, got, "float64")

