"""The graph core: tensors, variables, the tape's semantics (TF's), the recorded graph."""
import numpy as np
import pytest

import minigrad as mg


def test_constant_default_dtypes_follow_tf():
    assert mg.constant(1.0).dtype == mg.float32
    assert mg.constant([1, 2]).dtype == mg.int32
    assert mg.constant(np.zeros(2)).dtype == mg.float64
    assert mg.constant(np.zeros(2, np.int64)).dtype == mg.int64
    assert mg.constant(3, dtype=mg.float64).dtype == mg.float64


def test_tensor_surface_and_numpy_interop():
    t = mg.constant([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.shape.as_list() == [2, 2]
    assert np.asarray(t).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(t) * 2, (t * 2).numpy())
    y = np.ones(2, np.float32) + t          # numpy defers to Tensor's operators
    assert isinstance(y, mg.Tensor)
    np.testing.assert_array_equal(y.numpy(), [[2, 3], [4, 5]])


def test_variable_assign_family():
    v = mg.Variable([1.0, 2.0], name="v")
    assert v.name == "v:0" and v.trainable
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(mg.constant([0.5, 0.5]))
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    with pytest.raises(ValueError, match="assign.*shape"):
        v.assign([1.0, 2.0, 3.0])


def test_trainable_variables_watched_automatically_constants_not():
    w, c = mg.Variable(3.0), mg.constant(2.0)
    with mg.GradientTape() as tape:
        y = w * w * c
    gw, gc = tape.gradient(y, [w, c])
    assert float(gw) == 12.0 and gc is None


def test_non_trainable_variable_and_watch():
    v = mg.Variable(3.0, trainable=False)
    with mg.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    with mg.GradientTape() as tape:
        tape.watch(v)
        y = v * v
    assert float(tape.gradient(y, v)) == 6.0


def test_non_scalar_target_is_summed_and_output_gradients_weight_it():
    x = mg.constant([1.0, 2.0, 3.0])
    with mg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2, 4, 6])
    g = tape.gradient(y, x, output_gradients=mg.constant([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(g.numpy(), [2, 0, -6])


def test_non_persistent_tape_used_once_and_frees_graph():
    x = mg.Variable(2.0)
    with mg.GradientTape() as tape:
        y = x * x
    node = y.op
    assert node is not None and len(node.inputs) == 2
    tape.gradient(y, x)
    assert node.inputs == () and node.xs == ()        # intermediate state freed
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_gradient_accumulates_when_a_tensor_is_used_twice():
    x = mg.Variable(3.0)
    with mg.GradientTape() as tape:
        y = x * x + x          # x used three times
    assert float(tape.gradient(y, x)) == 7.0


def test_broadcasting_undone_by_the_engine():
    b = mg.Variable(np.zeros(3, np.float32))
    x = mg.constant(np.ones((4, 3), np.float32))
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(x + b)
    g = tape.gradient(y, b)
    assert g.shape == (3,) and g.dtype == mg.float32
    np.testing.assert_array_equal(g.numpy(), [4, 4, 4])


def test_unconnected_source_gives_none_or_zero():
    x, z = mg.Variable(1.0), mg.Variable(5.0)
    with mg.GradientTape(persistent=True) as tape:
        y = x * 2
    assert tape.gradient(y, z) is None
    assert float(tape.gradient(y, z, unconnected_gradients="zero")) == 0.0


def test_stop_gradient_and_no_recording_outside_tape():
    x = mg.Variable(3.0)
    with mg.GradientTape() as tape:
        y = mg.stop_gradient(x * x) + x
    assert float(tape.gradient(y, x)) == 1.0
    y = x * x
    assert y.op is None        # nothing recorded outside a tape


def test_nested_tapes_second_derivative_is_not_supported_but_first_order_works():
    x = mg.Variable(2.0)
    with mg.GradientTape() as outer:
        with mg.GradientTape() as inner:
            y = x * x * x
        g = inner.gradient(y, x)
    assert float(g) == 12.0
    assert float(outer.gradient(y, x)) == 12.0


def test_gradient_structure_follows_sources():
    a, b = mg.Variable(1.0), mg.Variable(2.0)
    with mg.GradientTape() as tape:
        y = a * b
    g = tape.gradient(y, {"a": a, "rest": [b]})
    assert float(g["a"]) == 2.0 and float(g["rest"][0]) == 1.0


def test_recorded_graph_is_inspectable_with_name_scopes():
    w = mg.Variable(np.ones((2, 1), np.float32), name="w")
    x = mg.constant(np.ones((3, 2), np.float32))
    with mg.GradientTape() as tape:
        with mg.name_scope("layer1"):
            h = mg.sigmoid(mg.matmul(x, w))
        loss = mg.reduce_mean(h)
    names = [n.name for n in tape.nodes]
    assert names == ["layer1/MatMul", "layer1/Sigmoid", "Mean"]
    mm = tape.nodes[0]
    assert mm.type == "MatMul" and mm.inputs[1] is w and mm.output_shapes == [(3, 1)]
    assert h.name == "layer1/Sigmoid:0"
    assert "MatMul" in repr(mm)


def test_float64_end_to_end():
    w = mg.Variable(np.ones((2, 2)))
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(mg.sigmoid(mg.matmul(mg.constant(np.eye(2)), w)))
    g = tape.gradient(y, w)
    assert g.dtype == mg.float64
    opt = mg.train.GradientDescentOptimizer(0.5)
    opt.apply_gradients([(g, w)])
    assert w.dtype == mg.float64


def test_variable_views_do_not_follow_later_updates():
    v = mg.Variable(np.arange(4.0))
    r = mg.reshape(v, (2, 2))
    s = v[1:]
    v.assign_add(np.ones(4))
    np.testing.assert_array_equal(r.numpy().ravel(), [0, 1, 2, 3])
    np.testing.assert_array_equal(s.numpy(), [1, 2, 3])


def test_sigmoid_is_stable_for_large_inputs():
    y = mg.sigmoid(mg.constant([-1000.0, 0.0, 1000.0])).numpy()
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


def test_math_aliases():
    assert mg.math.add is mg.add and mg.math.reduce_sum is mg.reduce_sum


def test_optimizers_minimize_takes_a_callable():
    w = mg.Variable(5.0)
    opt = mg.train.GradientDescentOptimizer(0.25)
    for _ in range(3):
        opt.minimize(lambda: w * w, [w])
    assert float(w.numpy()) == pytest.approx(5 * 0.5 ** 3)
    with pytest.raises(TypeError, match="callable"):
        opt.minimize(w * w, [w])


def test_keras_sgd_momentum_and_nesterov_match_formula():
    for nesterov in (False, True):
        w = mg.Variable(np.array([1.0, -2.0]))
        # NOTE: 0.5 and 0.25 are exact in float32, which Keras keeps its hyperparameters in
        opt = mg.optimizers.SGD(0.25, momentum=0.5, nesterov=nesterov)
        m = np.zeros(2)
        ref = np.array([1.0, -2.0])
        for _ in range(5):
            g = 2 * ref
            opt.apply_gradients([(mg.constant(g), w)])
            m = m * 0.5 - g * 0.25
            ref = ref + (m * 0.5 - g * 0.25 if nesterov else m)
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-15)


def test_every_op_has_a_forward_and_gradient_docstring():
    for name, cls in mg.op_registry.items():
        doc = (cls.__doc__ or "").split("\n\n")[0]
        assert "=" in doc, f"{name}: its docstring should give the forward formula"
        assert cls.differentiable is False or any(w in doc for w in ("gx", "gradient")), \
            f"{name}: its docstring should give the gradient"


def test_import_is_light():
    """`import minigrad` pulls in neither TensorFlow nor numba (kernels load on first use)."""
    import subprocess
    import sys
    code = "import minigrad, sys; print('tensorflow' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
