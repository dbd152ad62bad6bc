"""One TF1 program text, run under TensorFlow and under minigrad.compat.v1, from the same start.

A program is a function `program(tf, ..., sync=None)` written against the TF1 API it receives
as `tf`. Right after it runs its variable initializer it calls `sync(sess)`: under TensorFlow
that records the initial values of `tf.trainable_variables()`; under minigrad it checks that
the variable lists agree (count, names, shapes: every difference listed) and loads TF's values
with `Variable.load`. Each engine builds in a fresh graph.

    tf_result, mg_result = run_both(program, dtype="float64")
"""
import numpy as np

from minigrad.testing.tf_compare import import_tf


class VariableMismatch(AssertionError):
    pass


class Sync:
    """Records trainable values (first engine) or loads them (second engine)."""

    def __init__(self, recorded=None):
        self.recorded = recorded

    def __call__(self, sess):
        graph = sess.graph
        with graph.as_default():
            variables = _trainable(sess)
        if self.recorded is None:
            self.recorded = [(v.name, sess.run(v)) for v in variables]
            return
        _check_same(self.recorded, variables)
        for v, (_, value) in zip(variables, self.recorded):
            v.load(value, sess)

    def replay(self):
        if self.recorded is None:
            raise RuntimeError("the program never called sync(sess) under TensorFlow")
        return Sync(self.recorded)


def _trainable(sess):
    return sess.graph.get_collection("trainable_variables")


def _check_same(recorded, variables):
    problems = []
    if len(recorded) != len(variables):
        problems.append(f"TensorFlow has {len(recorded)} trainable variables, minigrad "
                        f"{len(variables)}")
    for k, ((name, value), v) in enumerate(zip(recorded, variables)):
        shape = tuple(v.shape.as_list())
        if name != v.name or tuple(value.shape) != shape:
            problems.append(f"#{k}: TensorFlow {name} {list(value.shape)}, minigrad {v.name} "
                            f"{list(shape)}")
    extra = [n for n, _ in recorded[len(variables):]] + [v.name for v in variables[len(recorded):]]
    if extra:
        problems.append(f"unmatched: {extra}")
    if problems:
        raise VariableMismatch("the two engines' trainable variables differ:\n  " +
                               "\n  ".join(problems))


def tf_v1():
    """tensorflow.compat.v1 (graph construction happens inside tf.Graph().as_default(), so TF2's
    eager mode need not be switched off for the rest of the process)."""
    return import_tf().compat.v1


def run_in_graph(tf, program, *args, **kwargs):
    with tf.Graph().as_default():
        return program(tf, *args, **kwargs)


def run_both(program, *args, **kwargs):
    """(TensorFlow's result, minigrad's result) of `program(tf, *args, sync=..., **kwargs)`."""
    import minigrad.compat.v1 as mg_tf
    sync = Sync()
    want = run_in_graph(tf_v1(), program, *args, sync=sync, **kwargs)
    got = run_in_graph(mg_tf, program, *args, sync=sync.replay(), **kwargs)
    return want, got


def assert_same_run(want, got, rtol, atol=0.0, what="value"):
    """Nested lists/dicts of arrays equal within rtol/atol, with the first bad place named."""
    if isinstance(want, dict):
        assert set(want) == set(got), f"{what}: keys {sorted(want)} vs {sorted(got)}"
        for k in want:
            assert_same_run(want[k], got[k], rtol, atol, f"{what}[{k!r}]")
        return
    if isinstance(want, (list, tuple)) and not isinstance(want, np.ndarray):
        assert len(want) == len(got), f"{what}: {len(want)} items vs {len(got)}"
        for k, (w, g) in enumerate(zip(want, got)):
            assert_same_run(w, g, rtol, atol, f"{what}[{k}]")
        return
    w, g = np.asarray(want), np.asarray(got)
    assert w.shape == g.shape, f"{what}: TensorFlow shape {w.shape}, minigrad {g.shape}"
    if w.dtype.kind in "biuSU":
        assert np.array_equal(w, g), f"{what}: TensorFlow {w}, minigrad {g}"
        return
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)
