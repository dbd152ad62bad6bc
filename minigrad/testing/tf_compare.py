"""The one helper that checks a minigrad op against TensorFlow on identical inputs:
shape and dtype first, then forward values, then every input's gradient under a random
non-uniform cotangent (tape.gradient(..., output_gradients=ct)) in both engines.

TensorFlow is imported lazily, only here, with the environment parity needs.
"""
import os

import numpy as np


def import_tf():
    """TensorFlow with the TF1 cells available and oneDNN's reordering off (parity settings)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    return tf


class Mismatch(AssertionError):
    pass


def assert_close(name, what, got, want, rtol, atol):
    """TF's assertAllClose rule, |got - want| <= atol + rtol * |want|, with the worst place."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Mismatch(f"{name}: {what} shape {got.shape} != TensorFlow's {want.shape}")
    if got.dtype.kind == "b" or got.dtype.kind in "iu":
        if not np.array_equal(got, want):
            raise Mismatch(f"{name}: {what} differs from TensorFlow: {got} vs {want}")
        return 0.0
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = atol + rtol * np.abs(want.astype(np.float64))
    bad = ~(err <= bound) & ~(np.isnan(got) & np.isnan(want))
    if bad.any():
        at = np.unravel_index(np.argmax(np.where(bad, err - bound, -np.inf)), err.shape)
        raise Mismatch(f"{name}: {what} differs at {tuple(int(i) for i in at)}: minigrad "
                       f"{got[at]!r}, TensorFlow {want[at]!r} (|diff| {err[at]:.3e}, "
                       f"rtol={rtol}, atol={atol})")
    return float(err.max()) if err.size else 0.0


def _listify(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def run_both(info, sample, dtype, seed=0):
    """Forward and backward in minigrad and TF; returns (mg_outs, tf_outs, mg_grads, tf_grads)."""
    import minigrad as mg
    tf = import_tf()
    rng = np.random.default_rng(seed)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in sample.args]
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and i not in info.nograd]

    mg_in = [mg.constant(a) for a in arrays]
    with mg.GradientTape(persistent=True) as tape:
        for i in floats:
            tape.watch(mg_in[i])
        mg_out = _listify(info.op(mg, *mg_in, **sample.kwargs))
    tf_in = [tf.constant(a) for a in arrays]
    with tf.GradientTape(persistent=True) as tf_tape:
        for i in floats:
            tf_tape.watch(tf_in[i])
        tf_out = _listify(info.ref(tf, *tf_in, **sample.kwargs))

    diff_outs = [k for k, y in enumerate(tf_out) if y.dtype.is_floating]
    cts = [(rng.uniform(0.5, 1.5, tuple(tf_out[k].shape)) *
            rng.choice([-1.0, 1.0], tuple(tf_out[k].shape))).astype(dtype) for k in diff_outs]
    mg_grads = tf_grads = [None] * len(floats)
    if floats and diff_outs and info.grad:
        mg_grads = tape.gradient([mg_out[k] for k in diff_outs], [mg_in[i] for i in floats],
                                 output_gradients=cts)
        tf_grads = tf_tape.gradient([tf_out[k] for k in diff_outs], [tf_in[i] for i in floats],
                                    output_gradients=[tf.constant(c) for c in cts])
    return mg_out, tf_out, mg_grads, tf_grads, floats


def check_against_tf(info, sample, dtype, seed=0):
    """Raise Mismatch unless minigrad agrees with TF on `sample` within the table's tolerance."""
    rtol, atol = info.tolerance(dtype)
    name = f"{info.name}[{sample.label}, {np.dtype(dtype).name}]"
    mg_out, tf_out, mg_grads, tf_grads, floats = run_both(info, sample, dtype, seed)
    if len(mg_out) != len(tf_out):
        raise Mismatch(f"{name}: {len(mg_out)} outputs, TensorFlow has {len(tf_out)}")
    for k, (m, t) in enumerate(zip(mg_out, tf_out)):
        t_np = t.numpy()
        if tuple(m.shape) != t_np.shape:
            raise Mismatch(f"{name}: output {k} shape {tuple(m.shape)} != TF's {t_np.shape}")
        if m.numpy().dtype != t_np.dtype:
            raise Mismatch(f"{name}: output {k} dtype {m.numpy().dtype} != TF's {t_np.dtype}")
        assert_close(name, f"output {k}", m.numpy(), t_np, rtol, atol)
    for i, gm, gt in zip(floats, mg_grads, tf_grads):
        if gt is not None and hasattr(gt, "values") and hasattr(gt, "indices"):
            tf = import_tf()
            gt = tf.convert_to_tensor(gt)        # IndexedSlices (gather) -> dense
        if (gm is None) != (gt is None):
            raise Mismatch(f"{name}: gradient of input {i} is {'None' if gm is None else 'set'}"
                           f" in minigrad but {'None' if gt is None else 'set'} in TF")
        if gm is not None:
            if gm.numpy().dtype != gt.numpy().dtype:
                raise Mismatch(f"{name}: gradient {i} dtype {gm.numpy().dtype} != "
                               f"{gt.numpy().dtype}")
            assert_close(name, f"gradient of input {i}", gm.numpy(), gt.numpy(), rtol, atol)
