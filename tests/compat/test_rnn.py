"""tf.nn.dynamic_rnn / static_rnn and the TF1 cells in graph mode, against TensorFlow's own
(tensorflow.compat.v1 in a tf.Graph): one program text per case, run by both engines from one
seeded start (tests/compat/_rnn_support.py: loaded into TF's variables, then copied by order to
minigrad's after every name and shape is checked).

Each case fetches the outputs, the final state and `tf.gradients` of a loss with respect to
every trainable variable and the input. Tolerances: float64 1e-10 relative (the same
formulas, summed in other orders: TF's matmuls vs minigrad's fused kernels), float32 TF's
assertAllClose scale (rtol 1e-6 with atol 1e-6 for values near 0), raised to 2e-6 only where a
case says why.
"""
import warnings

import numpy as np
import pytest

from minigrad.testing.tf1_compare import assert_same_run
from tests.compat._rnn_support import check, run_both_fixed, structure

B, T, I, H = 3, 5, 3, 4
SEQ = [5, 0, 2]
DTYPES = ["float32", "float64"]
def make_cell(tf, kind):
    rc = tf.nn.rnn_cell
    if kind == "basic_rnn":
        return rc.BasicRNNCell(H)
    if kind == "basic_lstm":
        return rc.BasicLSTMCell(H)
    if kind == "lstm":
        return rc.LSTMCell(H)
    if kind == "lstm_peephole_proj":       # the step-by-step (composite) path
        return rc.LSTMCell(H, use_peepholes=True, cell_clip=0.5, num_proj=2)
    if kind == "gru":
        return rc.GRUCell(H)
    if kind == "multi":
        return rc.MultiRNNCell([rc.BasicLSTMCell(H), rc.GRUCell(2), rc.BasicRNNCell(H)])
    if kind == "multi_concat":             # TF1's older concatenated (non-tuple) states
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rc.MultiRNNCell([rc.BasicLSTMCell(H, state_is_tuple=False), rc.GRUCell(2)],
                                   state_is_tuple=False)
    if kind == "multi_same":               # the deck's [cell] * n: one set of weights
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rc.MultiRNNCell([rc.BasicLSTMCell(I)] * 2)
    raise ValueError(kind)


def leaves(s):
    return [v for item in s for v in leaves(item)] if isinstance(s, (list, tuple)) else [s]


def rnn_program(tf, kind, dtype, seq=None, time_major=False, fed_state=False, sync=None):
    """dynamic_rnn on a fed input; a loss with a non-uniform cotangent on every output and
    state; its gradients w.r.t. every variable, the input (and the fed initial state)."""
    f = getattr(tf, dtype)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (B, T, I)).astype(dtype)
    X = tf.placeholder(f, [T, None, I] if time_major else [None, T, I], name="X")
    cell = make_cell(tf, kind)
    feed = {X: x.transpose(1, 0, 2) if time_major else x}
    init = None
    if fed_state:
        init = tf.nn.rnn_cell.LSTMStateTuple(tf.placeholder(f, [None, H]),
                                             tf.placeholder(f, [None, H]))
        for p in init:
            feed[p] = rng.uniform(-1, 1, (B, H)).astype(dtype)
    outputs, state = tf.nn.dynamic_rnn(cell, X, sequence_length=seq, initial_state=init,
                                       dtype=f, time_major=time_major)
    fetched = [outputs] + leaves(state)
    loss = sum(tf.reduce_sum(tf.square(v) * 0.5 + v * (k + 1.0) * 0.3)
               for k, v in enumerate(fetched))
    variables = tf.trainable_variables()
    wrt = variables + [X] + (list(init) if fed_state else [])
    grads = tf.gradients(loss, wrt)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        values, grad_values = sess.run([fetched, grads], feed)
    return {"values": values, "grads": grad_values, "names": [v.name for v in variables],
            "state": structure(state), "shape": outputs.shape.as_list()}


