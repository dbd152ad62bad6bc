"""minigrad.jit: mg.function(jit_compile=True) and a Session with TF1's global_jit_level, against
the same steps replayed per op: float64 to 1e-12 (relative) over the run, float32 within the
parity tolerance (1e-5 over 100 steps); explain(); fallbacks; retracing; failures.

Compiled steps are cached on disk (minigrad.jit.cache), so a second run of this file mostly
loads them; the first compiles each signature (a second or two each)."""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import train

jit = pytest.importorskip("minigrad.jit")

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
Y = np.array([[0], [1], [1], [0]], np.float64)


def close64(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def close32(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def weights32(got, want):
    # float32 exp/log differ from numpy's SIMD ones in the last bit for a third of the inputs;
    # Adam divides the step by sqrt(v), so a weight whose gradients stay tiny can move 1e-5
    # relative in 100 steps while the losses agree to 1e-5
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# --- the XOR lecture's step ---------------------------------------------------------------------
def xor_model(dtype, widths=(2, 2, 1), seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        params += [mg.Variable(rng.standard_normal((a, b)).astype(dtype)),
                   mg.Variable(rng.standard_normal(b).astype(dtype))]
    opt = train.GradientDescentOptimizer(0.1)

    def step(x, y):
        with mg.GradientTape() as tape:
            h = x
            for w, b in zip(params[::2], params[1::2]):
                h = mg.sigmoid(mg.matmul(h, w) + b)
            cost = -mg.reduce_mean(y * mg.log(h) + (1 - y) * mg.log(1 - h))
        grads = tape.gradient(cost, params)
        opt.apply_gradients(zip(grads, params))
        return cost
    return step, params


def run_pair(make, dtype, steps, *inputs):
    """The step made twice (same start), run per op and compiled: (costs, params) each."""
    out = []
    for compiled in (False, True):
        step, params = make(dtype)
        fn = mg.function(step, jit_compile=compiled)
        costs = [fn(*inputs).numpy().copy() for _ in range(steps)]
        out.append((np.array(costs), [p.numpy() for p in params], fn))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_xor_step_compiled_matches_eager(dtype):
    steps = 500 if dtype == "float64" else 100
    (c0, p0, _), (c1, p1, fn) = run_pair(xor_model, dtype, steps, X.astype(dtype),
                                         Y.astype(dtype))
    assert c1.dtype == np.dtype(dtype)
    check = close64 if dtype == "float64" else close32
    check(c1, c0)
    for a, b in zip(p1, p0):
        check(a, b)
    assert c1[-1] < c1[0]
    text = fn.explain()
    assert "1 compiled segment(s), 0 unit(s) in Python" in text
    assert "compiled [segment 0]   Sigmoid 'Sigmoid' gradient" in text
    assert "GradientDescentOptimizer update of 4 variable(s)" in text


# --- an MLP with softmax cross-entropy and Adam -----------------------------------------------
def mlp_data(dtype, n=32, d=8, k=4, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(dtype)
    labels = rng.integers(0, k, n)
    return x, np.eye(k, dtype=dtype)[labels], labels.astype(np.int64)


def mlp_model(dtype, sparse=False, d=8, hidden=16, k=4, optimizers=None):
    """optimizers: (optimizer, indices of the params it updates) pairs; default Adam on all."""
    rng = np.random.default_rng(2)
    w1 = mg.Variable((rng.standard_normal((d, hidden)) * 0.4).astype(dtype))
    b1 = mg.Variable(np.zeros(hidden, dtype))
    w2 = mg.Variable((rng.standard_normal((hidden, k)) * 0.4).astype(dtype))
    b2 = mg.Variable(np.zeros(k, dtype))
    params = [w1, b1, w2, b2]
    optimizers = optimizers() if optimizers else [(train.AdamOptimizer(0.01), range(4))]

    def step(x, y):
        with mg.GradientTape() as tape:
            h = mg.nn.relu(mg.nn.bias_add(mg.matmul(x, w1), b1))
            logits = mg.matmul(h, w2) + b2
            if sparse:
                xent = mg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            else:
                xent = mg.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)
            loss = mg.reduce_mean(xent)
        grads = tape.gradient(loss, params)
        for opt, which in optimizers:
            opt.apply_gradients([(grads[i], params[i]) for i in which])
        return loss
    return step, params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mlp_softmax_xent_adam_matches_eager(dtype):
    x, y, _ = mlp_data(dtype)
    steps = 300 if dtype == "float64" else 100
    (c0, p0, _), (c1, p1, fn) = run_pair(mlp_model, dtype, steps, x, y)
    (close64 if dtype == "float64" else close32)(c1, c0)
    for a, b in zip(p1, p0):
        (close64 if dtype == "float64" else weights32)(a, b)
    assert c1[-1] < 0.5 * c1[0]
    text = fn.explain()
    assert "0 unit(s) in Python" in text
    assert "SoftmaxCrossEntropyWithLogits" in text and "AdamOptimizer update" in text


def test_sparse_xent_and_the_other_optimizers_float64():
    x, _, labels = mlp_data("float64")

    def make(dtype):
        return mlp_model(dtype, sparse=True, optimizers=lambda: [
            (train.MomentumOptimizer(0.05, 0.9, use_nesterov=True), [0]),
            (train.RMSPropOptimizer(0.01, centered=True), [1]),
            (mg.optimizers.Adam(0.01), [2]),
            (mg.optimizers.RMSprop(0.01, momentum=0.5), [3])])
    (c0, p0, _), (c1, p1, fn) = run_pair(make, "float64", 100, x, labels)
    close64(c1, c0)
    for a, b in zip(p1, p0):
        close64(a, b)
    text = fn.explain()
    assert "0 unit(s) in Python" in text
    for name in ("MomentumOptimizer", "RMSPropOptimizer", "Adam", "RMSprop"):
        assert f"{name} update of 1 variable(s)" in text


def test_every_lowering_forward_and_gradient_float64():
    """One step through the lowered ops, each with its gradient: values and gradients as
    the per-op replay's, to 1e-12."""
    rng = np.random.default_rng(8)
    a = mg.Variable(rng.uniform(0.5, 2.0, (3, 4)))
    b = mg.Variable(rng.standard_normal((4, 3)))
    c = mg.Variable(rng.standard_normal(4))
    params = [a, b, c]

    def step(x, labels):
        with mg.GradientTape() as tape:
            t = []
            t.append(mg.pow(a, 1.5) + mg.sqrt(a) - mg.square(a) / mg.math.reciprocal(a + 1.0))
            t.append(mg.math.log1p(mg.abs(x)) * mg.tanh(x) + mg.exp(-mg.square(x)))
            t.append(mg.nn.relu(x - 0.2) * mg.sigmoid(x))
            t.append(mg.where(x > 0.1, x * c, -x / (1.0 + mg.square(c))))
            t.append(mg.maximum(x, c) - mg.minimum(x, 0.3) + mg.clip_by_value(x, -0.5, 0.5))
            t.append(mg.matmul(x, b, transpose_a=False) + mg.transpose(mg.matmul(b, x, True,
                                                                               True)))
            t.append(mg.matmul(a, x, transpose_a=True, transpose_b=False)[:, :3])
            t.append(mg.nn.softmax(x) + mg.nn.log_softmax(x * 0.5))
            t.append(mg.reshape(mg.transpose(x), (4, 3))[:3] * mg.reduce_max(x, axis=1))
            t.append(mg.cast(mg.cast(x * 10, "float32") > 0, "float64") * x)
            t.append(mg.nn.bias_add(x, c) * mg.reduce_mean(x, axis=1, keepdims=True))
            t.append(mg.reduce_min(x, axis=1, keepdims=True) + mg.reduce_sum(x, axis=0))
            xent = mg.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                  logits=mg.matmul(x, b))
            loss = sum(mg.reduce_sum(v) for v in t if v.shape == (3, 4) or v.shape == (3, 3))
            loss = loss + mg.reduce_mean(xent) + mg.reduce_sum(mg.stop_gradient(a) * 0.5)
        return [loss] + t + tape.gradient(loss, params)

    x = rng.standard_normal((3, 4))
    labels = np.array([0, 2, 1])
    eager, compiled = mg.function(step), mg.function(step, jit_compile=True)
    want, got = eager(x, labels), compiled(x, labels)      # both traces run eagerly
    for _ in range(2):
        x = rng.standard_normal((3, 4))
        want, got = eager(x, labels), compiled(x, labels)
        assert len(want) == len(got)
        for w, g in zip(want, got):
            assert w.numpy().shape == g.numpy().shape and w.numpy().dtype == g.numpy().dtype
            close64(g.numpy(), w.numpy())
    text = compiled.explain()
    for op in ("Pow", "Sqrt", "Square", "Reciprocal", "Log1p", "Abs", "Tanh", "Exp", "Relu",
               "Sigmoid", "SelectV2", "Greater", "Maximum", "Minimum", "MatMul", "Transpose",
               "Softmax", "LogSoftmax", "Reshape", "Max", "Cast", "BiasAdd", "Mean", "Min",
               "Sum", "SparseSoftmaxCrossEntropyWithLogits", "StopGradient"):
        assert re.search(rf"compiled \[segment \d\]   {op} '", text), op
    assert "StridedSlice" in text and "fallback" in text      # slicing is not lowered
    # a replay takes labels unchecked, as numpy indexes: -1 is the last class; 4 is an error
    for w, g in zip(eager(x, np.array([0, -1, 1])), compiled(x, np.array([0, -1, 1]))):
        close64(g.numpy(), w.numpy())
    with pytest.raises(IndexError):
        compiled(x, np.array([0, 2, 4]))


# --- fallback, retracing, failures ---------------------------------------------------------------
def conv_model(dtype):
    rng = np.random.default_rng(3)
    k = mg.Variable((rng.standard_normal((3, 3, 1, 2)) * 0.5).astype(dtype))
    w = mg.Variable((rng.standard_normal((32, 3)) * 0.3).astype(dtype))
    b = mg.Variable(np.zeros(3, dtype))
    params = [k, w, b]
    opt = train.GradientDescentOptimizer(0.1)

    def step(x, y):
        with mg.GradientTape() as tape:
            h = mg.tanh(mg.nn.conv2d(x, k, strides=1, padding="VALID"))   # [n, 4, 4, 2]
            h = mg.clip_by_value(h, -0.8, 0.8)
            logits = mg.matmul(mg.reshape(h, (-1, 32)), w) + b
            loss = mg.reduce_mean(mg.nn.softmax_cross_entropy_with_logits(labels=y,
                                                                          logits=logits))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        hits = mg.equal(mg.argmax(logits, axis=1), mg.argmax(y, axis=1))
        return loss, mg.reduce_mean(mg.cast(hits, dtype))
    return step, params


def test_unsupported_op_falls_back_between_compiled_segments():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6, 6, 1))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    runs = []
    for compiled in (False, True):
        step, params = conv_model("float64")
        fn = mg.function(step, jit_compile=compiled)
        out = [tuple(t.numpy() for t in fn(x, y)) for _ in range(50)]
        runs.append((np.array(out), [p.numpy() for p in params], fn))
    (o0, p0, _), (o1, p1, fn) = runs
    close64(o1, o0)
    for a, b in zip(p1, p0):
        close64(a, b)
    text = fn.explain()
    assert "fallback               Conv2D" in text and "no lowering for Conv2D" in text
    assert "fallback               Conv2D 'Conv2D' gradient" in text
    assert "compiled [segment 1]   Tanh 'Tanh'" in text
    assert "compiled [segment" in text and "Maximum 'Maximum' gradient" in text
    assert "compiled [segment 2]   ArgMax" in text
    segments = {line.split("]")[0] for line in text.splitlines() if "compiled [" in line}
    assert len(segments) >= 2


