"""Graph construction, Session.run, variables and training in minigrad.compat.v1, each against
tensorflow.compat.v1 running the same program text."""
import collections

import numpy as np
import pytest

import minigrad.compat.v1 as mgtf
from minigrad.testing.tf1_compare import run_both, run_in_graph, tf_v1

ENGINES = ["tensorflow", "minigrad"]


def engine(name):
    return tf_v1() if name == "tensorflow" else mgtf


def both(program, *args, **kwargs):
    """program(tf, ...) in a fresh graph of each engine, without weight copying."""
    return [run_in_graph(engine(e), program, *args, **kwargs) for e in ENGINES]


# --- graph construction ------------------------------------------------------------------------
def names_and_shapes(tf):
    X = tf.placeholder(tf.float32, [None, 2], name="X")
    W = tf.Variable(tf.random_normal([2, 3]), name="weight1")
    with tf.name_scope("layer1"):
        h = tf.matmul(X, W)
        h2 = h + 1.0
    y = tf.reshape(h2, [-1])
    s = tf.reduce_sum(h2, axis=1, keep_dims=True)
    t = tf.transpose(h2)
    return {
        "X": (X.name, X.shape.as_list(), X.dtype.name),
        "W": (W.name, W.shape.as_list()),
        "h": (h.name, h.get_shape().as_list()),
        "h2": (h2.name, h2.shape.as_list()),
        "y": (y.shape.as_list(),), "s": (s.shape.as_list(),), "t": (t.shape.as_list(),),
        "op": (h.op.name, h.op.type),
    }


def test_names_static_shapes_and_dtypes_as_tf_gives_them():
    want, got = both(names_and_shapes)
    assert got == want


def shape_error(tf):
    a = tf.placeholder(tf.float32, [None, 2])
    b = tf.placeholder(tf.float32, [3, 4])
    return tf.matmul(a, b)


@pytest.mark.parametrize("name", ENGINES)
def test_shape_errors_at_graph_construction(name):
    with pytest.raises(ValueError, match=r"2.*3|3.*2"):
        run_in_graph(engine(name), shape_error)


def mixed_operands(tf, dtype):
    f = getattr(tf, dtype)
    X = tf.placeholder(f, [None, 3])
    a = np.arange(3, dtype=dtype)
    ys = [X + a, a * X, X - 1.0, 2.0 / (X + 1.0), -X, X[:, 1], X ** 2, abs(X - 1.5)]
    with tf.Session() as sess:
        return sess.run(ys, {X: np.arange(6, dtype=dtype).reshape(2, 3)})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_operators_and_numpy_operands(dtype):
    want, got = both(mixed_operands, dtype)
    for w, g in zip(want, got):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-7)


# --- Session.run ------------------------------------------------------------------------------
Pair = collections.namedtuple("Pair", "a b")


def fetch_structures(tf):
    X = tf.placeholder(tf.float32, [None, 2])
    s = tf.reduce_sum(X)
    m = tf.reduce_mean(X, axis=0)
    noop = tf.no_op()
    with tf.Session() as sess:
        feed = {X: [[1.0, 2.0], [3.0, 5.0]]}
        out = sess.run({"s": s, "pair": Pair(s, [m, (s,)]), "op": noop}, feed)
        single = sess.run(s, feed_dict=feed)
        by_name = sess.run(s.name, feed)
        ev = s.eval(feed, session=sess)
    return out, single, by_name, ev, type(single).__name__


def test_fetches_nested_in_dicts_lists_tuples_and_namedtuples():
    want, got = both(fetch_structures)
    (wo, *wrest), (go, *grest) = want, got
    assert isinstance(go["pair"], Pair) and go["op"] is None and wo["op"] is None
    assert go["s"] == wo["s"] and np.array_equal(go["pair"].b[0], wo["pair"].b[0])
    assert go["pair"].b[1] == (wo["pair"].b[1][0],)
    assert grest == wrest                  # values, and np.float32 for a scalar fetch


def two_sessions(tf):
    v = tf.Variable(1.0, name="v")
    inc = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(tf.global_variables_initializer())
    s2.run(tf.global_variables_initializer())
    for _ in range(3):
        s1.run(inc)
    out = (s1.run(v), s2.run(v))
    s1.close()
    s2.close()
    return out


