"""conv2d, max_pool2d, avg_pool2d and pad: the fused ops against their composite twins
(forward and gradients, float64, 1e-12), TF's argument conventions, and bad input.

The comparisons against TensorFlow and the gradchecks are table-driven
(minigrad/testing/optable_conv.py, run by tests/test_ops.py).
"""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.conv import avg_pool_composite, conv2d_composite, max_pool_composite
from minigrad.ops.conv import pad


def _grads(fn, arrays, ct_seed=1):
    """fn(*tensors) and the gradients of <ct, fn> for every input, as arrays."""
    xs = [mg.constant(a) for a in arrays]
    with mg.GradientTape() as tape:
        tape.watch(xs)
        y = fn(*xs)
    ct = np.random.default_rng(ct_seed).uniform(-1.5, 1.5, y.shape)
    return [y.numpy()] + [g.numpy() for g in tape.gradient(y, xs, output_gradients=ct)]


def _assert_twins(fused, composite, arrays):
    for a, b in zip(_grads(fused, arrays), _grads(composite, arrays)):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# (x shape, filters shape, strides, padding, dilations)
CONV_TWINS = [
    ((2, 7, 8, 3), (3, 2, 3, 4), 1, "SAME", 1),
    ((1, 9, 9, 1), (5, 5, 1, 8), 2, "SAME", 1),
    ((3, 10, 7, 2), (3, 3, 2, 5), [1, 3, 2, 1], "VALID", 1),
    ((2, 6, 6, 4), (2, 3, 4, 3), 2, [[0, 0], [1, 2], [0, 3], [0, 0]], 1),
    ((2, 9, 9, 2), (3, 3, 2, 3), 1, "SAME", 2),
    ((1, 11, 10, 1), (2, 3, 1, 2), 2, "SAME", [1, 2, 3, 1]),
    ((1, 3, 3, 2), (5, 5, 2, 2), 1, "SAME", 1),
]


@pytest.mark.parametrize("xs,ws,s,p,d", CONV_TWINS, ids=[str(c) for c in CONV_TWINS])
def test_conv2d_matches_its_composite_twin(xs, ws, s, p, d):
    rng = np.random.default_rng(0)
    _assert_twins(lambda x, w: mg.nn.conv2d(x, w, s, p, dilations=d),
                  lambda x, w: conv2d_composite(x, w, s, p, dilations=d),
                  [rng.standard_normal(xs), rng.standard_normal(ws)])


# (x shape, ksize, strides, padding)
POOL_TWINS = [
    ((2, 4, 4, 3), 2, 2, "SAME"),
    ((1, 7, 7, 2), 2, 2, "SAME"),
    ((3, 6, 9, 4), 3, 2, "SAME"),
    ((2, 8, 8, 1), 3, 1, "SAME"),
    ((2, 9, 7, 3), [1, 3, 2, 1], [1, 2, 3, 1], "VALID"),
    ((1, 5, 5, 2), [2, 3], 1, "SAME"),
]


@pytest.mark.parametrize("xs,k,s,p", POOL_TWINS, ids=[str(c) for c in POOL_TWINS])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_max_pool_matches_its_composite_twin(xs, k, s, p, ties):
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 2, xs).astype(np.float64) if ties else rng.standard_normal(xs)
    _assert_twins(lambda t: mg.nn.max_pool2d(t, k, s, p),
                  lambda t: max_pool_composite(t, k, s, p), [x])


def test_max_pool_explicit_padding_matches_its_composite_twin():
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)) - 3.0   # all negative: pads lose
    p = [[0, 0], [1, 1], [0, 2], [0, 0]]
    _assert_twins(lambda t: mg.nn.max_pool2d(t, 3, 2, p),
                  lambda t: max_pool_composite(t, 3, 2, p), [x])


@pytest.mark.parametrize("xs,k,s,p", POOL_TWINS, ids=[str(c) for c in POOL_TWINS])
def test_avg_pool_matches_its_composite_twin(xs, k, s, p):
    x = np.random.default_rng(0).standard_normal(xs)
    _assert_twins(lambda t: mg.nn.avg_pool2d(t, k, s, p),
                  lambda t: avg_pool_composite(t, k, s, p), [x])