def cnn_model(dtype, pool=(2, 2), extra_use=False, seed=5):
    """conv -> bias_add -> relu -> max_pool, twice as in the lecture CNN; extra_use: the first
    conv's output also enters the loss (so it cannot be fused away)."""
    rng = np.random.default_rng(seed)
    k1 = mg.Variable((rng.standard_normal((3, 3, 1, 8)) * 0.5).astype(dtype))
    b1 = mg.Variable((rng.standard_normal(8) * 0.1).astype(dtype))
    k2 = mg.Variable((rng.standard_normal((3, 3, 8, 4)) * 0.3).astype(dtype))
    b2 = mg.Variable((rng.standard_normal(4) * 0.1).astype(dtype))
    params = [k1, b1, k2, b2]
    opt = train.GradientDescentOptimizer(0.1)
    ksize, strides = pool

    def step(x):
        with mg.GradientTape() as tape:
            c1 = mg.nn.conv2d(x, k1, strides=1, padding="SAME")
            h = mg.nn.max_pool2d(mg.nn.relu(mg.nn.bias_add(c1, b1)), ksize, strides, "VALID")
            h = mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(h, k2, strides=1, padding="SAME"), b2))
            h = mg.nn.max_pool2d(h, 2, 2, "VALID")
            loss = mg.reduce_mean(mg.square(h - 0.5))
            if extra_use:
                loss = loss + 0.01 * mg.reduce_mean(c1)
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss
    return step, params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", ["lecture", "overlapping_pool", "conv_output_used_twice"])
