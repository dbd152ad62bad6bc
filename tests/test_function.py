"""mg.function: a traced step replays with exactly the eager arithmetic."""
import numpy as np
import pytest

import minigrad as mg


def _model(dtype, opt_factory, seed=0):
    rng = np.random.default_rng(seed)
    ps = [mg.Variable(rng.standard_normal(s).astype(dtype))
          for s in [(3, 8), (8,), (8, 2), (2,)]]
    opt = opt_factory()

    def step(x, labels):
        with mg.GradientTape() as tape:
            h = mg.tanh(mg.matmul(x, ps[0]) + ps[1])
            logits = mg.matmul(h, ps[2]) + ps[3]
            loss = mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        opt.apply_gradients(zip(tape.gradient(loss, ps), ps))
        return loss
    return ps, step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", [lambda: mg.train.GradientDescentOptimizer(0.1),
                                 lambda: mg.train.AdamOptimizer(0.01),
                                 lambda: mg.train.RMSPropOptimizer(0.01)])
def test_replay_is_bit_identical_to_eager(dtype, opt):
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((5, 3)).astype(dtype), rng.integers(0, 2, 5))
               for _ in range(20)]
    ps_e, step_e = _model(dtype, opt)
    eager = [float(step_e(mg.constant(x), mg.constant(y))) for x, y in batches]
    ps_f, step_f = _model(dtype, opt)
    f = mg.function(step_f)
    traced = [float(f(x, y)) for x, y in batches]
    assert eager == traced
    for a, b in zip(ps_e, ps_f):
        assert np.array_equal(a.numpy(), b.numpy())
    assert f.trace_count() == 1


def test_new_shape_traces_again():
    w = mg.Variable(np.ones((2, 1)))
    f = mg.function(lambda x: mg.reduce_sum(mg.matmul(x, w)))
    assert float(f(np.ones((3, 2)))) == 6.0
    assert float(f(np.ones((5, 2)))) == 10.0
    assert float(f(2 * np.ones((5, 2)))) == 20.0     # replayed with the new values
    assert f.trace_count() == 2


def test_assign_inside_function_replays():
    v = mg.Variable(0.0)
    f = mg.function(lambda x: v.assign_add(x))
    for _ in range(3):
        f(np.float32(2.0) * np.ones((), np.float32))
    assert float(v.numpy()) == 6.0


def test_random_draw_inside_function_is_refused():
    f = mg.function(lambda x: x * mg.random.uniform((2,)))
    with pytest.raises(RuntimeError, match="random"):
        f(np.ones(2, np.float32))


def test_constant_of_an_argument_is_refused():
    f = mg.function(lambda x: mg.constant(x) * 2)
    with pytest.raises(RuntimeError, match="freeze"):
        f(np.ones(2, np.float32))


def test_retracing_on_python_values_warns():
    f = mg.function(lambda x, k: x * k)
    with pytest.warns(UserWarning, match="traced 5 times"):
        for k in range(6):
            f(np.ones(2, np.float32), float(k))
