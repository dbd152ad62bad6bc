"""The engine's state (per thread), the one backward walk, variables made inside mg.function,
and check_numerics."""
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad.core import backward, state


# --- state is per thread -----------------------------------------------------------------------
def test_a_tape_recording_in_one_thread_is_invisible_in_another():
    seen = {}
    started, done = threading.Event(), threading.Event()

    def other():
        started.wait()
        w = mg.Variable(2.0)
        seen["recording"] = mg.core.recording()
        seen["y"] = w * w              # no tape of this thread: nothing recorded
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with mg.GradientTape() as tape:
        started.set()
        done.wait(10)
    t.join()
    assert seen["recording"] is False
    assert seen["y"].op is None and tape.nodes == []


def test_name_scopes_are_per_thread():
    names = {}
    inside = threading.Event()

    def other():
        inside.wait()
        w = mg.Variable(1.0)
        with mg.GradientTape() as tape:
            w * 3.0
        names["other"] = tape.nodes[0].name

    t = threading.Thread(target=other)
    t.start()
    with mg.name_scope("mine"):
        inside.set()
        t.join()
    assert names["other"] == "Mul"


# --- one backward walk -------------------------------------------------------------------------
def test_tape_replay_and_trace_all_run_the_one_walk(monkeypatch):
    calls = []
    real = backward.run
    monkeypatch.setattr(backward, "run",
                        lambda steps, grads, **kw: calls.append(len(steps)) or real(
                            steps, grads, **kw))
    w = mg.Variable([1.0, 2.0])

    @mg.function
    def step(x):
        with mg.GradientTape() as tape:
            loss = mg.reduce_sum(w * x)
        return tape.gradient(loss, w)

    x = np.array([3.0, 4.0], np.float32)
    g_traced, g_replayed = step(x), step(x)          # eager walk at trace, then the replay
    with mg.GradientTape(persistent=True) as tape:
        f = mg.reduce_sum(w * w)
    mg.trace(f, [w], tape=tape, verbose=False)
    assert len(calls) >= 3
    np.testing.assert_array_equal(g_traced.numpy(), x)
    np.testing.assert_array_equal(g_replayed.numpy(), x)


# --- variables made inside mg.function ------------------------------------------------------------
def _dense_step(layer, opt):
    @mg.function
    def step(x, y):
        with mg.GradientTape() as tape:
            loss = mg.reduce_mean(mg.square(layer(x) - y))
        grads = tape.gradient(loss, layer.trainable_variables)
        opt.apply_gradients(zip(grads, layer.trainable_variables))
        return loss
    return step


def test_a_layer_first_called_inside_a_function_builds_once_and_trains():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    mg.random.set_seed(1)
    inside = mg.layers.Dense(2, dtype="float64")
    step = _dense_step(inside, mg.train.GradientDescentOptimizer(0.1))
    losses_inside = [float(step(x, y)) for _ in range(5)]

    mg.random.set_seed(1)
    outside = mg.layers.Dense(2, dtype="float64")
    outside(x)                                       # built eagerly: the same draws
    step_outside = _dense_step(outside, mg.train.GradientDescentOptimizer(0.1))
    losses_outside = [float(step_outside(x, y)) for _ in range(5)]
    assert len(inside.trainable_variables) == 2 and step.trace_count() == 1
    assert losses_inside == losses_outside
    assert losses_inside[-1] < losses_inside[0]


def test_an_rnn_cell_first_called_inside_a_function():
    cell = mg.nn.rnn_cell.BasicLSTMCell(4)

    @mg.function
    def run(x):
        out, _ = mg.nn.dynamic_rnn(cell, x, dtype=mg.float32)
        return out

    x = np.ones((2, 3, 5), np.float32)
    first, again = run(x), run(x)
    assert len(cell.trainable_variables) == 2
    np.testing.assert_array_equal(first.numpy(), again.numpy())


