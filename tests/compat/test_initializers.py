"""TF1's initializers (tensorflow/python/ops/init_ops.py defaults) under TF1's names, used as
`tf.get_variable(..., initializer=...)` and drawn when the initializer runs in a session.

Deterministic initializers: the same values as TensorFlow. Random ones: both engines' draws
(TF's Philox, minigrad's PCG64: different numbers by design) checked against the distribution's
mean, std and bounds on large draws. Tolerances are 5 standard errors (a false alarm about once
in 1.7 million checks): SE(mean) = std / sqrt(n), SE(variance) = sqrt((m4 - var^2) / n) with m4
the sample's fourth central moment (right for any distribution with a fourth moment).
Reproducibility under tf.set_random_seed is checked in two fresh processes."""
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minigrad.testing.tf1_compare import run_in_graph, tf_v1
import minigrad.compat.v1 as mg_tf

TRUNC = 0.87962566103423978     # std of a unit normal truncated at +-2 std
N_SE = 5.0


def engines():
    return [("tensorflow", tf_v1()), ("minigrad", mg_tf)]


def draw(tf, make_init, shape, dtype="float32", name="w"):
    """The initial value of get_variable(name, shape, initializer=make_init(tf))."""
    def program(tf):
        v = tf.get_variable(name, shape, dtype=getattr(tf, dtype), initializer=make_init(tf))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(v)
    return run_in_graph(tf, program)


def check_moments(x, mean, std, what):
    x = np.asarray(x, np.float64).ravel()
    n = x.size
    m, var = x.mean(), x.var()
    m4 = np.mean((x - m) ** 4)
    se_mean, se_var = std / math.sqrt(n), math.sqrt(max(m4 - var ** 2, 0.0) / n)
    assert abs(m - mean) < N_SE * se_mean, f"{what}: mean {m}, expected {mean} +- {se_mean}"
    assert abs(var - std ** 2) < N_SE * se_var, \
        f"{what}: variance {var}, expected {std ** 2} +- {se_var}"


def _rounding(x, *bounds):
    """How far a draw may stray past a bound by rounding to its dtype (float32: the bound and
    lo + u * (hi - lo) are rounded)."""
    if x.dtype.kind != "f":
        return 0.0
    return 4 * np.finfo(x.dtype).eps * max(abs(b) for b in bounds)


def check_uniform(x, lo, hi, what):
    """U[lo, hi): inside the bounds (up to rounding), both ends reached (P(no sample within
    20 (hi-lo)/n of an end) = e^-20), mean and variance (hi-lo)^2 / 12."""
    r = _rounding(np.asarray(x), lo, hi)
    x = np.asarray(x, np.float64).ravel()
    slack = 20 * (hi - lo) / x.size
    assert x.min() >= lo - r and x.max() < hi + r, \
        f"{what}: [{x.min()}, {x.max()}] not in [{lo}, {hi})"
    assert x.min() < lo + slack and x.max() > hi - slack, f"{what}: ends not reached"
    check_moments(x, (lo + hi) / 2, (hi - lo) / math.sqrt(12), what)


def check_truncated(x, mean, stddev, what):
    """N(mean, stddev^2) redrawn beyond 2 stddev: inside the bounds (up to rounding to the
    dtype), reaching near them, std 0.8796 stddev."""
    r = _rounding(np.asarray(x), mean - 2 * stddev, mean + 2 * stddev) / stddev
    z = (np.asarray(x, np.float64).ravel() - mean) / stddev
    assert np.abs(z).max() <= 2.0 + r, f"{what}: |z| up to {np.abs(z).max()} beyond 2 std"
    assert np.abs(z).max() > 1.99, f"{what}: never near the truncation point"
    check_moments(x, mean, TRUNC * stddev, what)


SHAPE = (400, 2500)        # 10^6 draws; fan_in 400, fan_out 2500


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_normal_initializer_defaults_mean_0_stddev_1(dtype):
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.random_normal_initializer(), SHAPE, dtype)
        assert x.dtype == dtype and x.shape == SHAPE
        check_moments(x, 0.0, 1.0, f"{name} random_normal_initializer()")
        x = draw(tf, lambda tf: tf.random_normal_initializer(mean=2.0, stddev=3.0), SHAPE, dtype)
        check_moments(x, 2.0, 3.0, f"{name} random_normal_initializer(2, 3)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_uniform_initializer_defaults_0_to_1(dtype):
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.random_uniform_initializer(), SHAPE, dtype)
        assert x.dtype == dtype
        check_uniform(x, 0.0, 1.0, f"{name} random_uniform_initializer()")
        x = draw(tf, lambda tf: tf.random_uniform_initializer(-2.0, 3.0), SHAPE, dtype)
        check_uniform(x, -2.0, 3.0, f"{name} random_uniform_initializer(-2, 3)")


