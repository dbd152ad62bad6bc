"""The random ops of TF1 graph mode (tf.random_normal, tf.truncated_normal, tf.random_uniform,
tf.multinomial): one program text per engine, distributions checked on large draws.

The numbers differ between engines by design (numpy's PCG64 stream, not TF's Philox), so each
engine's draw is checked against the distribution. Tolerances are 5 standard errors (about one
false alarm in 1.7 million checks): SE(mean) = std / sqrt(n), SE(variance) = sqrt((m4 -
var^2) / n) with m4 the sample's fourth central moment, SE(frequency) = sqrt(p (1 - p) / n)."""
import math

import numpy as np
import pytest

from minigrad.testing.tf1_compare import run_in_graph, tf_v1
import minigrad.compat.v1 as mg_tf

N_SE = 5.0
TRUNC = 0.87962566103423978       # std of a unit normal truncated at +-2 std
N = 10 ** 6


def engines():
    return [("tensorflow", tf_v1()), ("minigrad", mg_tf)]


def run(tf, build, runs=1):
    """`runs` Session.run's of the fetches that build(tf) makes, in one session."""
    def program(tf):
        fetches = build(tf)
        with tf.Session() as sess:
            return [sess.run(fetches) for _ in range(runs)]
    return run_in_graph(tf, program)


def check_moments(x, mean, std, what):
    x = np.asarray(x, np.float64).ravel()
    m, var = x.mean(), x.var()
    se_mean = std / math.sqrt(x.size)
    se_var = math.sqrt(max(np.mean((x - m) ** 4) - var ** 2, 0.0) / x.size)
    assert abs(m - mean) < N_SE * se_mean, f"{what}: mean {m}, expected {mean} +- {se_mean}"
    assert abs(var - std ** 2) < N_SE * se_var, \
        f"{what}: variance {var}, expected {std ** 2} +- {se_var}"


def rounding(x, *bounds):
    """How far a float32 draw may stray past a bound by rounding (lo + u * (hi - lo))."""
    return 4 * np.finfo(x.dtype).eps * max(abs(b) for b in bounds)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_normal(dtype):
    for name, tf in engines():
        f = getattr(tf, dtype)
        std_normal, shifted = run(tf, lambda tf: [tf.random_normal([N], dtype=f),
                                                  tf.random_normal([1000, 1000], 3.0, 0.5, f)])[0]
        assert std_normal.dtype == dtype and shifted.shape == (1000, 1000)
        check_moments(std_normal, 0.0, 1.0, f"{name} random_normal")
        check_moments(shifted, 3.0, 0.5, f"{name} random_normal(mean=3, stddev=.5)")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_normal_cuts_at_2_std(dtype):
    for name, tf in engines():
        f = getattr(tf, dtype)
        x = run(tf, lambda tf: tf.truncated_normal([N], mean=-1.0, stddev=2.0, dtype=f))[0]
        assert x.dtype == dtype
        z = (x.astype(np.float64) + 1.0) / 2.0
        r = rounding(x, -5.0, 3.0) / 2.0
        assert np.abs(z).max() <= 2.0 + r, f"{name}: |z| up to {np.abs(z).max()}"
        assert np.abs(z).max() > 1.99, f"{name}: never near the truncation point"
        check_moments(x, -1.0, 2.0 * TRUNC, f"{name} truncated_normal")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_uniform_minval_maxval(dtype):
    for name, tf in engines():
        f = getattr(tf, dtype)
        unit, ranged = run(tf, lambda tf: [tf.random_uniform([N], dtype=f),
                                           tf.random_uniform([N], minval=-3, maxval=5,
                                                             dtype=f)])[0]
        for x, lo, hi in ((unit, 0.0, 1.0), (ranged, -3.0, 5.0)):
            what = f"{name} random_uniform [{lo}, {hi})"
            r = rounding(x, lo, hi)
            assert x.dtype == dtype
            assert x.min() >= lo - r and x.max() < hi + r, what
            # both ends reached: P(no draw within 20 (hi - lo) / n of an end) = e^-20
            assert x.min() < lo + 20 * (hi - lo) / N and x.max() > hi - 20 * (hi - lo) / N, what
            check_moments(x, (lo + hi) / 2, (hi - lo) / math.sqrt(12), what)


def test_every_run_draws_anew_and_op_seeds_repeat():
    """Stateful ops: each Session.run draws new numbers; an op seed makes a program repeat its
    numbers (TF1: the graph seed defaults when only the op seed is set)."""
    for name, tf in engines():
        def build(tf):
            return [tf.random_normal([5]), tf.random_uniform([5], seed=11)]
        (a1, s1), (a2, s2) = run(tf, build, runs=2)
        assert not np.array_equal(a1, a2) and not np.array_equal(s1, s2), name
        (_, s1_again), _ = run(tf, build, runs=2)
        np.testing.assert_array_equal(s1_again, s1, err_msg=name)


def test_graph_seed_makes_every_op_repeat():
    for name, tf in engines():
        def build(tf):
            tf.set_random_seed(5)
            return [tf.random_normal([4]), tf.truncated_normal([4]), tf.random_uniform([4])]
        first, second = run(tf, build)[0], run(tf, build)[0]
        for f, s in zip(first, second):
            np.testing.assert_array_equal(f, s, err_msg=name)
        assert not np.array_equal(first[0], first[1])


LOGITS = np.array([[0.0, 1.0, 2.0, -1.0],
                   [3.0, 3.0, -np.inf, 0.5],       # a -inf logit is never drawn
                   [-50.0, -50.0, -50.0, -49.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multinomial_frequencies_match_softmax(dtype):
    samples = 50000
    finite = np.where(np.isfinite(LOGITS), LOGITS, -np.inf)
    p = np.exp(finite - finite.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    for name, tf in engines():
        f = getattr(tf, dtype)
        x = run(tf, lambda tf: tf.multinomial(tf.constant(LOGITS, f), samples))[0]
        assert x.shape == (3, samples) and x.dtype == np.int64, name
        assert x.min() >= 0 and x.max() <= 3
        for row in range(3):
            freq = np.bincount(x[row], minlength=4) / samples
            se = np.sqrt(p[row] * (1 - p[row]) / samples)
            assert np.all(np.abs(freq - p[row]) <= N_SE * se), \
                f"{name} row {row}: frequencies {freq}, softmax {p[row]}"
        assert not np.any(x[1] == 2), f"{name}: drew the -inf class"


def test_multinomial_shapes_dtypes_and_fed_logits():
    for name, tf in engines():
        def program(tf):
            logits = tf.placeholder(tf.float32, [None, 3])
            a = tf.multinomial(logits, 7, output_dtype=tf.int32)
            b = tf.random.categorical(logits, 2, dtype=tf.int64, seed=3)
            with tf.Session() as sess:
                feed = {logits: [[0.0, 0.0, 50.0], [50.0, 0.0, 0.0]]}
                return a.shape.as_list(), sess.run([a, b], feed)
        shape, (a, b) = run_in_graph(tf, program)
        assert shape == [None, 7], name
        assert a.dtype == np.int32 and b.dtype == np.int64, name
        # softmax puts all but e^-50 of the mass on one class per row
        np.testing.assert_array_equal(a, [[2] * 7, [0] * 7], err_msg=name)
        np.testing.assert_array_equal(b, [[2] * 2, [0] * 2], err_msg=name)