def test_a_variable_from_a_callable_inside_a_function():
    made = []

    @mg.function
    def f(x):
        if not made:
            made.append(mg.Variable(lambda: mg.random.normal([3], seed=5, dtype=mg.float64)))
        return x * made[0]

    a = f(np.ones(3))
    b = f(np.ones(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), made[0].numpy())


def test_a_variable_made_on_a_later_trace_is_refused():
    @mg.function
    def f(x):
        v = mg.Variable(np.zeros(x.shape, np.float32), name="late")
        return x + v

    f(np.ones(2, np.float32))
    with pytest.raises(ValueError, match="'late'.*later trace.*first call"):
        f(np.ones(3, np.float32))


def test_a_random_initial_value_computed_inside_a_function_is_refused_with_the_fix():
    @mg.function
    def f(x):
        return x + mg.Variable(mg.random.normal([2]))

    with pytest.raises(mg.core.function.TracingError, match="lambda"):
        f(np.ones(2, np.float32))


# --- check_numerics ------------------------------------------------------------------------------
def test_check_numerics_passes_finite_values_and_names_the_bad_one():
    x = mg.constant([1.0, 2.0])
    assert mg.debugging.check_numerics(x, "fine").numpy().tolist() == [1.0, 2.0]
    with pytest.raises(mg.errors.InvalidArgumentError,
                       match=r"logits : Tensor had NaN or Inf values: NaN at index \(0, 1\)"):
        mg.debugging.check_numerics(mg.constant([[1.0, np.nan], [np.inf, 0.0]]), "logits")


def test_check_numerics_checks_the_gradient_too():
    w = mg.Variable([1.0, 0.0])
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(mg.sqrt(mg.debugging.check_numerics(w, "w")))   # d sqrt at 0: inf
    with pytest.raises(mg.errors.InvalidArgumentError, match="detected in gradient. w"):
        tape.gradient(y, w)


@pytest.fixture
def numerics_on():
    mg.debugging.enable_check_numerics()
    yield
    mg.debugging.disable_check_numerics()


def test_enable_check_numerics_names_the_op_its_inputs_and_the_index(numerics_on):
    x = mg.constant([[1.0, 2.0, -3.0]])
    with pytest.raises(mg.errors.InvalidArgumentError) as err:
        mg.math.log(x)
    msg = str(err.value)
    assert "output 0 of Log" in msg and "float32[1, 3]" in msg and "index (0, 2)" in msg
    assert "1 NaN" in msg


def test_enable_check_numerics_checks_gradients(numerics_on):
    w = mg.Variable([4.0, 0.0])
    with mg.GradientTape() as tape:
        y = mg.reduce_sum(mg.sqrt(w))
    with pytest.raises(mg.errors.InvalidArgumentError, match="gradient that Sqrt"):
        tape.gradient(y, w)


def test_enable_check_numerics_covers_functions_traced_while_on(numerics_on):
    @mg.function
    def f(x):
        return mg.math.log(x)

    f(np.array([1.0, 2.0]))                                  # traced and checked
    with pytest.raises(mg.errors.InvalidArgumentError, match="Log"):
        f(np.array([1.0, -2.0]))                             # the replay checks too


def test_check_numerics_is_off_by_default_and_per_thread(numerics_on):
    out = {}

    def other():
        out["y"] = mg.math.log(mg.constant([-1.0])).numpy()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert np.isnan(out["y"]).all()
    mg.debugging.disable_check_numerics()
    assert np.isnan(mg.math.log(mg.constant([-1.0])).numpy()).all()


def test_gradients_are_freed_without_the_cycle_collector():
    import gc
    import weakref
    w = mg.Variable([1.0, 2.0])
    gc.disable()
    try:
        with mg.GradientTape() as tape:
            y = mg.reduce_sum(w * w)
        grads = tape.gradient(y, [w])
        ref = weakref.ref(grads[0])
        del grads
        assert ref() is None      # no reference cycle holds the step's gradients
    finally:
        gc.enable()
