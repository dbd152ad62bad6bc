"""TF1's names, argument spellings and defaults in minigrad.compat.v1: tf.nn, tf.losses and the
top-level ops of the lectures. Each case is one graph-building function run by both engines
(`import tensorflow.compat.v1 as tf` / `import minigrad.compat.v1 as tf`), fed the same values;
outputs and tf.gradients are compared in float32 and float64."""
import numpy as np
import pytest

from minigrad.testing.tf1_compare import run_in_graph, tf_v1
import minigrad.compat.v1 as mg_tf

# float64: the same formulas in the same order agree to rounding (a few ulps, summation order
# of reductions aside); float32: TF's own assertAllClose tolerance
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-6, atol=1e-6)}


def _session_run(tf, build, feed, dtype):
    ph, fetches = build(tf, getattr(tf, dtype))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, {ph[k]: v for k, v in feed.items()})


def both(build, feed, dtype):
    """(TensorFlow's fetched dict, minigrad's) for `build(tf, dtype) -> (placeholders,
    fetches)`; gradients that are None in TF must be None in minigrad too."""
    want = run_in_graph(tf_v1(), _session_run, build, feed, dtype)
    got = run_in_graph(mg_tf, _session_run, build, feed, dtype)
    return want, got


def assert_same(want, got, dtype):
    assert set(want) == set(got)
    for k in want:
        w, g = want[k], got[k]
        if isinstance(w, list):
            assert len(w) == len(g), k
            for i, (a, b) in enumerate(zip(w, g)):
                _close(a, b, dtype, f"{k}[{i}]")
        else:
            _close(w, g, dtype, k)


def _dense(v):
    """TF gives an embedding's gradient as IndexedSlices; minigrad gives the dense array."""
    if hasattr(v, "indices") and hasattr(v, "dense_shape"):
        dense = np.zeros(v.dense_shape, v.values.dtype)
        np.add.at(dense, v.indices, v.values)
        return dense
    return np.asarray(v)


def _close(w, g, dtype, what):
    w, g = _dense(w), np.asarray(g)
    assert w.shape == g.shape, f"{what}: TF shape {w.shape}, minigrad {g.shape}"
    assert w.dtype == g.dtype, f"{what}: TF dtype {w.dtype}, minigrad {g.dtype}"
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w, err_msg=what)
    else:
        # by the value's own dtype: some TF1 losses are float32 whatever their inputs
        np.testing.assert_allclose(g, w, err_msg=what, **TOL[w.dtype.name])


rng = np.random.default_rng(7)
LOGITS = rng.normal(size=(5, 4)) * 2
PROBS = np.exp(rng.normal(size=(5, 4)))
PROBS /= PROBS.sum(1, keepdims=True)
ONEHOT = np.eye(4)[[0, 3, 1, 1, 2]]
IDS = np.array([0, 3, 1, 1, 2])
IMAGES = rng.normal(size=(2, 6, 6, 3))
FILTER = rng.normal(size=(3, 3, 3, 4)) * 0.3


def _feed(dtype, **arrays):
    return {k: (v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in arrays.items()}


def _xent_v1(tf, f):
    labels, logits = tf.placeholder(f, [None, 4]), tf.placeholder(f, [None, 4])
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, dim=-1)
    g_logits = tf.gradients(loss, [logits])
    # TF1's form puts a stop_gradient on the labels: their gradient is None
    assert tf.gradients(loss, [labels]) == [None]
    return {"labels": labels, "logits": logits}, {"loss": loss, "g": g_logits}


def _xent_v2(tf, f):
    labels, logits = tf.placeholder(f, [None, 4]), tf.placeholder(f, [None, 4])
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=1)
    return {"labels": labels, "logits": logits}, {
        "loss": loss, "g": tf.gradients(tf.reduce_sum(loss * loss), [labels, logits])}


def _sparse_xent(tf, f):
    labels, logits = tf.placeholder(tf.int64, [None]), tf.placeholder(f, [None, 4])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return {"labels": labels, "logits": logits}, {"loss": loss,
                                                  "g": tf.gradients(loss, [logits])}


def _sigmoid_xent(tf, f):
    labels, logits = tf.placeholder(f, [None, 4]), tf.placeholder(f, [None, 4])
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return {"labels": labels, "logits": logits}, {
        "loss": loss, "g": tf.gradients(loss, [labels, logits])}


def _softmaxes(tf, f):
    x = tf.placeholder(f, [None, 4])
    s0, s1 = tf.nn.softmax(x, dim=0), tf.nn.softmax(x)
    ls = tf.nn.log_softmax(x, axis=1)
    total = tf.reduce_sum(s0 * s0) + tf.reduce_sum(s1 * x) + tf.reduce_sum(ls * ls)
    return {"x": x}, {"s0": s0, "s1": s1, "ls": ls, "g": tf.gradients(total, [x])}