KINDS = ["basic_rnn", "basic_lstm", "lstm", "lstm_peephole_proj", "gru", "multi", "multi_concat",
         "multi_same"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_dynamic_rnn_cells(kind, dtype):
    want, got = run_both_fixed(rnn_program, kind, dtype)
    check(want, got, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["basic_lstm", "gru", "lstm_peephole_proj", "multi"])
def test_dynamic_rnn_sequence_length(kind, dtype):
    """Ragged lengths with a 0: zero outputs past each row's end, the state kept."""
    want, got = run_both_fixed(rnn_program, kind, dtype, seq=SEQ)
    check(want, got, dtype)


@pytest.mark.parametrize("kind", ["basic_rnn", "basic_lstm", "multi"])
def test_dynamic_rnn_time_major(kind):
    want, got = run_both_fixed(rnn_program, kind, "float64", time_major=True, seq=SEQ)
    check(want, got, "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dynamic_rnn_fed_initial_state(dtype):
    """An LSTMStateTuple of placeholders as the initial state: its gradients too."""
    want, got = run_both_fixed(rnn_program, "basic_lstm", dtype, fed_state=True)
    check(want, got, dtype)
    assert len(got["grads"]) == 2 + 1 + 2


def static_program(tf, kind, dtype, seq=None, manual=False, sync=None):
    """static_rnn over the unstacked steps (or the cell called step by step by hand, as the
    deck's rnn_basics does); outputs, state and gradients."""
    f = getattr(tf, dtype)
    x = np.random.default_rng(2).uniform(-1, 1, (B, T, I)).astype(dtype)
    X = tf.placeholder(f, [None, T, I])
    steps = tf.unstack(X, axis=1)
    cell = make_cell(tf, kind)
    if manual:
        state = cell.zero_state(tf.shape(X)[0], f)
        outputs = []
        for x_t in steps:
            out, state = cell(x_t, state)
            outputs.append(out)
    else:
        outputs, state = tf.nn.static_rnn(cell, steps, dtype=f, sequence_length=seq)
    fetched = list(outputs) + leaves(state)
    loss = sum(tf.reduce_sum(tf.square(v) * 0.5 + v * (k + 1.0) * 0.1)
               for k, v in enumerate(fetched))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables + [X])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        values, grad_values = sess.run([fetched, grads], {X: x})
    return {"values": values, "grads": grad_values, "names": [v.name for v in variables],
            "state": structure(state), "shape": outputs[-1].shape.as_list()}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["basic_rnn", "basic_lstm", "multi"])
def test_static_rnn(kind, dtype):
    want, got = run_both_fixed(static_program, kind, dtype)
    check(want, got, dtype)


def test_static_rnn_sequence_length():
    want, got = run_both_fixed(static_program, "basic_lstm", "float64", seq=SEQ)
    check(want, got, "float64")


@pytest.mark.parametrize("kind", ["basic_rnn", "basic_lstm", "gru", "multi"])
def test_cell_called_step_by_step(kind):
    """`cell(x_t, state)` by hand from `zero_state(tf.shape(X)[0])`: one Operation per call,
    the weights made on the first call and reused by the others, as TF's names say."""
    want, got = run_both_fixed(static_program, kind, "float64", manual=True)
    check(want, got, "float64")


# --- one cell given twice: MultiRNNCell([cell] * n) ---------------------------------------------
def shared_training_program(tf, steps=3, sync=None):
    """The deck's `MultiRNNCell([cell] * 2)` trained by gradient descent: TF shares the cell's
    weights between the layers (one kernel, one bias) and updates them once per step."""
    x = np.random.default_rng(3).uniform(-1, 1, (B, T, I))
    y = np.random.default_rng(4).uniform(-1, 1, (B, T, I))
    X = tf.placeholder(tf.float64, [None, T, I])
    Y = tf.placeholder(tf.float64, [None, T, I])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(I)] * 2)
    outputs, _ = tf.nn.dynamic_rnn(cell, X, dtype=tf.float64)
    loss = tf.reduce_mean(tf.square(outputs - Y))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for _ in range(steps):
            losses.append(sess.run([loss, train], {X: x, Y: y})[0])
        variables = tf.trainable_variables()
        weights = sess.run(variables)
    return {"losses": losses, "weights": weights, "names": [v.name for v in variables],
            "cell_weights": [v.name for v in cell.weights]}