def test_max_pool_gives_a_tied_window_to_its_first_maximum():
    x = mg.constant(np.array([[1.0, 3.0], [3.0, 3.0]])[None, :, :, None])
    with mg.GradientTape() as tape:
        tape.watch(x)
        y = mg.nn.max_pool(x, 2, 2, "VALID")
    assert tape.gradient(y, x).numpy()[0, :, :, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_aliases_and_float32():
    assert mg.nn.max_pool is mg.nn.max_pool2d and mg.nn.avg_pool is mg.nn.avg_pool2d
    x = mg.ones((1, 4, 4, 2))
    assert mg.nn.conv2d(x, mg.ones((3, 3, 2, 5)), 1, "SAME").dtype == mg.float32
    assert mg.nn.max_pool(x, 2, 2, "SAME").dtype == mg.float32
    assert mg.nn.avg_pool(x, 2, 2, "SAME").dtype == mg.float32


def test_conv2d_first_layer_skips_the_input_gradient():
    """With only the filters watched, the backward pass computes no input gradient."""
    x, w = mg.constant(np.ones((2, 5, 5, 1))), mg.Variable(np.ones((3, 3, 1, 2)))
    with mg.GradientTape() as tape:
        y = mg.nn.conv2d(x, w, 1, "SAME")
    assert tape.gradient(y, w).shape == (3, 3, 1, 2)


def _two_convs(x, w1, w2):
    """Two conv layers of one geometry (x and w2 both 5 channels): same-sized patches."""
    h = mg.nn.conv2d(x, w1, 1, "SAME")
    return mg.reduce_sum(mg.nn.conv2d(mg.nn.relu(h), w2, 1, "SAME") * h)


def _conv_data(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in ((2, 6, 7, 5), (3, 3, 5, 5), (3, 3, 5, 5))]


def _conv_ops(y):
    """The Conv2D nodes on the path to y, output first."""
    ops, todo = [], [y]
    while todo:
        node = todo.pop()._node
        if node is not None and all(node is not op for op in ops):
            ops.append(node)
            todo += list(node.inputs)
    return [op for op in ops if op.type == "Conv2D"]


def test_conv2d_patches_are_held_by_the_op_and_freed_by_a_non_persistent_tape():
    x, w1, w2 = (mg.Variable(a) for a in _conv_data(0))
    with mg.GradientTape() as tape:
        y = _two_convs(x, w1, w2)
    ops = _conv_ops(y)
    assert len(ops) == 2 and all(op.patches is not None for op in ops)
    # two live convs of one geometry: separate storage, neither overwrites the other
    assert not np.shares_memory(ops[0].patches.store, ops[1].patches.store)
    refs = [weakref.ref(op.patches.store) for op in ops]
    tape.gradient(y, [x, w1, w2])
    assert all(op.patches is None for op in ops)
    gc.collect()
    assert all(r() is None for r in refs)


def test_conv2d_two_layers_persistent_tape_and_replay_match_the_composite():
    """Patches held across two gradients of a persistent tape, and across mg.function's
    replays (forward again on the same ops), give the composite twin's gradients each time."""
    def grads(xs, conv=_two_convs, persistent=False):
        with mg.GradientTape(persistent=persistent) as tape:
            tape.watch(xs)
            y = conv(*xs)
        return [y] + [g for _ in range(2 if persistent else 1) for g in tape.gradient(y, xs)]

    def composite(x, w1, w2):
        h = conv2d_composite(x, w1, 1, "SAME")
        return mg.reduce_sum(conv2d_composite(mg.nn.relu(h), w2, 1, "SAME") * h)

    replay = mg.function(lambda *xs: grads(list(xs)))
    for seed in range(3):
        arrays = _conv_data(seed)
        want = [t.numpy() for t in grads([mg.constant(a) for a in arrays], composite)]
        got = [t.numpy() for t in grads([mg.constant(a) for a in arrays], persistent=True)]
        for a, b in zip(got, want + want[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        for a, b in zip(replay(*arrays), got):       # seed 0 traces, 1 and 2 replay
            assert np.array_equal(a.numpy(), b)


def test_window_larger_than_input_gives_an_empty_output_as_tf():
    x = mg.ones((1, 4, 4, 1))
    assert mg.nn.conv2d(x, mg.ones((5, 5, 1, 2)), 1, "VALID").shape == (1, 0, 0, 2)
    assert mg.nn.max_pool2d(x, 5, 1, "VALID").shape == (1, 0, 0, 1)


def test_pad_forward_and_gradient():
    x = mg.constant(np.arange(6.0).reshape(2, 3))
    with mg.GradientTape() as tape:
        tape.watch(x)
        y = pad(x, [[1, 0], [0, 2]], constant_values=-1.0)
    assert y.numpy().tolist() == [[-1, -1, -1, -1, -1], [0, 1, 2, -1, -1], [3, 4, 5, -1, -1]]
    assert tape.gradient(y, x).numpy().tolist() == [[1.0] * 3] * 2


# --- bad input: ValueError naming the op and the shapes --------------------------------------
X, W = mg.ones((2, 8, 8, 3)), mg.ones((3, 3, 3, 4))


def test_conv2d_channel_mismatch():
    with pytest.raises(ValueError, match=r"conv2d: input channels 3 .* filters' input channels "
                                         r"2 .*\(2, 8, 8, 3\).*\(3, 3, 2, 4\)"):
        mg.nn.conv2d(X, mg.ones((3, 3, 2, 4)), 1, "SAME")


@pytest.mark.parametrize("strides", [[1, 2, 2], [1, 2, 2, 1, 1], []])
def test_conv2d_strides_of_the_wrong_length(strides):
    with pytest.raises(ValueError, match=r"conv2d: strides .* length 1, 2 or 4.*\(2, 8, 8, 3\)"
                                         r".*\(3, 3, 3, 4\)"):
        mg.nn.conv2d(X, W, strides, "SAME")


@pytest.mark.parametrize("strides", [[2, 1, 1, 1], [1, 1, 1, 2]])
def test_conv2d_strides_in_batch_or_channels(strides):
    with pytest.raises(ValueError, match=r"conv2d: strides .* batch and channel.*"
                                         r"\(2, 8, 8, 3\)"):
        mg.nn.conv2d(X, W, strides, "SAME")


def test_conv2d_dilations_in_batch_or_channels():
    with pytest.raises(ValueError, match=r"conv2d: dilations .* batch and channel"):
        mg.nn.conv2d(X, W, 1, "SAME", dilations=[2, 1, 1, 1])


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("arg,value,why", [
    ("ksize", [2, 2, 2], "length 1, 2 or 4"), ("ksize", [1, 2, 2, 2], "batch and channel"),
    ("ksize", [2, 2, 2, 1], "batch and channel"), ("strides", [1, 2, 2, 1, 1], "length 1, 2 or 4"),
    ("strides", [2, 2, 2, 1], "batch and channel")])
def test_pool_ksize_and_strides(op, arg, value, why):
    kwargs = dict(ksize=2, strides=2, padding="SAME")
    kwargs[arg] = value
    with pytest.raises(ValueError, match=rf"{op}: {arg} .*{why}.*\(2, 8, 8, 3\)"):
        getattr(mg.nn, op)(X, **kwargs)


@pytest.mark.parametrize("call", [
    lambda p: mg.nn.conv2d(X, W, 1, p), lambda p: mg.nn.max_pool2d(X, 2, 2, p),
    lambda p: mg.nn.avg_pool2d(X, 2, 2, p)], ids=["conv2d", "max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("padding", ["same", "FULL", ""])
def test_unknown_padding_string(call, padding):
    with pytest.raises(ValueError, match=r"(conv2d|pool2d): unknown padding .*\(2, 8, 8, 3\)"):
        call(padding)


@pytest.mark.parametrize("padding", [[[1, 1], [1, 1]], [[0, 0], [1, 1], [1, 1], [1, 0]],
                                     [[0, 0], [-1, 1], [1, 1], [0, 0]]])
def test_conv2d_bad_explicit_padding(padding):
    with pytest.raises(ValueError, match=r"conv2d: padding .*\(2, 8, 8, 3\)"):
        mg.nn.conv2d(X, W, 1, padding)


def test_avg_pool_takes_no_explicit_padding_and_max_pool_pads_below_the_window():
    with pytest.raises(ValueError, match=r"avg_pool2d: padding"):
        mg.nn.avg_pool2d(X, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match=r"max_pool2d: explicit padding \[2, 2\] .* window "
                                         r"size 2"):
        mg.nn.max_pool2d(X, 2, 2, [[0, 0], [2, 2], [0, 0], [0, 0]])


@pytest.mark.parametrize("shape", [(8, 8, 3), (2, 1, 8, 8, 3), ()])
def test_non_4d_input(shape):
    x = mg.ones(shape)
    with pytest.raises(ValueError, match=rf"conv2d: input must be 4-D.*{re_shape(shape)}"):
        mg.nn.conv2d(x, W, 1, "SAME")
    with pytest.raises(ValueError, match=rf"max_pool2d: input must be 4-D.*{re_shape(shape)}"):
        mg.nn.max_pool2d(x, 2, 2, "SAME")
    with pytest.raises(ValueError, match=rf"avg_pool2d: input must be 4-D.*{re_shape(shape)}"):
        mg.nn.avg_pool2d(x, 2, 2, "SAME")


def test_non_4d_filters():
    with pytest.raises(ValueError, match=r"conv2d: filters must be 4-D.*\(3, 3, 3\)"):
        mg.nn.conv2d(X, mg.ones((3, 3, 3)), 1, "SAME")


def test_window_that_does_not_fit():
    with pytest.raises(ValueError, match=r"conv2d: the height window .* output size would be "
                                         r"-\d.*\(2, 8, 8, 3\).*\(10, 3, 3, 4\)"):
        mg.nn.conv2d(X, mg.ones((10, 3, 3, 4)), 1, "VALID")


def test_nchw_is_refused():
    with pytest.raises(ValueError, match=r"conv2d: data_format 'NCHW'"):
        mg.nn.conv2d(X, W, 1, "SAME", data_format="NCHW")


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match=r"conv2d"):
        mg.nn.conv2d(mg.ones((1, 4, 4, 1), dtype=mg.int32), mg.ones((2, 2, 1, 1), mg.int32), 1,
                     "SAME")


def test_pad_bad_paddings():
    with pytest.raises(ValueError, match=r"pad: paddings .* \[2, 2\] .*\(2, 3\)"):
        pad(mg.ones((2, 3)), [[1, 1]])
    with pytest.raises(ValueError, match=r"pad: paddings"):
        pad(mg.ones((2, 3)), [[1, -1], [0, 0]])


def re_shape(shape):
    import re
    return re.escape(str(tuple(shape)))


# --- dropout (mg.nn.dropout, composed as TF composes it) ---------------------------------------
def test_dropout_scales_kept_units_and_zeros_the_rest():
    x = mg.constant(np.ones((200, 50)))
    y = mg.nn.dropout(x, rate=0.3, seed=1).numpy()
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.7) and abs(kept.mean() - 0.7) < 0.02


def test_dropout_keep_prob_seed_and_gradient():
    from minigrad.nn.dropout import keep_mask
    x = mg.constant(np.random.default_rng(0).standard_normal((4, 6)))
    with mg.GradientTape() as tape:
        tape.watch(x)
        y = mg.nn.dropout(x, keep_prob=0.5, seed=7)
    mask = keep_mask((4, 6), 0.5, seed=7, dtype=np.float64)
    assert np.array_equal(y.numpy(), np.where(mask, x.numpy() * 2.0, 0.0))
    assert np.array_equal(tape.gradient(y, x).numpy(), np.where(mask, 2.0, 0.0))


def test_dropout_noise_shape_drops_whole_rows():
    y = mg.nn.dropout(mg.ones((8, 5)), rate=0.5, seed=3, noise_shape=[8, 1]).numpy()
    assert all(len(set(row)) == 1 for row in y)


def test_dropout_rate_zero_is_identity_and_bad_rates_are_errors():
    x = mg.ones((2, 3))
    assert mg.nn.dropout(x, rate=0.0) is x
    for kwargs in (dict(rate=1.0), dict(rate=-0.1), dict(), dict(rate=0.5, keep_prob=0.5)):
        with pytest.raises(ValueError, match="dropout"):
            mg.nn.dropout(x, **kwargs)
    with pytest.raises(ValueError, match=r"dropout: noise_shape \[3, 1\] .* \(2, 3\)"):
        mg.nn.dropout(x, rate=0.5, noise_shape=[3, 1])