def _conv_pool(tf, f):
    x, w = tf.placeholder(f, [None, 6, 6, 3]), tf.placeholder(f, [3, 3, 3, 4])
    same = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
    valid = tf.nn.conv2d(input=x, filter=w, strides=[1, 2, 2, 1], padding="VALID")
    pooled = tf.nn.max_pool(tf.nn.relu(same), ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                            padding="SAME")
    avg = tf.nn.avg_pool(value=same, ksize=[1, 3, 3, 1], strides=[1, 1, 1, 1], padding="VALID")
    total = tf.reduce_sum(pooled * pooled) + tf.reduce_sum(valid) + tf.reduce_sum(avg * avg)
    return {"x": x, "w": w}, {"pooled": pooled, "valid": valid, "avg": avg,
                              "g": tf.gradients(total, [x, w])}


def _bias_l2_embedding(tf, f):
    x, b = tf.placeholder(f, [None, 4]), tf.placeholder(f, [4])
    table, ids = tf.placeholder(f, [6, 4]), tf.placeholder(tf.int32, [None])
    y = tf.nn.bias_add(x, b)
    e = tf.nn.embedding_lookup(table, ids)
    loss = tf.nn.l2_loss(y) + tf.reduce_sum(e * y)
    return {"x": x, "b": b, "table": table, "ids": ids}, {
        "y": y, "e": e, "loss": loss, "g": tf.gradients(loss, [x, b, table])}


def _math(tf, f):
    x, y = tf.placeholder(f, [None, 4]), tf.placeholder(f, [None, 4])
    ids = tf.placeholder(tf.int32, [None])
    p = x * x + 0.5
    out = {
        "log": tf.log(p), "sqrt": tf.sqrt(p), "square": tf.square(x),
        "mean": tf.reduce_mean(x, reduction_indices=[1], keep_dims=True),
        "sum": tf.reduce_sum(x, axis=0), "max": tf.reduce_max(x, reduction_indices=1),
        "mm": tf.matmul(x, y, transpose_a=True), "mm_b": tf.matmul(x, y, transpose_b=True),
        "argmax": tf.argmax(x, 1), "argmax_dim": tf.argmax(x, dimension=0),
        "onehot": tf.one_hot(ids, 4), "to_float": tf.to_float(ids),
        "eq": tf.cast(tf.equal(tf.argmax(x, 1), tf.argmax(y, 1)), f),
        "shape": tf.shape(x), "reshape": tf.reshape(x, [-1, 2]),
        "concat": tf.concat([x, y], 1), "concat0": tf.concat(values=[x, y], axis=0),
        "slice": tf.slice(x, [1, 0], [-1, 3]),
        "count": tf.count_nonzero(tf.nn.relu(x)),
        "count_axis": tf.count_nonzero(tf.nn.relu(x), axis=1, keep_dims=True),
        "count_ri": tf.count_nonzero(tf.nn.relu(x), reduction_indices=[0]),
    }
    total = (tf.reduce_sum(out["log"]) + tf.reduce_sum(out["sqrt"]) * tf.reduce_sum(out["mm_b"]) +
             tf.reduce_sum(out["mm"] * out["mm"]) + tf.reduce_sum(out["slice"] * out["slice"]) +
             tf.reduce_sum(out["concat"] * out["concat"]) + tf.reduce_sum(out["mean"]))
    out["g"] = tf.gradients(total, [x, y])
    return {"x": x, "y": y, "ids": ids}, out


def _losses(tf, f):
    labels, logits = tf.placeholder(f, [None, 4]), tf.placeholder(f, [None, 4])
    ids = tf.placeholder(tf.int32, [None])
    # mean_squared_error is float32 whatever its inputs (TF1 casts them): kept out of the
    # LOSSES collection, whose sum needs one dtype
    mse = tf.losses.mean_squared_error(labels, logits, loss_collection=None)
    mse_w = tf.losses.mean_squared_error(labels=labels, predictions=logits,
                                         weights=[[1.0, 0.0, 2.0, 0.5]], loss_collection=None)
    xent = tf.losses.softmax_cross_entropy(labels, logits)
    smooth = tf.losses.softmax_cross_entropy(onehot_labels=labels, logits=logits,
                                             label_smoothing=0.1)
    sparse = tf.losses.sparse_softmax_cross_entropy(labels=ids, logits=logits)
    summed = tf.losses.sparse_softmax_cross_entropy(
        ids, logits, reduction=tf.losses.Reduction.SUM)
    assert len(tf.losses.get_losses()) == 4
    total = tf.losses.get_total_loss()
    out = {"mse": mse, "mse_w": mse_w, "xent": xent, "smooth": smooth, "sparse": sparse,
           "summed": summed, "total": total, "g": tf.gradients(total, [logits])}
    return {"labels": labels, "logits": logits, "ids": ids}, out