def test_multi_rnn_cell_same_cell_shares_and_updates_once():
    want, got = run_both_fixed(shared_training_program)
    names = ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
             "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0"]
    assert got["names"] == want["names"] == names
    # TF's MultiRNNCell.weights repeats the shared cell's (layer by layer); minigrad lists
    # each weight once, so an optimizer given cell.weights updates it once per step
    assert want["cell_weights"] == names * 2
    assert got["cell_weights"] == names
    assert_same_run(want["losses"], got["losses"], 1e-10, 0, "losses")
    assert_same_run(want["weights"], got["weights"], 1e-10, 1e-13, "weights")


def test_eager_multi_rnn_cell_same_cell_lists_weights_once():
    """minigrad's own MultiRNNCell: the shared cell's weights are listed once, so a
    gradient-descent step subtracts lr * (the summed gradient of both layers) once."""
    import minigrad as mg
    cell = mg.nn.rnn_cell.BasicRNNCell(I)
    stack = mg.nn.rnn_cell.MultiRNNCell([cell, cell])
    x = mg.constant(np.random.default_rng(5).uniform(-1, 1, (B, T, I)))

    def loss():
        outputs, _ = mg.nn.dynamic_rnn(stack, x, dtype=mg.float64)
        return mg.reduce_sum(mg.square(outputs))
    loss()
    assert [w.name for w in stack.weights] == [w.name for w in cell.weights]
    assert len(stack.trainable_weights) == 2
    before = [w.numpy().copy() for w in cell.weights]
    with mg.GradientTape() as tape:
        value = loss()
    grads = [g.numpy() for g in tape.gradient(value, cell.weights)]
    mg.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=stack.trainable_weights)
    lr = float(np.float32(0.1))       # TF's learning-rate tensor is float32, then cast
    for w, b, g in zip(cell.weights, before, grads):
        np.testing.assert_allclose(w.numpy(), b - lr * g, rtol=1e-12, atol=1e-15)


# --- variable names: TF1's scoping rules ---------------------------------------------------------
def _x(tf, depth=I):
    return tf.placeholder(tf.float32, [None, T, depth])


def _two_scopes(tf):
    x = _x(tf)
    for name in ("a", "b"):
        with tf.variable_scope(name):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, dtype=tf.float32)


def _reused_scope(tf):
    x = _x(tf)
    with tf.variable_scope("model") as scope:
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), x, dtype=tf.float32)
    with tf.variable_scope(scope, reuse=True):       # a second cell on the same weights
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), x, dtype=tf.float32)


def _cells_by_hand(tf):
    steps = tf.unstack(_x(tf), axis=1)
    with tf.variable_scope("outer"):
        cell = tf.nn.rnn_cell.BasicRNNCell(H)
        out, state = cell(steps[0], cell.zero_state(tf.shape(steps[0])[0], tf.float32))
        out, state = cell(steps[1], state)                       # the same weights
        out, state = tf.nn.rnn_cell.BasicRNNCell(H)(steps[2], state)   # basic_rnn_cell_1
        for _ in range(2):
            out, state = tf.nn.rnn_cell.BasicRNNCell(H, name="foo")(steps[3], state)


def _cell_then_dynamic_rnn(tf):
    x = _x(tf)
    cell = tf.nn.rnn_cell.BasicRNNCell(H)
    cell(x[:, 0], cell.zero_state(2, tf.float32))      # the cell keeps its first scope
    tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)


def _multi_dropout(tf):
    rc = tf.nn.rnn_cell
    cell = rc.MultiRNNCell([rc.DropoutWrapper(rc.BasicLSTMCell(H), output_keep_prob=0.5)
                            for _ in range(2)])
    tf.nn.dynamic_rnn(cell, _x(tf), dtype=tf.float32)


def _bidirectional(tf):
    rc = tf.nn.rnn_cell
    with tf.variable_scope("dynamic"):
        tf.nn.bidirectional_dynamic_rnn(rc.BasicLSTMCell(H), rc.GRUCell(2), _x(tf),
                                        dtype=tf.float32)
    tf.nn.static_bidirectional_rnn(rc.BasicRNNCell(H), rc.BasicRNNCell(H),
                                   tf.unstack(_x(tf), axis=1), dtype=tf.float32)


def _static_then_dynamic(tf):
    x = _x(tf)
    tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), tf.unstack(x, axis=1), dtype=tf.float32)
    with tf.variable_scope("second"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, dtype=tf.float32)


