"""tf.layers.dense (and the Dense layer object) and tf.contrib.layers.fully_connected in graph
mode: TF1's variable and op names, its reuse rules and errors, and the same numbers as
TensorFlow from the same weights (one program text, both engines)."""
import math

import numpy as np
import pytest

from minigrad.compat.v1 import layers as mg_layers
from minigrad.testing.tf1_compare import run_both, run_in_graph, tf_v1
import minigrad.compat.v1 as mg_tf

# TF warns that tf.layers is deprecated on every call
pytestmark = pytest.mark.filterwarnings("ignore:`tf.layers.*deprecated:UserWarning")


def both(program, *args):
    return run_in_graph(tf_v1(), program, *args), run_in_graph(mg_tf, program, *args)


def _names(tf):
    """Unnamed, scoped, named, reused and failing dense calls: every name and error text."""
    x = tf.placeholder(tf.float32, [None, 3])
    out, errors = [], []
    out.append(tf.layers.dense(x, 4, activation=tf.nn.relu))
    out.append(tf.layers.dense(out[0], 2, use_bias=False))
    with tf.variable_scope("block"):
        out.append(tf.layers.dense(x, 2))
        out.append(tf.layers.dense(x, 2, name="inner"))
    with tf.variable_scope("block", reuse=True):       # unnamed layers find the first pass's
        out.append(tf.layers.dense(x, 2))
        out.append(tf.layers.dense(x, 2, name="inner"))
    out.append(tf.layers.dense(x, 2, name="fc"))
    try:
        tf.layers.dense(x, 2, name="fc")
    except ValueError as e:
        errors.append(str(e))
    out.append(tf.layers.dense(x, 2, name="fc", reuse=True))
    out.append(tf.layers.dense(x, 2, name="auto", reuse=tf.AUTO_REUSE))
    out.append(tf.layers.dense(x, 2, name="auto", reuse=tf.AUTO_REUSE))
    try:
        tf.layers.dense(x, 2, name="missing", reuse=True)
    except ValueError as e:
        errors.append(str(e))
    try:
        tf.layers.dense(x, 3, name="fc", reuse=True)          # shape differs from fc/kernel
    except ValueError as e:
        errors.append(str(e).split(".")[0])
    out.append(tf.layers.dense(x, 2))
    layer = tf.layers.Dense(5, name="shared")
    out += [layer(x), layer.apply(x)]
    variables = [v.name for v in tf.trainable_variables()]
    return {"variables": variables, "outputs": [t.name for t in out],
            "shapes": [t.shape.as_list() for t in out], "errors": errors,
            "layer_vars": [v.name for v in layer.variables],
            "kernel": layer.kernel.name, "bias": layer.bias.name}


def test_dense_names_reuse_and_errors_as_tensorflow():
    want, got = both(_names)
    assert got == want
    assert want["variables"][:4] == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0",
                                     "block/dense/kernel:0"]
    assert len(want["errors"]) == 3


def _scopes(tf):
    """variable_scope's default names: counted per parent, reset when the parent closes."""
    out = []
    for _ in range(2):
        with tf.variable_scope(None, default_name="blk"):
            out.append(tf.get_variable("w", [1]).name)
            with tf.variable_scope(None, default_name="inner"):
                out.append(tf.get_variable("v", [1]).name)
    with tf.variable_scope("blk_2"):
        out.append(tf.get_variable("w", [1]).name)
    with tf.variable_scope(None, default_name="blk"):
        out.append(tf.get_variable("w", [1]).name)
    with tf.variable_scope("outer") as sc:
        with tf.variable_scope(None, default_name="d"):
            out.append(tf.get_variable("w", [1]).name)
    with tf.variable_scope("outer", reuse=True):
        with tf.variable_scope(None, default_name="d"):
            out.append(tf.get_variable("w", [1]).name)
    with tf.variable_scope(sc):
        with tf.variable_scope(None, default_name="e"):
            out.append(tf.get_variable("w", [1]).name)
    with tf.variable_scope(sc, reuse=True):
        with tf.variable_scope(None, default_name="d"):
            out.append(tf.get_variable("w", [1]).name)
    try:
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    except ValueError as e:
        out.append(str(e))
    return out