def test_variables_live_in_the_session():
    want, got = both(two_sessions)
    assert got == want == (4.0, 1.0)


def interactive(tf):
    sess = tf.InteractiveSession()
    a = tf.constant([1.0, 2.0])
    v = tf.Variable([3.0, 4.0])
    v.initializer.run()
    out = ((a * v).eval(), v.eval())
    sess.close()
    return out


def test_interactive_session_eval_and_operation_run():
    want, got = both(interactive)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


def plan_reuse(tf):
    X = tf.placeholder(tf.float64, [None])
    y = tf.reduce_sum(X * X)
    with tf.Session() as sess:
        return [sess.run(y, {X: np.arange(n, dtype=np.float64)}) for n in (3, 3, 5, 3)]


def test_a_new_feed_shape_runs_again_and_a_known_one_replays():
    want, got = both(plan_reuse)
    assert got == want == [5.0, 5.0, 30.0, 5.0]


def test_session_run_replays_one_plan_per_signature():
    with mgtf.Graph().as_default():
        X = mgtf.placeholder(mgtf.float32, [None, 2])
        y = mgtf.reduce_sum(X)
        sess = mgtf.Session()
        for n in (1, 2, 2, 2, 1):
            sess.run(y, {X: np.ones((n, 2), np.float32)})
        assert len(sess._plans) == 2


# --- variables ----------------------------------------------------------------------------------
def scopes(tf):
    out = []
    with tf.variable_scope("foo"):
        a = tf.get_variable("a", initializer=tf.zeros([2]))
        with tf.variable_scope("bar"):
            b = tf.get_variable("b", [1, 2])
    with tf.variable_scope("foo", reuse=True):
        a2 = tf.get_variable("a", [2])
    with tf.variable_scope("foo") as scope:
        scope.reuse_variables()
        a3 = tf.get_variable("a")
    with tf.variable_scope("baz", reuse=tf.AUTO_REUSE):
        c = tf.get_variable("c", initializer=tf.zeros([3]))
        c2 = tf.get_variable("c", [3])
    v = tf.Variable(0.0, name="w")
    v2 = tf.Variable(0.0, name="w")
    with tf.name_scope("scope"):
        v3 = tf.Variable(0.0, name="w")
    out += [a.name, b.name, a2 is a, a3 is a, c.name, c2 is c, v.name, v2.name, v3.name]
    out += [[x.name for x in tf.global_variables()], [x.name for x in tf.trainable_variables()]]
    return out


def test_variable_names_scopes_and_reuse():
    want, got = both(scopes)
    assert got == want


def reuse_errors(tf, case):
    if case == "exists":
        tf.get_variable("x", [1])
        tf.get_variable("x", [1])
    else:
        with tf.variable_scope("s", reuse=True):
            tf.get_variable("missing", [1])


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("case,pattern", [("exists", "Variable x already exists"),
                                           ("missing", "Variable s/missing does not exist")])
def test_get_variable_reuse_errors(name, case, pattern):
    with pytest.raises(ValueError, match=pattern):
        run_in_graph(engine(name), reuse_errors, case)


def lazy_initial_values(tf):
    a = tf.Variable(tf.ones([2]) * 3.0, name="a")
    b = tf.Variable(a.initial_value * 2.0, name="b")
    not_trained = tf.Variable(5, trainable=False, name="counter")
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([a, b, not_trained]))
        a.load([1.0, 2.0], sess)
        sess.run(not_trained.assign(7))
        return sess.run([a, b, not_trained]), [v.name for v in tf.trainable_variables()]


def test_initial_values_load_and_assign():
    want, got = both(lazy_initial_values)
    np.testing.assert_array_equal(got[0][0], want[0][0])
    np.testing.assert_array_equal(got[0][1], want[0][1])
    assert got[0][2] == want[0][2] == 7 and got[1] == want[1]


