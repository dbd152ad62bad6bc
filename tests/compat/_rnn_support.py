"""Support for the RNN tests of minigrad.compat.v1: a fixed start, and `tf.contrib` for the
TensorFlow side.

`run_both_fixed`: run_both, with both engines starting from seeded numpy values (loaded into
TensorFlow's variables after its initializer, then copied to minigrad's by order, as run_both
copies). TF's own initial values are not reproducible here: tf_keras's legacy cells draw their
kernels with seeds of their own (stateless_random_uniform), not from the graph seed, so two
runs of one program in a process start differently, and tolerances would be judged on a new
draw each time.

TensorFlow 2's tf.compat.v1 has no contrib. The lectures' programs use tf.contrib.rnn,
tf.contrib.seq2seq and tf.contrib.layers, so under TensorFlow a program gets tf.compat.v1 with
parity/lectures/_contrib.py's stand-in (the one the lecture programs of parity/lectures use).
"""
import numpy as np

from minigrad.testing.tf1_compare import Sync, assert_same_run, run_in_graph, tf_v1
from parity.lectures._contrib import contrib_tf


def with_contrib(program):
    """`program(tf, ...)` given a tf that has contrib (minigrad's has its own)."""
    def run(tf, *args, **kwargs):
        return program(contrib_tf(tf), *args, **kwargs)
    run.__name__ = program.__name__
    return run


class FixedStart(Sync):
    """On the first engine (TensorFlow), load seeded values into the trainable variables,
    then record them; the second engine loads the recorded values."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def __call__(self, sess):
        if self.recorded is None:
            rng = np.random.default_rng(self.seed)
            with sess.graph.as_default():
                for v in sess.graph.get_collection("trainable_variables"):
                    shape = v.shape.as_list()
                    # glorot-uniform's range for matrices, +-0.5 for vectors (biases too)
                    limit = np.sqrt(6.0 / (shape[0] + shape[-1])) if len(shape) > 1 else 0.5
                    dtype = v.dtype.base_dtype.as_numpy_dtype
                    v.load(rng.uniform(-limit, limit, shape).astype(dtype), sess)
        super().__call__(sess)


def run_both_fixed(program, *args, seed=0, **kwargs):
    """(TensorFlow's result, minigrad's result), both from the same seeded start."""
    import minigrad.compat.v1 as mg_tf
    sync = FixedStart(seed)
    want = run_in_graph(tf_v1(), program, *args, sync=sync, **kwargs)
    got = run_in_graph(mg_tf, program, *args, sync=sync.replay(), **kwargs)
    return want, got


# --- comparing an RNN program's results (tests/compat/test_rnn*.py) -----------------------------
TOL = {"float32": (1e-6, 1e-6), "float64": (1e-10, 1e-12)}


def structure(s):
    """A state's nesting, written the same for both engines: LSTMStateTuple(c, h) and
    tuples kept, each tensor as its static shape."""
    if isinstance(s, tuple) and hasattr(s, "_fields"):
        return (type(s).__name__,) + tuple(structure(v) for v in s)
    if isinstance(s, (list, tuple)):
        return tuple(structure(v) for v in s)
    return tuple(s.shape.as_list())


def check(want, got, dtype):
    """Names, state structure, static shape, dtypes, then values and gradients within TOL."""
    rtol, atol = TOL[dtype]
    assert got["names"] == want["names"]
    assert got["state"] == want["state"]
    assert got["shape"] == want["shape"]
    for w, g in zip(want["values"] + want["grads"], got["values"] + got["grads"]):
        assert g.dtype == w.dtype
    assert_same_run(want["values"], got["values"], rtol, atol, "values")
    assert_same_run(want["grads"], got["grads"], rtol, atol, "grads")