def test_random_uniform_initializer_integers():
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.random_uniform_initializer(0, 10), SHAPE, "int32")
        assert x.dtype == np.int32, name
        assert set(np.unique(x)) == set(range(10)), name
        check_moments(x, 4.5, math.sqrt((10 ** 2 - 1) / 12), f"{name} integer uniform [0, 10)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_normal_initializer_cuts_at_2_std(dtype):
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.truncated_normal_initializer(), SHAPE, dtype)
        assert x.dtype == dtype
        check_truncated(x, 0.0, 1.0, f"{name} truncated_normal_initializer()")
        x = draw(tf, lambda tf: tf.truncated_normal_initializer(1.0, 0.5), SHAPE, dtype)
        check_truncated(x, 1.0, 0.5, f"{name} truncated_normal_initializer(1, .5)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glorot_uniform_limit_and_get_variable_default(dtype):
    limit = math.sqrt(6.0 / (SHAPE[0] + SHAPE[1]))
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.glorot_uniform_initializer(), SHAPE, dtype)
        check_uniform(x, -limit, limit, f"{name} glorot_uniform_initializer()")
        # TF1's get_variable: glorot_uniform when no initializer is given
        x = draw(tf, lambda tf: None, SHAPE, dtype)
        check_uniform(x, -limit, limit, f"{name} get_variable's default")


def test_glorot_fans_of_a_conv_kernel():
    shape = (5, 5, 40, 80)           # fans 1000 and 2000: the window multiplies both
    limit = math.sqrt(6.0 / (25 * 40 + 25 * 80))
    for name, tf in engines():
        check_uniform(draw(tf, lambda tf: tf.glorot_uniform_initializer(), shape), -limit,
                      limit, f"{name} conv glorot_uniform")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glorot_normal_is_truncated_with_std_after_truncation(dtype):
    std = math.sqrt(2.0 / (SHAPE[0] + SHAPE[1]))
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.glorot_normal_initializer(), SHAPE, dtype)
        check_truncated(x, 0.0, std / TRUNC, f"{name} glorot_normal_initializer()")


VARIANCE_SCALING = {
    # (kwargs, kind, scale / n)
    "default": ({}, "truncated", 1.0 / SHAPE[0]),
    "fan_out_uniform": (dict(scale=2.0, mode="fan_out", distribution="uniform"), "uniform",
                        2.0 / SHAPE[1]),
    "fan_avg_normal": (dict(mode="fan_avg", distribution="normal"), "truncated",
                       2.0 / (SHAPE[0] + SHAPE[1])),
    "untruncated": (dict(scale=3.0, distribution="untruncated_normal"), "normal",
                    3.0 / SHAPE[0]),
}


@pytest.mark.parametrize("case", sorted(VARIANCE_SCALING))
def test_variance_scaling_initializer(case):
    kwargs, kind, s = VARIANCE_SCALING[case]
    for name, tf in engines():
        x = draw(tf, lambda tf: tf.variance_scaling_initializer(**kwargs), SHAPE)
        what = f"{name} variance_scaling_initializer({kwargs})"
        if kind == "uniform":
            limit = math.sqrt(3.0 * s)
            check_uniform(x, -limit, limit, what)
        elif kind == "truncated":
            check_truncated(x, 0.0, math.sqrt(s) / TRUNC, what)
        else:
            check_moments(x, 0.0, math.sqrt(s), what)


def test_contrib_xavier_and_variance_scaling():
    """TF 2 has no contrib: contrib's formulas (contrib/layers/python/layers/initializers.py)
    checked against their stated distributions."""
    init = mg_tf.initializers
    fan_in, fan_out = SHAPE
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    check_uniform(draw(mg_tf, lambda tf: init.xavier_initializer(), SHAPE), -limit, limit,
                  "xavier_initializer()")
    x = draw(mg_tf, lambda tf: init.xavier_initializer(uniform=False), SHAPE, "float64")
    assert x.dtype == np.float64
    check_truncated(x, 0.0, math.sqrt(1.3 * 2.0 / (fan_in + fan_out)), "xavier, normal")
    x = draw(mg_tf, lambda tf: init.contrib_variance_scaling_initializer(), SHAPE)
    check_truncated(x, 0.0, math.sqrt(1.3 * 2.0 / fan_in), "contrib variance_scaling()")
    x = draw(mg_tf, lambda tf: init.contrib_variance_scaling_initializer(
        1.0, "FAN_OUT", uniform=True), SHAPE)
    limit = math.sqrt(3.0 / fan_out)
    check_uniform(x, -limit, limit, "contrib variance_scaling(FAN_OUT, uniform)")
    with pytest.raises(TypeError, match="Unknown mode"):
        init.contrib_variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="non-floating"):
        init.xavier_initializer(dtype=mg_tf.int32)