# --- training -----------------------------------------------------------------------------------
def linear_regression(tf, dtype, optimizer, steps=30, sync=None):
    f = getattr(tf, dtype)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype(dtype)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(dtype)
    X, Y = tf.placeholder(f, [None, 3]), tf.placeholder(f, [None, 1])
    W = tf.Variable(tf.random_normal([3, 1], dtype=f), name="W")
    b = tf.Variable(tf.zeros([1], dtype=f), name="b")
    cost = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - Y))
    step = tf.train.get_or_create_global_step()
    opt = {"gd": lambda: tf.train.GradientDescentOptimizer(0.05),
           "momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9),
           "rmsprop": lambda: tf.train.RMSPropOptimizer(0.01),
           "adam": lambda: tf.train.AdamOptimizer(0.05)}[optimizer]()
    grads_and_vars = opt.compute_gradients(cost)
    train = opt.apply_gradients(grads_and_vars, global_step=step)
    gW, gX = tf.gradients(cost, [W, X])
    costs = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        first = sess.run([gW, gX], {X: x, Y: y})
        for _ in range(steps):
            costs.append(sess.run([cost, train], {X: x, Y: y})[0])
        return np.array(costs), first, sess.run(step), sess.run([W, b])


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizers_compute_and_apply_gradients(optimizer, dtype):
    want, got = run_both(linear_regression, dtype, optimizer)
    rtol = 1e-9 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got[0], want[0], rtol=rtol)
    for w, g in zip(want[1], got[1]):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12 if dtype == "float64" else 1e-6)
    assert got[2] == want[2] == 30
    for w, g in zip(want[3], got[3]):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12 if dtype == "float64" else 1e-6)


def gradients_api(tf, dtype):
    f = getattr(tf, dtype)
    x = tf.placeholder(f, [3])
    w = tf.constant(np.array([1.0, 2.0, 3.0], dtype))
    y = tf.reduce_sum(tf.sigmoid(x * w))
    z = tf.reduce_sum(tf.stop_gradient(x) * x)
    g = tf.gradients(y, [x, w])
    gz = tf.gradients(z, x)
    gy_weighted = tf.gradients([x * 2.0], [x], grad_ys=[tf.constant(np.array([1.0, 0.5, 2.0],
                                                                             dtype))])
    unconnected = tf.gradients(y, tf.placeholder(f, [1]))
    with tf.Session() as sess:
        vals = sess.run([g, gz, gy_weighted], {x: np.array([0.1, -0.2, 0.3], dtype)})
    return vals, unconnected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tf_gradients_stop_gradient_grad_ys_and_unconnected(dtype):
    (want, wu), (got, gu) = both(gradients_api, dtype)
    assert wu == gu == [None]
    for w, g in zip(np.concatenate([np.ravel(a) for a in _leaves(want)]),
                    np.concatenate([np.ravel(a) for a in _leaves(got)])):
        np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == "float32" else 1e-12)


def through_integers(tf, dtype):
    f = getattr(tf, dtype)
    x = tf.placeholder(f, [2, 3])
    rounded = tf.cast(tf.cast(x * 10.0, tf.int32), f)          # a path through integers
    picked = tf.one_hot(tf.argmax(x, 1), 3, dtype=f)            # through argmax's indices
    mixed = tf.reduce_sum(rounded * x) + tf.reduce_sum(picked)
    none = tf.gradients([tf.reduce_sum(rounded), tf.reduce_sum(picked)], x)
    g = tf.gradients(mixed, x)
    value = np.array([[0.1, 0.5, 0.3], [0.9, 0.2, 0.4]], dtype)
    with tf.Session() as sess:
        return none, sess.run(g, {x: value})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tf_gradients_is_none_through_integer_paths(dtype):
    (wn, want), (gn, got) = both(through_integers, dtype)
    assert wn == gn == [None]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_array_equal(got[0], np.array([[1, 5, 3], [9, 2, 4]], dtype))


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [np.asarray(x)]


# --- bad input ------------------------------------------------------------------------------------
def unfed(tf):
    X = tf.placeholder(tf.float32, [None, 2], name="X")
    y = tf.reduce_sum(X)
    with tf.Session() as sess:
        sess.run(y)


def wrong_shape(tf):
    X = tf.placeholder(tf.float32, [None, 2], name="X")
    with tf.Session() as sess:
        sess.run(tf.reduce_sum(X), {X: np.zeros((3, 3), np.float32)})