def _two_without_scope(tf):          # both in "rnn": TF refuses the second cell's kernel
    x = _x(tf)
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, dtype=tf.float32)
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), x, dtype=tf.float32)


def _reuse_without_variables(tf):
    with tf.variable_scope("s", reuse=True):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(H), _x(tf), dtype=tf.float32)


NAME_CASES = [_two_scopes, _reused_scope, _cells_by_hand, _cell_then_dynamic_rnn,
              _multi_dropout, _bidirectional, _static_then_dynamic, _two_without_scope,
              _reuse_without_variables]


def _names(tf, build, sync=None):
    try:
        build(tf)
    except ValueError as e:
        return f"ValueError: {e}"
    return [(v.name, tuple(v.shape.as_list())) for v in tf.trainable_variables()]


@pytest.mark.parametrize("build", NAME_CASES, ids=lambda f: f.__name__.lstrip("_"))
def test_variable_names_and_order_as_tf(build):
    from minigrad.testing.tf1_compare import run_in_graph, tf_v1
    import minigrad.compat.v1 as mg_tf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run_in_graph(tf_v1(), _names, build)
        got = run_in_graph(mg_tf, _names, build)
    assert got == want


def test_scope_initializer_reaches_the_kernels():
    """`tf.variable_scope(..., initializer=...)` initializes the cells' kernels (TF1's cells
    leave them to the scope); biases keep the cells' own (zeros; ones for GRU gates)."""
    def program(tf, sync=None):
        rc = tf.nn.rnn_cell
        X = tf.placeholder(tf.float64, [None, T, I])
        with tf.variable_scope("model", initializer=tf.constant_initializer(0.25)):
            cell = rc.MultiRNNCell([rc.BasicLSTMCell(H), rc.GRUCell(2),
                                    rc.LSTMCell(H, use_peepholes=True, num_proj=2)])
            tf.nn.dynamic_rnn(cell, X, dtype=tf.float64)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sync(sess)
            return [(v.name, sess.run(v)) for v in tf.trainable_variables()]
    from minigrad.testing.tf1_compare import Sync, run_in_graph, tf_v1
    import minigrad.compat.v1 as mg_tf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run_in_graph(tf_v1(), program, sync=Sync())
        got = run_in_graph(mg_tf, program, sync=lambda sess: None)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (name, w), (_, g) in zip(want, got):
        np.testing.assert_array_equal(g, w, err_msg=name)
    assert {float(v) for n, a in got if "kernel" in n or "diag" in n for v in a.ravel()} == \
        {0.25}


# --- bidirectional ----------------------------------------------------------------------------
def bidirectional_program(tf, static, seq=None, sync=None):
    x = np.random.default_rng(6).uniform(-1, 1, (B, T, I))
    X = tf.placeholder(tf.float64, [None, T, I])
    rc = tf.nn.rnn_cell
    fw, bw = rc.BasicLSTMCell(H), rc.GRUCell(2)
    if static:
        outputs, state_fw, state_bw = tf.nn.static_bidirectional_rnn(
            fw, bw, tf.unstack(X, axis=1), dtype=tf.float64, sequence_length=seq)
        fetched = list(outputs) + leaves((state_fw, state_bw))
    else:
        outputs, states = tf.nn.bidirectional_dynamic_rnn(fw, bw, X, sequence_length=seq,
                                                          dtype=tf.float64)
        fetched = leaves(outputs) + leaves(states)
    loss = sum(tf.reduce_sum(tf.square(v) * 0.5 + v * (k + 1.0) * 0.1)
               for k, v in enumerate(fetched))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables + [X])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        values, grad_values = sess.run([fetched, grads], {X: x})
    return {"values": values, "grads": grad_values, "names": [v.name for v in variables],
            "state": structure(fetched[-1]), "shape": fetched[0].shape.as_list()}


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_bidirectional(static):
    """The backward cell runs over each row reversed within its length (TF's
    reverse_sequence), its outputs reversed back."""
    want, got = run_both_fixed(bidirectional_program, static, seq=SEQ)
    check(want, got, "float64")