def test_variable_scope_default_names_as_tensorflow():
    want, got = both(_scopes)
    assert got == want
    assert want[:6] == ["blk/w:0", "blk/inner/v:0", "blk_1/w:0", "blk_1/inner/v:0", "blk_2/w:0",
                        "blk_3/w:0"]


def _mlp(tf, dtype, sync=None):
    tf.set_random_seed(777)      # TF's initial weights, hence the run, are the same every time
    f = getattr(tf, dtype)
    rng = np.random.default_rng(3)
    x_data = rng.normal(size=(6, 4)).astype(dtype)
    seq_data = rng.normal(size=(6, 3, 4)).astype(dtype)
    X = tf.placeholder(f, [None, 4])
    S = tf.placeholder(f, [None, 3, 4])
    h = tf.layers.dense(X, 5, activation=tf.nn.relu,
                        bias_initializer=tf.constant_initializer(0.1))
    shared = tf.layers.Dense(3, activation=tf.tanh, name="shared")
    y = shared(h) + shared(tf.layers.dense(X, 5, use_bias=False))
    seq = tf.layers.dense(S, 2)                       # rank 3: the last axis is transformed
    loss = tf.reduce_sum(y * y) + tf.reduce_mean(seq * seq)
    grads = tf.gradients(loss, tf.trainable_variables() + [X, S])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sync(sess)
        return sess.run({"y": y, "seq": seq, "loss": loss, "grads": grads},
                        {X: x_data, S: seq_data})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_same_numbers_as_tensorflow(dtype):
    want, got = run_both(_mlp, dtype)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for key in ("y", "seq", "loss"):
        assert got[key].dtype == want[key].dtype
        np.testing.assert_allclose(got[key], want[key], err_msg=key, **tol)
    assert len(got["grads"]) == len(want["grads"]) == 9     # 7 variables, X and S
    # a weight's gradient sums 6 rows (12 for the shared layer, called twice) of products of
    # size up to ~4, added in different orders by Eigen and numpy: float32's 6e-8 relative
    # rounding then reaches a few 1e-6 absolute on entries near 1
    gtol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else tol
    for k, (g, w) in enumerate(zip(got["grads"], want["grads"])):
        np.testing.assert_allclose(g, w, err_msg=f"grads[{k}]", **gtol)


def _initializers(tf):
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.layers.dense(x, 2, kernel_initializer=tf.initializers.ones(),
                        bias_initializer=tf.constant_initializer([0.5, -1.0]))
    big = tf.layers.dense(x, 1, name="big")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run([y, tf.trainable_variables()], {x: [[1.0, 2.0, 3.0]]})


def test_dense_initializers_and_dtype_from_the_input():
    want, got = both(_initializers)
    np.testing.assert_array_equal(got[0], want[0])
    assert [v.dtype for v in got[1]] == [v.dtype for v in want[1]] == [np.float64] * 4
    for g, w in zip(got[1][:2], want[1][:2]):
        np.testing.assert_array_equal(g, w)


def test_dense_kernel_defaults_to_glorot_uniform():
    def program(tf):
        x = tf.placeholder(tf.float32, [None, 300])
        tf.layers.dense(x, 500)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(tf.trainable_variables())
    kernel, bias = run_in_graph(mg_tf, program)
    limit = math.sqrt(6.0 / 800)
    # float32 rounding may reach a hair past the float64 limit
    assert 0.99 * limit < np.abs(kernel).max() <= limit * (1 + 4 * np.finfo(np.float32).eps)
    # std of U(-L, L) is L / sqrt(3); 150000 draws: 5 standard errors of the variance
    var, se = kernel.var(), math.sqrt((np.mean(kernel ** 4) - kernel.var() ** 2) / kernel.size)
    assert abs(var - limit ** 2 / 3) < 5 * se
    np.testing.assert_array_equal(bias, np.zeros(500, np.float32))


def test_dense_rejects_an_unknown_last_dimension():
    for tf in (tf_v1(), mg_tf):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [None, None])
            with pytest.raises(ValueError, match="last dimension of the inputs to a Dense layer"):
                tf.layers.dense(x, 3)


def _dropout_flatten(tf):
    x = tf.placeholder(tf.float32, [None, 2, 3])
    flat = tf.layers.flatten(x)
    kept = tf.layers.dropout(flat, rate=0.5)                  # training=False: identity
    with tf.Session() as sess:
        return sess.run([flat, kept], {x: np.arange(12.0).reshape(2, 2, 3)})


