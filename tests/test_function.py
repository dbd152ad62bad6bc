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


# --- the decks' convolutional models (their parity cases run the TF1 program through a
# Session's plan, always traced; here minigrad's own eager step against its mg.function replay)
def _conv_step(dtype, kind, seed=0):
    """kind "mnist_cnn": conv 5x5 SAME + bias, relu, max_pool 2x2 twice, dense relu, dense,
    softmax cross-entropy, RMSProp (deck 000's MNIST CNN, 8 images); "text_cnn": embedding,
    VALID convs of heights 2, 3, 4, max-over-time, concat, a fed dropout mask, dense, sparse
    softmax cross-entropy, Adam(beta1=0.5) (its text CNN, 6 sentences of 9 tokens)."""
    rng = np.random.default_rng(seed)
    V = lambda *s: mg.Variable((0.1 * rng.standard_normal(s)).astype(dtype))  # noqa: E731
    if kind == "mnist_cnn":
        ps = [V(5, 5, 1, 4), V(4), V(5, 5, 4, 8), V(8), V(7 * 7 * 8, 16), V(16), V(16, 10),
              V(10)]
        opt = mg.train.RMSPropOptimizer(0.01)

        def loss(x, y):
            h = mg.reshape(x, [-1, 28, 28, 1])
            for w, b in zip(ps[0:4:2], ps[1:4:2]):
                h = mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(h, w, [1, 1, 1, 1], "SAME"), b))
                h = mg.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
            h = mg.nn.relu(mg.matmul(mg.reshape(h, [-1, 7 * 7 * 8]), ps[4]) + ps[5])
            return mg.reduce_mean(mg.nn.softmax_cross_entropy_with_logits(
                labels=y, logits=mg.matmul(h, ps[6]) + ps[7]))
        batches = [(rng.random((8, 784)).astype(dtype),
                    np.eye(10, dtype=dtype)[rng.integers(0, 10, 8)]) for _ in range(4)]
    else:
        ps = [V(30, 6)] + [p for fs in (2, 3, 4) for p in (V(fs, 6, 1, 5), V(5))] + \
            [V(15, 2), V(2)]
        opt = mg.train.AdamOptimizer(0.01, beta1=0.5)

        def loss(ids, y, mask):
            e = mg.expand_dims(mg.nn.embedding_lookup(ps[0], ids), -1)
            pooled = [mg.nn.max_pool(mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(
                e, w, [1, 1, 1, 1], "VALID"), b)), [1, 10 - fs, 1, 1], [1, 1, 1, 1], "VALID")
                for fs, w, b in zip((2, 3, 4), ps[1:7:2], ps[2:7:2])]
            h = mg.where(mask, mg.reshape(mg.concat(pooled, 3), [-1, 15]) * 2.0, 0.0)
            return mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=mg.matmul(h, ps[7]) + ps[8]))
        batches = [(rng.integers(0, 30, (6, 9)), rng.integers(0, 2, 6),
                    rng.random((6, 15)) < 0.5) for _ in range(4)]

    def step(*batch):
        return opt.minimize(lambda: loss(*batch), ps)
    return ps, step, batches


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["mnist_cnn", "text_cnn"])
def test_conv_models_replay_bit_identical_to_eager(kind, dtype):
    ps_e, step_e, batches = _conv_step(dtype, kind)
    eager = [np.asarray(step_e(*map(mg.constant, b))) for b in batches]
    ps_f, step_f, _ = _conv_step(dtype, kind)
    f = mg.function(step_f)
    traced = [np.asarray(f(*b)) for b in batches]
    assert all(np.isfinite(a) for a in eager)
    assert all(np.array_equal(a, b) for a, b in zip(eager, traced)), (eager, traced)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(ps_e, ps_f))
    assert f.trace_count() == 1


# --- the deck's recurrent models (their parity cases run the TF1 program through a Session's
# plan, always traced; here minigrad's own eager step against its mg.function replay) ----------
def _rnn_step(dtype, kind, seed=0):
    """kind "stacked": 2 x BasicLSTMCell(8) on one-hot windows, dense logits, sequence_loss
    (deck 002's stacked char-RNN); "cells": BasicRNNCell, BasicLSTMCell (ragged lengths, a zero
    initial state) and GRUCell fitted to targets (its RNN basics)."""
    rng = np.random.default_rng(seed)
    cell = mg.nn.rnn_cell
    if kind == "stacked":
        ids = rng.integers(0, 6, (4, 5))
        x, y = mg.constant(np.eye(6, dtype=dtype)[ids]), mg.constant(np.roll(ids, -1, 1))
        stack = cell.MultiRNNCell([cell.BasicLSTMCell(8), cell.BasicLSTMCell(8)])
        fc = mg.layers.Dense(6)

        def loss():
            outputs, _ = mg.nn.dynamic_rnn(stack, x, dtype=dtype)
            logits = mg.reshape(fc(mg.reshape(outputs, [-1, 8])), [4, 5, 6])
            return mg.seq2seq.sequence_loss(logits, y, mg.ones([4, 5], dtype=dtype))
    else:
        x = mg.constant(rng.standard_normal((3, 5, 4)).astype(dtype))
        cells = [cell.BasicRNNCell(3), cell.BasicLSTMCell(3), cell.GRUCell(3)]
        targets = mg.constant(rng.uniform(-0.5, 0.5, (3, 5, 3)).astype(dtype))

        def loss():
            terms = []
            for c in cells:
                lstm = isinstance(c, cell.BasicLSTMCell)
                outputs, _ = mg.nn.dynamic_rnn(
                    c, x, sequence_length=[5, 3, 4] if lstm else None, dtype=dtype,
                    initial_state=c.zero_state(3, dtype) if lstm else None)
                terms.append(mg.reduce_mean(mg.square(outputs - targets)))
            return terms[0] + terms[1] + terms[2]
    loss()                                   # the cells' variables, drawn from mg.random
    opt = mg.train.AdamOptimizer(0.1)

    def step():
        return opt.minimize(loss)
    return step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["stacked", "cells"])
def test_rnn_models_replay_bit_identical_to_eager(kind, dtype):
    mg.random.set_seed(0)
    eager_step = _rnn_step(dtype, kind)
    mg.random.set_seed(0)
    traced_step = mg.function(_rnn_step(dtype, kind))
    eager = [np.asarray(eager_step()) for _ in range(4)]
    traced = [np.asarray(traced_step()) for _ in range(4)]
    assert all(a.shape == () and np.isfinite(a) for a in eager)
    assert all(np.array_equal(a, b) for a, b in zip(eager, traced)), (eager, traced)