# --- DropoutWrapper ------------------------------------------------------------------------------
def _dropout_graph(tf, keep):
    X = tf.placeholder(tf.float64, [None, T, I])
    rc = tf.nn.rnn_cell
    cell = rc.DropoutWrapper(rc.BasicLSTMCell(H), output_keep_prob=keep)
    outputs, _ = tf.nn.dynamic_rnn(cell, X, dtype=tf.float64)
    return X, cell, outputs


def test_dropout_wrapper_keep_one_is_the_cell():
    """keep probabilities of 1 (TF's defaults): the wrapped cell's numbers, names and order."""
    def program(tf, sync=None):
        X, _, outputs = _dropout_graph(tf, 1.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sync(sess)
            return sess.run(outputs, {X: np.ones((B, T, I))})
    want, got = run_both_fixed(program)
    assert_same_run(want, got, 1e-10, 1e-12, "outputs")


def test_dropout_wrapper_fed_keep_prob_draws_new_masks():
    """A fed keep probability: 1.0 gives the cell's outputs exactly; 0.5 zeroes outputs and
    doubles the others (tf.nn.dropout's rule), with a new mask on every run of one plan."""
    import minigrad.compat.v1 as tf
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        keep = tf.placeholder(tf.float64, [])
        X, cell, outputs = _dropout_graph(tf, keep)
        x = np.random.default_rng(7).uniform(-1, 1, (8, T, I))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            full = sess.run(outputs, {X: x, keep: 1.0})
            first, second = (sess.run(outputs, {X: x, keep: 0.5}) for _ in range(2))
            again = sess.run(outputs, {X: x, keep: 1.0})
    np.testing.assert_array_equal(again, full)
    for dropped in (first, second):
        kept = dropped != 0
        np.testing.assert_allclose(dropped[kept], 2 * full[kept], rtol=1e-15)
        assert 0.3 < kept.mean() < 0.7
    assert (first != second).any()
    assert [v.name for v in cell.weights] == ["rnn/basic_lstm_cell/kernel:0",
                                              "rnn/basic_lstm_cell/bias:0"]


# --- fed sequence lengths ----------------------------------------------------------------------
def test_fed_sequence_length_same_as_tf_on_every_run():
    """A fed sequence_length gives TF's numbers, and a later run of the same plan that feeds
    other lengths uses them (the lengths reach the sequence ops as a tensor, not numbers frozen
    in the plan); another batch size is another plan."""
    def program(tf, sync=None):
        X = tf.placeholder(tf.float64, [None, T, I])
        L = tf.placeholder(tf.int32, [None])
        outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), X, sequence_length=L,
                                           dtype=tf.float64)
        x = np.random.default_rng(8).uniform(-1, 1, (B, T, I))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sync(sess)
            first = sess.run([outputs, state], {X: x, L: SEQ})
            other_fetch = sess.run(outputs, {X: x, L: [1, 2, 3]})       # a new plan
            other_batch = sess.run([outputs, state], {X: x[:2], L: [1, 4]})
            replayed = sess.run([outputs, state], {X: x, L: [1, 2, 3]})     # first's plan
        return {"first": first, "other_fetch": other_fetch, "other_batch": other_batch,
                "replayed": replayed}
    want, got = run_both_fixed(program)
    for key in want:
        assert_same_run(want[key], got[key], 1e-10, 1e-12, key)


# --- errors -------------------------------------------------------------------------------------
def test_errors_name_the_problem():
    import minigrad as mg
    import minigrad.compat.v1 as tf
    with tf.Graph().as_default():
        X = tf.placeholder(tf.float32, [None, T, I])
        with pytest.raises(ValueError, match="argument `dtype` must be specified"):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(H), X)
        with pytest.raises(TypeError, match="tf.nn.rnn_cell / tf.contrib.rnn cell"):
            tf.nn.dynamic_rnn(mg.nn.rnn_cell.BasicRNNCell(H), X, dtype=tf.float32)
        with pytest.raises(TypeError, match="inputs must be a sequence"):
            tf.nn.static_rnn(tf.nn.rnn_cell.BasicRNNCell(H), X, dtype=tf.float32)
        with pytest.raises(ValueError, match=r"built for inputs \[batch, 3\].*\[2, 4\]"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicRNNCell(H)] * 2)
            tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        with pytest.raises(ValueError, match="rank 3"):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), X[:, 0], dtype=tf.float32)