def test_orthogonal_initializer():
    for name, tf in engines():
        q = draw(tf, lambda tf: tf.orthogonal_initializer(gain=2.0), (30, 20), "float64")
        np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(20), atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deterministic_initializers_equal_tensorflow(dtype):
    cases = {
        "zeros": (lambda tf: tf.zeros_initializer(), (3, 4)),
        "zeros_class": (lambda tf: tf.zeros_initializer, (3, 4)),    # TF1 takes the class
        "ones": (lambda tf: tf.ones_initializer(), (2, 5)),
        "constant_scalar": (lambda tf: tf.constant_initializer(0.25), (2, 3)),
        "constant_list": (lambda tf: tf.constant_initializer([1, 2, 3, 4, 5, 6]), (2, 3)),
        # fewer values than the shape: the last one repeats (TF1's constant_v1)
        "constant_padded": (lambda tf: tf.constant_initializer([1, 2, 3]), (2, 4)),
        "identity": (lambda tf: tf.initializers.identity(gain=3.0), (3, 3)),
    }
    for key, (make, shape) in cases.items():
        want = draw(tf_v1(), make, shape, dtype)
        got = draw(mg_tf, make, shape, dtype)
        assert got.dtype == want.dtype, key
        np.testing.assert_array_equal(got, want, err_msg=key)


def test_seeded_initializer_repeats_its_numbers_as_an_op_seed_does():
    """An op seed alone fixes the sequence: two variables from one seeded initializer are
    equal, in TF1 and here; an unseeded one gives two different variables."""
    for name, tf in engines():
        def program(tf):
            init = tf.random_normal_initializer(seed=3)
            a = tf.get_variable("a", [50], initializer=init)
            b = tf.get_variable("b", [50], initializer=init)
            c = tf.get_variable("c", [50], initializer=tf.random_normal_initializer())
            d = tf.get_variable("d", [50], initializer=tf.random_normal_initializer())
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return sess.run([a, b, c, d])
        a, b, c, d = run_in_graph(tf, program)
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert not np.array_equal(c, d), name


def test_bad_arguments_raise_tf_errors():
    for name, tf in engines():
        with pytest.raises(ValueError):
            tf.random_normal_initializer(dtype=tf.int32)
        with pytest.raises(ValueError, match="mode"):
            tf.variance_scaling_initializer(mode="fan")
        with pytest.raises(ValueError, match="scale"):
            tf.variance_scaling_initializer(scale=0.0)
        with pytest.raises(TypeError, match="Invalid type"):
            tf.constant_initializer({"a": 1})
    # too many values: TF raises at get_variable, minigrad when the initializer runs (the
    # initial value is drawn in the session)
    with pytest.raises(ValueError, match="Too many elements provided. Needed at most 6"):
        draw(mg_tf, lambda tf: tf.constant_initializer(list(range(8))), (2, 3))
    with pytest.raises(ValueError, match="Too many elements"):
        draw(tf_v1(), lambda tf: tf.constant_initializer(list(range(8))), (2, 3))


_SEEDED_PROGRAM = textwrap.dedent("""
    import sys
    import numpy as np
    import minigrad.compat.v1 as tf
    if sys.argv[1] == "seed":
        tf.set_random_seed(1234)
    inits = [tf.random_normal_initializer(), tf.truncated_normal_initializer(stddev=0.1),
             tf.random_uniform_initializer(-1, 1), tf.glorot_uniform_initializer(),
             tf.glorot_normal_initializer(), tf.variance_scaling_initializer(),
             tf.initializers.xavier_initializer(), None]
    vs = [tf.get_variable(f"v{k}", [20, 30], initializer=i) for k, i in enumerate(inits)]
    x = tf.placeholder(tf.float32, [None, 30])
    h = tf.layers.dense(x, 7)
    r = tf.random_normal([4, 3])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(tf.global_variables() + [r])
    sys.stdout.write(";".join(np.asarray(v, np.float64).tobytes().hex() for v in values))
""")


def _run_fresh(arg):
    out = subprocess.run([sys.executable, "-c", _SEEDED_PROGRAM, arg], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split(";")


def test_set_random_seed_gives_the_same_numbers_in_fresh_processes():
    first, second = _run_fresh("seed"), _run_fresh("seed")
    assert len(first) == 11          # 8 get_variables, dense's kernel and bias, one random op
    assert first == second
    assert len(set(first[:8])) == 8, "two variables drew the same numbers"
    unseeded = _run_fresh("none")
    assert unseeded[:8] != first[:8]