def test_layers_flatten_and_dropout_off_as_tensorflow():
    want, got = both(_dropout_flatten)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# --- tf.contrib.layers.fully_connected (TF 2 has no contrib: checked against contrib's rules) ---
def _fc_graph():
    g = mg_tf.Graph()
    with g.as_default():
        x = mg_tf.placeholder(mg_tf.float32, [None, 300])
        return g, x


def test_fully_connected_names_defaults_and_reuse():
    g, x = _fc_graph()
    with g.as_default():
        h = mg_layers.fully_connected(x, 500)
        logits = mg_layers.fully_connected(h, 10, activation_fn=None)
        no_bias = mg_layers.fully_connected(h, 4, biases_initializer=None, scope="nb")
        again = mg_layers.fully_connected(h, 10, activation_fn=None, scope="fully_connected_1",
                                          reuse=True)
        with pytest.raises(ValueError, match="fully_connected_1/weights already exists"):
            mg_layers.fully_connected(h, 10, scope="fully_connected_1")
        with pytest.raises(ValueError, match="reuse=True cannot be used without a name"):
            mg_layers.fully_connected(h, 10, reuse=True)
        names = [v.name for v in mg_tf.trainable_variables()]
        assert names == ["fully_connected/weights:0", "fully_connected/biases:0",
                         "fully_connected_1/weights:0", "fully_connected_1/biases:0",
                         "nb/weights:0"]
        assert h.name == "fully_connected/Relu:0" and logits.name.endswith("BiasAdd:0")
        data = np.random.default_rng(0).normal(size=(8, 300)).astype(np.float32)
        with mg_tf.Session() as sess:
            sess.run(mg_tf.global_variables_initializer())
            hv, lv, av, nv, (w1, b1, w2, b2, w3) = sess.run(
                [h, logits, again, no_bias, mg_tf.trainable_variables()], {x: data})
    # relu by default, linear with activation_fn=None, the same variables when reused
    np.testing.assert_allclose(hv, np.maximum(data @ w1 + b1, 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lv, hv @ w2 + b2, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(av, lv)
    np.testing.assert_allclose(nv, np.maximum(hv @ w3, 0), rtol=1e-5, atol=1e-5)
    # xavier_initializer(): U(-L, L), L = sqrt(6 / (fan_in + fan_out)); biases zeros
    limit = math.sqrt(6.0 / (300 + 500))
    assert limit * 0.99 < np.abs(w1).max() <= limit * (1 + 4 * np.finfo(np.float32).eps)
    np.testing.assert_array_equal(b1, 0)


def test_fully_connected_regularizer_and_collections():
    g, x = _fc_graph()
    with g.as_default():
        mg_layers.fully_connected(x, 4, weights_regularizer=mg_layers.l2_regularizer(0.5),
                                  variables_collections=["mine"], outputs_collections="outs")
        reg = mg_tf.get_collection("regularization_losses")
        assert len(reg) == 1
        assert [v.name for v in mg_tf.get_collection("mine")] == [
            "fully_connected/weights:0", "fully_connected/biases:0"]
        assert len(mg_tf.get_collection("outs")) == 1
        with mg_tf.Session() as sess:
            sess.run(mg_tf.global_variables_initializer())
            r, w = sess.run([reg[0], mg_tf.trainable_variables()[0]])
    np.testing.assert_allclose(r, 0.5 * np.sum(w.astype(np.float64) ** 2) / 2, rtol=1e-5)


def test_unsupported_arguments_say_so():
    g, x = _fc_graph()
    with g.as_default():
        with pytest.raises(NotImplementedError, match="normalizer_fn"):
            mg_layers.fully_connected(x, 3, normalizer_fn=lambda t: t)
        with pytest.raises(NotImplementedError, match="kernel_constraint"):
            mg_tf.layers.dense(x, 3, kernel_constraint=lambda t: t)


def test_contrib_layers_namespace():
    contrib = mg_tf.contrib.layers
    assert contrib.fully_connected is mg_layers.fully_connected
    assert contrib.xavier_initializer is mg_tf.initializers.xavier_initializer
    g, x = _fc_graph()
    with g.as_default():
        y = contrib.linear(contrib.flatten(mg_tf.reshape(x, [-1, 30, 10])), 4)
        assert y.shape.as_list() == [None, 4] and y.name == "fully_connected/BiasAdd:0"