def test_conv_bias_relu_and_pool_relu_gradient_fuse_with_the_same_numbers(dtype, form):
    """minigrad.jit.fusion: Conv2D -> BiasAdd -> Relu becomes one kernel call, and Relu's
    gradient joins MaxPool's when windows do not overlap; the compiled step gives what the
    per-op replay gives (bitwise in float64: the fused kernels are bitwise their ops)."""
    x = np.random.default_rng(6).standard_normal((6, 12, 12, 1)).astype(dtype)
    pool = ((3, 3), (2, 2)) if form == "overlapping_pool" else ((2, 2), (2, 2))
    runs = []
    for compiled in (False, True):
        step, params = cnn_model(dtype, pool, extra_use=form == "conv_output_used_twice")
        fn = mg.function(step, jit_compile=compiled)
        costs = np.array([fn(x).numpy() for _ in range(5)])
        runs.append((costs, [p.numpy() for p in params], fn))
    (c0, p0, _), (c1, p1, fn) = runs
    close = close64 if dtype == "float64" else close32
    close(c1, c0)
    for a, b in zip(p1, p0):
        close(a, b)
    text = fn.explain()
    fused = [(line.split(": into ")[0].split("fused")[1].strip(),
              line.split("kernel call of ")[1]) for line in text.splitlines()
             if line.strip().startswith("fused")]
    c1, c2, c1g = "Conv2D 'Conv2D'", "Conv2D 'Conv2D_1'", "Conv2D 'Conv2D' gradient"
    second = [("BiasAdd 'BiasAdd_1'", c2), ("Relu 'Relu_1'", c2), ("MaxPool 'MaxPool_1'", c2),
              ("Relu 'Relu_1' gradient", "MaxPool 'MaxPool_1' gradient")]
    if form == "lecture":
        # the first layer's gradient is one call from the pooled gradient to the filter's,
        # bias sum included; the second's 4 output channels are not a multiple of 8
        assert fused == [("BiasAdd 'BiasAdd'", c1), ("Relu 'Relu'", c1),
                         ("MaxPool 'MaxPool'", c1)] + second + [
            ("MaxPool 'MaxPool' gradient", c1g), ("Relu 'Relu' gradient", c1g),
            ("BiasAdd 'BiasAdd' gradient", c1g), ("BiasAdd 'BiasAdd' gradient", c1g)], text
    elif form == "overlapping_pool":
        # the first pool's windows overlap: Relu's gradient stays a loop, which reads the
        # ReLU's output, so the pool cannot take that output over either
        assert fused == [("BiasAdd 'BiasAdd'", c1), ("Relu 'Relu'", c1)] + second, text
    else:      # the first conv's output has a second use: its bias and ReLU stay loops, and
        # its gradient adds two terms, so the layer's gradient is not fused either
        assert fused == second + [("Relu 'Relu' gradient", "MaxPool 'MaxPool' gradient")], text


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_text_cnn_max_over_time_pool_fuses_like_the_lecture_cnn(dtype):
    """TextCNN's pattern: a VALID conv over the whole embedding width, bias, ReLU, and a max
    over all time steps (one window along that axis, stride 1): the windows do not overlap,
    so Relu's gradient joins MaxPool's and the pool joins the convolution's call."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 9, 6, 1)).astype(dtype)
    runs = []
    for compiled in (False, True):
        k = mg.Variable((np.random.default_rng(9).standard_normal((3, 6, 1, 16)) * 0.4)
                        .astype(dtype))
        b = mg.Variable(np.full(16, 0.1, dtype))
        opt = train.GradientDescentOptimizer(0.1)

        def step(x):
            with mg.GradientTape() as tape:
                h = mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(x, k, 1, "VALID"), b))  # [5,7,1,16]
                h = mg.nn.max_pool2d(h, (7, 1), (1, 1), "VALID")                   # [5,1,1,16]
                loss = mg.reduce_mean(mg.square(h - 1.0))
            grads = tape.gradient(loss, [k, b])
            opt.apply_gradients(zip(grads, [k, b]))
            return loss
        fn = mg.function(step, jit_compile=compiled)
        runs.append((np.array([fn(x).numpy() for _ in range(5)]), k.numpy(), b.numpy(), fn))
    close = close64 if dtype == "float64" else close32
    for a, c in zip(runs[1][:3], runs[0][:3]):
        close(a, c)
    text = runs[1][3].explain()
    assert "MaxPool 'MaxPool': into the kernel call of Conv2D 'Conv2D'" in text, text
    assert "Relu 'Relu' gradient: into the kernel call of MaxPool 'MaxPool' gradient" in text


def test_large_matmul_blas_and_updates_in_order():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 300))
    runs = []
    for compiled in (False, True):
        w = mg.Variable(rng.standard_normal((300, 4)) * 0.1 if not runs else runs[0][3])
        counter = mg.Variable(np.int64(0))
        opt = train.MomentumOptimizer(0.01, 0.9)

        def step(x, w=w, counter=counter, opt=opt):
            with mg.GradientTape() as tape:
                loss = mg.reduce_mean(mg.square(mg.matmul(x, w)))
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
            counter.assign_add(1)
            return loss, mg.reduce_sum(w * w)          # the second after the update
        w0 = w.numpy()
        fn = mg.function(step, jit_compile=compiled)
        out = np.array([[t.numpy() for t in fn(x)] for _ in range(30)])
        runs.append((out, w.numpy(), int(counter.numpy()), w0, fn))
    (o0, w0, n0, _, _), (o1, w1, n1, _, fn) = runs
    close64(o1, o0)
    close64(w1, w0)
    assert n0 == n1 == 30
    assert o1[0, 1] != o1[1, 1]
    text = fn.explain()
    assert "numpy                  MatMul 'MatMul': MatMul 64x300 @ 300x4: numpy's BLAS" in text
    assert "compiled [segment" in text and "assign_add to" in text


def test_new_input_shape_traces_and_compiles_again():
    step, params = xor_model("float64", seed=5)
    eager_step, eager_params = xor_model("float64", seed=5)
    fn = mg.function(step, jit_compile=True)
    ref = mg.function(eager_step)
    for x, y in [(X, Y), (X[:3], Y[:3]), (X, Y), (X[1:], Y[1:])]:
        close64(fn(x, y).numpy(), ref(x, y).numpy())
    assert fn.trace_count() == 2
    for a, b in zip(params, eager_params):
        close64(a.numpy(), b.numpy())
    assert fn.explain().count("compiled segment(s)") == 2


def test_compile_failure_warns_once_and_replays(monkeypatch):
    from minigrad.jit import codegen
    monkeypatch.setitem(codegen._CALL, "exp", "np.no_such_function")   # numba cannot type it
    step, params = xor_model("float64", seed=6)
    eager_step, eager_params = xor_model("float64", seed=6)
    fn, ref = mg.function(step, jit_compile=True), mg.function(eager_step)
    with pytest.warns(jit.JitWarning, match="compilation failed, the step replays per op"):
        first = fn(X, Y).numpy()
    assert first == ref(X, Y).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(20):
            assert fn(X, Y).numpy() == ref(X, Y).numpy()      # the same replay: same bits
    assert "not compiled (compilation failed: " in fn.explain()


def test_unreadable_numba_cache_is_compiled_again(tmp_path, monkeypatch):
    import sys
    import numba
    from minigrad.jit import cache
    monkeypatch.setattr(cache, "_dir", [str(tmp_path)])
    source = f"# {tmp_path}\nimport numba\n\n\n@numba.njit(cache=True)\ndef f(a):\n" \
             f"    return a + 1\n"
    module = cache.load(source)
    cache.compile_function(module.f, (numba.types.float64,))
    for path in (tmp_path / "__pycache__").glob("*.nb?"):
        path.write_text("garbage")                # a disk that filled up mid-write
    del sys.modules[module.__name__]               # another process: a new dispatcher
    module = cache.load(source)
    with pytest.warns(jit.JitWarning, match="could not be read .*compiled again and cached"):
        fn = cache.compile_function(module.f, (numba.types.float64,))
    assert fn(1.0) == 2.0


def test_bad_input_gives_clear_messages():
    with pytest.raises(TypeError, match="jit_compile must be True, False or None"):
        mg.function(lambda x: x, jit_compile="yes")
    fn = mg.function(lambda x: x, jit_compile=True)
    assert "not traced yet" in fn.explain()
    with pytest.warns(jit.JitWarning, match="nothing to compile: the step has no ops"):
        out = fn(X)
    assert out.numpy() is not None and np.array_equal(fn(X).numpy(), X)
    assert "jit_compile is off" in mg.function(lambda x: x).explain()

    v = mg.Variable(np.ones(3))
    effect = mg.function(lambda: mg.debugging.check_numerics(v, "v"), jit_compile=True)
    with pytest.warns(jit.JitWarning, match="none of its ops can be compiled"):
        effect()
    assert "CheckNumerics" in effect.explain() and "no lowering" in effect.explain()


def test_data_dependent_fallback_shape_is_refused():
    # a fallback op whose output shape follows its input: the plan was traced on 4 rows
    from minigrad.jit.compiler import _check
    with pytest.raises(RuntimeError, match="depends on the data"):
        _check(np.ones((3, 2)), (4, 2), np.dtype("float64"), "Gather 'Gather'")


# --- Session: TF1's global_jit_level ------------------------------------------------------------
class _JitTF:
    """minigrad.compat.v1 whose Session() has global_jit_level ON_1."""

    def __init__(self, tf):
        self._tf = tf

    def __getattr__(self, name):
        return getattr(self._tf, name)

    def Session(self, *args, **kwargs):
        tf = self._tf
        config = tf.ConfigProto()
        config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
        return tf.Session(*args, config=config, **kwargs)


def test_config_proto_fields():
    import minigrad.compat.v1 as tf
    config = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(global_jit_level=tf.OptimizerOptions.ON_1)),
        allow_soft_placement=True)
    assert config.graph_options.optimizer_options.global_jit_level == 1
    assert tf.ConfigProto().graph_options.optimizer_options.global_jit_level == \
        tf.OptimizerOptions.DEFAULT == 0
    with pytest.raises(ValueError, match='Protocol message ConfigProto has no "jit" field'):
        tf.ConfigProto(jit=True)
    with pytest.raises(AttributeError, match='no field "level"'):
        tf.OptimizerOptions().level = 1
    assert not tf.Session(config=tf.ConfigProto())._jit
    assert tf.Session(config=config)._jit


def test_xor_lecture_session_jit_same_costs_as_without_and_tf(tf):
    import minigrad.compat.v1 as mg_tf
    from minigrad.testing.tf1_compare import Sync, run_in_graph, tf_v1
    from tests.compat.test_xor_program import xor
    sync = Sync()
    want = run_in_graph(tf_v1(), xor, "float64", steps=2001, sync=sync)
    plain = run_in_graph(mg_tf, xor, "float64", steps=2001, sync=sync.replay())
    with warnings.catch_warnings():
        warnings.simplefilter("error", jit.JitWarning)
        got = run_in_graph(_JitTF(mg_tf), xor, "float64", steps=2001, sync=sync.replay())
    np.testing.assert_allclose(got["costs"], plain["costs"], rtol=1e-12)
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    for w, g in zip(want["weights"], got["weights"]):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["hypothesis"], plain["hypothesis"], rtol=1e-12)
    assert got["accuracy"] == plain["accuracy"]


def test_session_jit_plans_compile_on_first_replay():
    import minigrad.compat.v1 as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [None, 2])
        w = tf.Variable(np.ones((2, 1)), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    sess = _JitTF(tf).Session(graph=g)
    with warnings.catch_warnings():
        warnings.simplefilter("error", jit.JitWarning)   # the initializer: nothing, quietly
        sess.run(init)
        losses = [sess.run([loss, step], {x: X})[0] for _ in range(3)]
    plans = list(sess._plans.values())
    assert isinstance(plans[-1], jit.DeferredPlan)
    assert "1 compiled segment(s)" in plans[-1].explain()
    assert losses[2] < losses[1] < losses[0]


def test_session_jit_random_ops_draw_what_the_replay_draws():
    import minigrad.compat.v1 as tf

    def program(tf_):
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(3)
            x = tf.placeholder(tf.float64, [None, 2])
            w = tf.Variable(np.ones((2, 3)), name="w")
            h = tf.nn.dropout(tf.matmul(x, w), keep_prob=0.5)
            loss = tf.reduce_sum(tf.square(h))
            step = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
            init = tf.global_variables_initializer()
        sess = tf_.Session(graph=g)
        sess.run(init)
        return [sess.run([loss, step], {x: X})[0] for _ in range(6)]
    want, got = program(tf), program(_JitTF(tf))
    assert len(set(want)) > 2          # the masks change from run to run
    close64(np.array(got), np.array(want))


def test_a_view_passed_after_a_contiguous_array_runs_the_same_step():
    """A compiled segment first called with a C array and later with a strided view of the
    same shape (numba types the view as layout 'A') computes what eager does."""
    w = mg.Variable(np.linspace(-1.0, 1.0, 6).reshape(3, 2))

    def step(x):
        with mg.GradientTape() as tape:
            loss = mg.reduce_sum(mg.sigmoid(mg.matmul(x, w)) * x[:, :2])
        return loss, tape.gradient(loss, w)

    compiled = mg.function(step, jit_compile=True)
    rng = np.random.default_rng(0)
    for x in (rng.normal(size=(4, 3)), rng.normal(size=(4, 6))[:, ::2],
              rng.normal(size=(6, 4)).T[:, :3]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # no fallback either: it compiles
            got = compiled(x)
        want = step(x)
        np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-12)
        np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-12, atol=1e-15)
