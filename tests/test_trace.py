"""mg.trace: the chain rule node by node, checked against the lecture and against the tape."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def lecture():
    """w = -2, x = 5, b = 3; g = w*x; f = g + b"""
    w, x, b = (mg.Variable(v, name=n) for v, n in ((-2.0, "w"), (5.0, "x"), (3.0, "b")))
    with mg.GradientTape(persistent=True) as tape:
        g = w * x
        f = g + b
    return tape, w, x, b, g, f


def test_lecture_numbers():
    tape, w, x, b, g, f = lecture()
    tr = mg.trace(f, [w, x, b], names={"g": g, "f": f}, verbose=False)
    assert float(tr.target_value) == -7.0
    assert float(tr.gradient(g)) == 1.0          # df/dg
    assert float(tr.gradient(b)) == 1.0          # df/db
    assert float(tr.gradient(w)) == 5.0          # df/dw = x
    assert float(tr.gradient(x)) == -2.0         # df/dx = w
    add, mul = tr                                # backward order: f = g + b first
    assert (add.type, add.inputs, add.outputs) == ("Add", ["g", "b"], ["f"])
    assert [float(v) for v in add.local] == [1.0, 1.0]
    assert (mul.type, mul.inputs) == ("Mul", ["w", "x"])
    assert [float(v) for v in mul.xs] == [-2.0, 5.0] and float(mul.ys[0]) == -10.0
    assert float(mul.upstream[0]) == 1.0
    assert [float(v) for v in mul.local] == [5.0, -2.0]      # dg/dw = x, dg/dx = w
    assert [float(v) for v in mul.passed] == [5.0, -2.0]
    assert tr.gradients == {"w": 5.0, "x": -2.0, "b": 1.0, "f": 1.0, "g": 1.0}


def test_lecture_printout(capsys):
    tape, w, x, b, g, f = lecture()
    tr = mg.trace(f, {"w": w, "x": x, "b": b}, names={"g": g, "f": f})
    out = capsys.readouterr().out
    assert out.strip() == str(tr).strip()
    for line in ("Trace of f = -7", "local df/dg = 1", "local dg/dw = 5", "passes df/dw = 5",
                 "local dg/dx = -2", "passes df/dx = -2", "passes df/db = 1",
                 "Gradients: df/dw = 5,  df/dx = -2,  df/db = 1"):
        assert line in out, line
    assert repr(tr) == "<Trace of f: 2 steps>"


def model(dtype):
    """Broadcasting, a tensor used twice, a reduction and a two-output op."""
    rng = np.random.default_rng(0)
    W = mg.Variable(rng.normal(size=(3, 4)).astype(dtype), name="layer/W")
    b = mg.Variable(rng.normal(size=(4,)).astype(dtype), name="layer/b")
    x = mg.constant(rng.normal(size=(5, 3)).astype(dtype))
    tape = mg.GradientTape(persistent=True)
    with tape:
        with mg.name_scope("layer"):
            h = mg.tanh(mg.matmul(x, W) + b)
        left, right = mg.split(h * h, 2, axis=1)
        loss = mg.reduce_sum(left * 3.0) + mg.reduce_mean(mg.sigmoid(right))
    return tape, loss, W, b, x


def test_trace_gradients_equal_the_tapes():
    tape, loss, W, b, x = model(np.float64)
    tr = mg.trace(loss, [W, b, x], verbose=False)
    gW, gb, gx = tape.gradient(loss, [W, b, x])
    assert gx is None and tr.gradient(x) is not None      # x is not watched by the tape
    np.testing.assert_allclose(tr.gradient(W), gW.numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(tr.gradient(b), gb.numpy(), rtol=1e-13, atol=1e-15)
    assert tr.gradient(W).dtype == np.float64 and tr.gradient(W).shape == (3, 4)
    names = [s.name for s in tr]
    assert names[0] == "Add" and "layer/MatMul" in names and "Split" in names
    assert tr.step("layer/MatMul").type == "MatMul"


def test_order_is_the_tapes_reverse_recording_order_and_deterministic():
    tape, loss, *_ = model(np.float32)
    tr = mg.trace(loss, verbose=False)
    assert [s.name for s in tr] == [op.name for op in reversed(tape.nodes)]
    assert str(tr) == str(mg.trace(loss, verbose=False))
    assert [s.name for s in mg.trace(loss, tape=tape, verbose=False)] == [s.name for s in tr]


def test_sources_limit_the_work():
    tape, w, x, b, g, f = lecture()
    tr = mg.trace(f, [b], verbose=False)
    add, = tr                       # the Mul node feeds nothing that b reaches
    assert add.passed[0] is None and float(add.passed[1]) == 1.0
    assert "(no gradient needed)" in str(tr)
    assert tr.gradient(w) is None


def test_trace_does_not_disturb_the_tape():
    w = mg.Variable([1.0, 2.0])
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(mg.square(w))
    tr = mg.trace(y, [w], verbose=False)
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), tr.gradient(w))


def test_released_ancestor_is_a_leaf():
    w = mg.Variable(3.0, name="w")
    with mg.GradientTape() as t1:
        y = w * w
    t1.gradient(y, w)               # releases y's node
    with mg.GradientTape(persistent=True) as t2:
        t2.watch(y)
        z = y + 1.0
    tr = mg.trace(z, [y], verbose=False)
    assert len(tr) == 1 and float(tr.gradient(y)) == 1.0


def load_example():
    spec = importlib.util.spec_from_file_location("sigmoid_two_ways",
                                                  EXAMPLES / "sigmoid_two_ways.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigmoid_two_ways_same_gradient():
    ex = load_example()
    prim, v = ex.traced(ex.sigmoid_from_primitives, verbose=False)
    fused, v2 = ex.traced(mg.sigmoid, verbose=False)
    assert [s.type for s in prim][:4] == ["Reciprocal", "Add", "Exp", "Neg"]
    assert [s.type for s in fused][0] == "Sigmoid" and len(prim) == len(fused) + 3
    assert abs(prim.target_value - fused.target_value) <= 1e-15
    for k in v:
        assert abs(prim.gradient(v[k]) - fused.gradient(v2[k])) <= 1e-15, k
    expected = {"w0": -0.19661193, "x0": 0.39322387, "w1": -0.39322387, "x1": -0.58983580,
                "w2": 0.19661193}
    for k, g in expected.items():
        assert prim.gradient(v[k]) == pytest.approx(g, abs=1e-8)


def test_sigmoid_two_ways_on_a_range_of_inputs():
    ex = load_example()
    z = mg.constant(np.linspace(-8.0, 8.0, 33))
    grads = []
    for sigmoid in (ex.sigmoid_from_primitives, mg.sigmoid):
        with mg.GradientTape(persistent=True) as tape:
            tape.watch(z)
            y = sigmoid(z)
        grads.append(mg.trace(y, [z], verbose=False).gradient(z))
    # NOTE: absolute: the fused y * (1 - y) loses relative digits where y -> 1 (1 - y cancels)
    assert np.abs(grads[0] - grads[1]).max() <= 1e-15


def test_sigmoid_example_runs(capsys):
    load_example().main([])
    out = capsys.readouterr().out
    assert "8 nodes against 5" in out and "largest gradient difference" in out


# --- bad input -----------------------------------------------------------------------------
def test_constant_is_not_recorded():
    with pytest.raises(ValueError, match="not recorded on a GradientTape.*persistent=True"):
        mg.trace(mg.constant(1.0) * 2.0, verbose=False)


def test_variable_is_a_leaf():
    with pytest.raises(ValueError, match="'w:0'.*Variable, a leaf"):
        mg.trace(mg.Variable(1.0, name="w"), verbose=False)


def test_released_graph_says_how_to_keep_it():
    w = mg.Variable(2.0)
    with mg.GradientTape() as tape:
        y = w * w
    tape.gradient(y, w)
    with pytest.raises(ValueError, match=r"released.*GradientTape\(persistent=True\)"):
        mg.trace(y, verbose=False)


def test_used_tape_and_foreign_tape():
    w = mg.Variable(2.0)
    with mg.GradientTape() as tape:
        y = w * w
    with mg.GradientTape(persistent=True) as other:
        z = w + 1.0
    with pytest.raises(ValueError, match="not recorded on the given tape"):
        mg.trace(z, tape=tape, verbose=False)
    tape.gradient(y, w)
    with pytest.raises(ValueError, match="holds no recorded nodes.*persistent=True"):
        mg.trace(z, tape=tape, verbose=False)
    assert len(mg.trace(z, tape=other, verbose=False)) == 1


def test_wrong_types():
    tape, w, x, b, g, f = lecture()
    with pytest.raises(TypeError, match="target must be a Tensor"):
        mg.trace(np.ones(2), verbose=False)
    with pytest.raises(TypeError, match="sources must be Tensors"):
        mg.trace(f, [w, 3.0], verbose=False)
    with pytest.raises(TypeError, match="names must map labels to Tensors"):
        mg.trace(f, names={"g": 1.0}, verbose=False)
    with pytest.raises(KeyError, match="no node named 'Nope'"):
        mg.trace(f, verbose=False).step("Nope")
    with mg.GradientTape(persistent=True):
        i = mg.cast(w * 2.0, mg.int32)
    with pytest.raises(TypeError, match="integer"):
        mg.trace(i, verbose=False)