def uninitialized(tf):
    W = tf.Variable(tf.zeros([2]), name="weight1")
    with tf.Session() as sess:
        sess.run(W * 2.0)


def closed(tf):
    a = tf.constant(1.0)
    sess = tf.Session()
    sess.close()
    sess.run(a)


def other_graph(tf):
    tf.constant(2.0)
    with tf.Graph().as_default():
        a = tf.constant(1.0)
    with tf.Session() as sess:
        sess.run(a)


def fetch_none(tf):
    tf.constant(2.0)
    with tf.Session() as sess:
        sess.run([None])


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("program,error,pattern", [
    (unfed, "InvalidArgumentError", r"must feed a value for placeholder tensor 'X' with dtype "
                                    r"float"),
    (wrong_shape, "ValueError", r"Cannot feed value of shape \(3, 3\) for Tensor X:0, "
                                r"which has shape \(None, 2\)"),
    (uninitialized, "FailedPreconditionError", r"uninitialized value weight1|weight1"),
    (closed, "RuntimeError", "closed Session"),
    (other_graph, "ValueError", "not an element of this graph|cannot be interpreted"),
    (fetch_none, "TypeError", "`fetch` = None has invalid type"),
], ids=["unfed", "wrong_shape", "uninitialized", "closed", "other_graph", "fetch_none"])
def test_bad_input_gets_tensorflows_kind_of_error(name, program, error, pattern):
    tf = engine(name)
    kinds = {"InvalidArgumentError": tf.errors.InvalidArgumentError,
             "FailedPreconditionError": tf.errors.FailedPreconditionError,
             "ValueError": ValueError, "RuntimeError": RuntimeError, "TypeError": TypeError}
    with pytest.raises(kinds[error], match=pattern):
        run_in_graph(tf, program)


def any_eager_op(tf):
    x = tf.placeholder(tf.float64, [None, 2])
    y = tf.pad(x, [[1, 0], [0, 2]]) * tf.ones_like(tf.pad(x, [[1, 0], [0, 2]]))
    g = tf.gradients(tf.reduce_sum(y * y), x)[0]
    with tf.Session() as sess:
        return sess.run([y, g], {x: np.array([[1.0, 2.0], [3.0, 4.0]])}) + [y.shape.as_list()]


def test_minigrad_functions_without_a_tf1_spelling_are_graph_functions_too():
    want, got = both(any_eager_op)
    assert got[2] == want[2] == [None, 4]
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    with pytest.raises(AttributeError, match="no attribute 'no_such_op'"):
        mgtf.no_such_op


def scalar_feeds_and_case_insensitive_names(tf):
    c = tf.placeholder(tf.float32, [], name="rate")
    with tf.name_scope("Cost"):
        a = tf.constant(1.0, name="x")
    with tf.name_scope("cost"):
        b = tf.constant(1.0, name="x")
    d = tf.constant(2.0, name="x_1")
    e = tf.constant(2.0, name="x")
    with tf.Session() as sess:
        out = sess.run(c * 2.0, {c: 0.5})
    return out, type(out).__name__, [t.op.name for t in (a, b, d, e)]


def test_scalar_feeds_stay_scalars_and_names_are_unique_ignoring_case():
    want, got = both(scalar_feeds_and_case_insensitive_names)
    assert got == want


def known_size_meets_unknown(tf):
    X = tf.placeholder(tf.float32, [None, 3])
    c = np.arange(15, dtype=np.float32).reshape(5, 3)
    w = tf.placeholder(tf.float32, [5, 1])
    y = X - c
    z = X * w
    with tf.Session() as sess:
        vals = sess.run([y, z], {X: np.ones((5, 3), np.float32),
                                 w: np.full((5, 1), 2.0, np.float32)})
    return y.shape.as_list(), z.shape.as_list(), vals


def test_a_known_size_meets_an_unknown_one_as_tf_merges_them():
    want, got = both(known_size_meets_unknown)
    assert got[:2] == want[:2] == ([5, 3], [5, 3])
    for w, g in zip(want[2], got[2]):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError):          # 4 against 5 is still an error
        run_in_graph(mgtf, lambda tf: tf.placeholder(tf.float32, [4, 3]) - np.ones((5, 3)))