CASES = {
    "softmax_xent_v1": (_xent_v1, lambda: dict(labels=PROBS, logits=LOGITS)),
    "softmax_xent_v2": (_xent_v2, lambda: dict(labels=PROBS, logits=LOGITS)),
    "sparse_xent": (_sparse_xent, lambda: dict(labels=IDS, logits=LOGITS)),
    "sigmoid_xent": (_sigmoid_xent, lambda: dict(labels=PROBS, logits=LOGITS)),
    "softmax": (_softmaxes, lambda: dict(x=LOGITS)),
    "conv2d_pool": (_conv_pool, lambda: dict(x=IMAGES, w=FILTER)),
    "bias_l2_embedding": (_bias_l2_embedding, lambda: dict(
        x=LOGITS, b=LOGITS[0], table=rng.normal(size=(6, 4)), ids=np.array([5, 0, 2, 2, 1],
                                                                            np.int32))),
    "math": (_math, lambda: dict(x=LOGITS, y=PROBS - 0.2, ids=IDS.astype(np.int32))),
    "losses": (_losses, lambda: dict(labels=ONEHOT, logits=LOGITS, ids=IDS.astype(np.int32))),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_as_tensorflow(case, dtype):
    build, arrays = CASES[case]
    want, got = both(build, _feed(dtype, **arrays()), dtype)
    assert_same(want, got, dtype)


def _in_top_k(tf, f):
    # TF's InTopKV2 takes float32 predictions only
    p, t = tf.placeholder(tf.float32, [None, 4]), tf.placeholder(tf.int32, [None])
    return {"p": p, "t": t}, {f"k{k}": tf.nn.in_top_k(p, t, k) for k in (1, 2, 3)}


def test_in_top_k_ties_and_non_finite():
    p = np.array([[1, 2, 3, 4], [4, 3, 3, 1], [0, 0, 0, 0], [1, 2, 3, np.inf],
                  [1, np.nan, 3, 0], [5, 1, -np.inf, 2]], np.float32)
    t = np.array([1, 2, 3, 2, 2, 0], np.int32)
    want, got = both(_in_top_k, {"p": p, "t": t}, "float32")
    assert_same(want, got, "float32")
    assert got["k1"].dtype == np.bool_


def test_dropout_keep_prob_one_is_identity_and_fed():
    def build(tf, f):
        x, keep = tf.placeholder(f, [None, 4]), tf.placeholder(f)
        y = tf.nn.dropout(x, keep_prob=keep)
        return {"x": x, "keep": keep}, {"y": y, "g": tf.gradients(tf.reduce_sum(y * y), [x])}
    for dtype in ("float32", "float64"):
        want, got = both(build, {"x": LOGITS.astype(dtype), "keep": np.array(1.0, dtype)},
                         dtype)
        assert_same(want, got, dtype)


def test_xent_errors_name_the_missing_argument():
    x = None
    with mg_tf.Graph().as_default():
        logits = mg_tf.placeholder(mg_tf.float32, [None, 3])
        with pytest.raises(ValueError, match="Both `labels` and `logits` must be provided"):
            mg_tf.nn.softmax_cross_entropy_with_logits(logits=logits)
        with pytest.raises(ValueError, match="Both `labels` and `logits`"):
            mg_tf.nn.sparse_softmax_cross_entropy_with_logits(labels=x, logits=logits)
        with pytest.raises(ValueError, match="conv2d"):
            mg_tf.nn.conv2d(mg_tf.placeholder(mg_tf.float32, [1, 4, 4, 3]), strides=[1] * 4,
                            padding="SAME")
        with pytest.raises(ValueError, match=r"slice: .*begin\[1\] = 2 and size\[1\] = 3"):
            mg_tf.slice(logits, [0, 2], [-1, 3])


def test_weights_as_tensor_is_refused_clearly():
    with mg_tf.Graph().as_default():
        y = mg_tf.placeholder(mg_tf.float32, [None, 3])
        w = mg_tf.placeholder(mg_tf.float32, [None, 1])
        with pytest.raises(NotImplementedError, match="mean_squared_error: weights"):
            mg_tf.losses.mean_squared_error(y, y, weights=w)


def test_trainable_variables_in_creation_order():
    def build(tf, f):
        a = tf.Variable(tf.zeros([2, 3], dtype=f), name="a")
        tf.Variable(tf.zeros([3], dtype=f), name="counter", trainable=False)
        with tf.variable_scope("layer"):
            b = tf.get_variable("b", [3], dtype=f, initializer=tf.ones_initializer())
        return {}, {"names": [v.name for v in tf.trainable_variables()],
                    "sum": tf.reduce_sum(a) + tf.reduce_sum(b)}
    names = {}
    for tf in (tf_v1(), mg_tf):
        with tf.Graph().as_default():
            _, out = build(tf, tf.float64)
            names[tf] = out["names"]
    assert names[mg_tf] == names[tf_v1()] == ["a:0", "layer/b:0"]
