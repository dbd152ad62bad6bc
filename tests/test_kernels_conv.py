"""Conv and pooling kernels against naive numpy references, adjoints, finite differences and TF.

The references loop over output positions over explicitly padded inputs: slow and obviously
right. Every kernel is checked in float32 and float64 over a seeded grid of shapes (batch 1-3,
odd and even sizes 1..9, kernels 1..5, strides 1..3, dilation 1..2, SAME/VALID/explicit pads),
by both conv methods: im2col + BLAS and the direct kernels (minigrad.kernels.conv_direct),
which are also checked against each other, their composite twin, on the lecture's layers.
"""
import os

import numpy as np
import pytest

from minigrad.kernels import _threads, conv, conv_direct, pool

DTYPES = [np.float32, np.float64]
METHODS = ["im2col", "direct"]
TOL = {np.float32: 1e-5, np.float64: 1e-12}


# ---------------------------------------------------------------------------------------------
# References

def ref_pad(x, pads, value):
    (pt, pb), (pl, pr) = pads
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def ref_windows(x_shape, k, strides, dilations, pads):
    """For each output (oy, ox): the slices of the PADDED input its window reads."""
    (kh, kw), (sh, sw), (dh, dw) = k, strides, dilations
    hp = x_shape[1] + sum(pads[0])
    wp = x_shape[2] + sum(pads[1])
    oh = (hp - (kh - 1) * dh - 1) // sh + 1
    ow = (wp - (kw - 1) * dw - 1) // sw + 1
    for oy in range(oh):
        for ox in range(ow):
            rows = slice(oy * sh, oy * sh + (kh - 1) * dh + 1, dh)
            cols = slice(ox * sw, ox * sw + (kw - 1) * dw + 1, dw)
            yield oy, ox, rows, cols


def ref_out_shape(x_shape, k, strides, dilations, pads, c):
    wins = list(ref_windows(x_shape, k, strides, dilations, pads))
    oh = max(oy for oy, _, _, _ in wins) + 1
    ow = max(ox for _, ox, _, _ in wins) + 1
    return (x_shape[0], oh, ow, c)


def ref_conv(x, w, strides, dilations, pads):
    xp = ref_pad(x, pads, 0)
    y = np.zeros(ref_out_shape(x.shape, w.shape[:2], strides, dilations, pads, w.shape[3]))
    for oy, ox, rows, cols in ref_windows(x.shape, w.shape[:2], strides, dilations, pads):
        y[:, oy, ox, :] = np.einsum("nijc,ijco->no", xp[:, rows, cols, :], w)
    return y


def ref_conv_backward_input(gy, w, x_shape, strides, dilations, pads):
    gxp = np.zeros(ref_pad(np.zeros(x_shape), pads, 0).shape)
    for oy, ox, rows, cols in ref_windows(x_shape, w.shape[:2], strides, dilations, pads):
        gxp[:, rows, cols, :] += np.einsum("no,ijco->nijc", gy[:, oy, ox, :], w)
    (pt, _), (pl, _) = pads
    return gxp[:, pt:pt + x_shape[1], pl:pl + x_shape[2], :]


def ref_conv_backward_filter(x, gy, w_shape, strides, dilations, pads):
    xp = ref_pad(x, pads, 0)
    gw = np.zeros(w_shape)
    for oy, ox, rows, cols in ref_windows(x.shape, w_shape[:2], strides, dilations, pads):
        gw += np.einsum("nijc,no->ijco", xp[:, rows, cols, :], gy[:, oy, ox, :])
    return gw


def ref_max_pool(x, k, strides, pads):
    """y and the unpadded flat index of the FIRST max of each window (row-major scan)."""
    n, h, w, c = x.shape
    xp = ref_pad(x, pads, -np.inf)
    iy, ix = np.meshgrid(np.arange(h + sum(pads[0])) - pads[0][0],
                         np.arange(w + sum(pads[1])) - pads[1][0], indexing="ij")
    pos = iy * w + ix
    shape = ref_out_shape(x.shape, k, strides, (1, 1), pads, c)
    y, am = np.zeros(shape), np.zeros(shape, np.int64)
    for oy, ox, rows, cols in ref_windows(x.shape, k, strides, (1, 1), pads):
        win = xp[:, rows, cols, :].reshape(n, -1, c)
        first = np.argmax(win, axis=1)  # np.argmax returns the first occurrence
        y[:, oy, ox, :] = np.take_along_axis(win, first[:, None, :], 1)[:, 0, :]
        am[:, oy, ox, :] = pos[rows, cols].reshape(-1)[first]
    return y, am


def ref_max_pool_backward(gy, argmax, x_shape):
    n, h, w, c = x_shape
    gx = np.zeros((n, h * w, c))
    for b in range(n):
        for oy in range(gy.shape[1]):
            for ox in range(gy.shape[2]):
                for ch in range(c):
                    gx[b, argmax[b, oy, ox, ch], ch] += gy[b, oy, ox, ch]
    return gx.reshape(x_shape)


def ref_avg_pool(x, k, strides, pads):
    xp, ones = ref_pad(x, pads, 0), ref_pad(np.ones_like(x), pads, 0)
    y = np.zeros(ref_out_shape(x.shape, k, strides, (1, 1), pads, x.shape[3]))
    for oy, ox, rows, cols in ref_windows(x.shape, k, strides, (1, 1), pads):
        count = ones[:, rows, cols, :].sum(axis=(1, 2))
        y[:, oy, ox, :] = xp[:, rows, cols, :].sum(axis=(1, 2)) / count
    return y


def ref_avg_pool_backward(gy, x_shape, k, strides, pads):
    ones = ref_pad(np.ones(x_shape), pads, 0)
    gxp = np.zeros(ones.shape)
    for oy, ox, rows, cols in ref_windows(x_shape, k, strides, (1, 1), pads):
        count = ones[:, rows, cols, :].sum(axis=(1, 2))
        gxp[:, rows, cols, :] += (gy[:, oy, ox, :] / count)[:, None, None, :]
    (pt, _), (pl, _) = pads
    return gxp[:, pt:pt + x_shape[1], pl:pl + x_shape[2], :]


# ---------------------------------------------------------------------------------------------
# The grid

def _pads(h, w, k, strides, dilations, padding):
    """((pt, pb), (pl, pr)) from conv_output_size, or None when the window does not fit."""
    oh, pt, pb = conv.conv_output_size(h, k[0], strides[0], dilations[0], padding[0])
    ow, pl, pr = conv.conv_output_size(w, k[1], strides[1], dilations[1], padding[1])
    return None if oh <= 0 or ow <= 0 else ((pt, pb), (pl, pr))


def _grid(seed, count, dilation):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        n, h, w = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 10), rng.integers(1, 10)))
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2)) if dilation else (1, 1)
        kind = ["SAME", "VALID", "explicit"][len(cases) % 3]
        if kind == "explicit":
            padding = [tuple(int(v) for v in rng.integers(0, k[i] + 1, 2)) for i in range(2)]
        else:
            padding = [kind, kind]
        pads = _pads(h, w, k, s, d, padding)
        if pads is not None:
            cases.append((n, h, w, k, s, d, pads))
    return cases


CONV_CASES = _grid(0, 60, dilation=True) + [
    # asymmetric SAME pads (extra row/column after), cin == 1 with strides, 1x1 and big pads
    (2, 8, 8, (4, 4), (1, 1), (1, 1), ((1, 2), (1, 2))),
    (1, 9, 6, (2, 5), (2, 3), (1, 1), ((0, 1), (1, 2))),
    (3, 9, 9, (5, 5), (1, 1), (2, 2), ((4, 4), (4, 4))),
    (2, 7, 5, (3, 3), (3, 2), (1, 1), ((5, 0), (0, 4))),
    (1, 1, 1, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0))),
    (2, 6, 7, (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))),
]
POOL_CASES = [c[:5] + (c[6],) for c in _grid(1, 40, dilation=False)
              if all(p < k for p, k in zip((max(c[6][0]), max(c[6][1])), c[3]))] + [
    (2, 8, 8, (2, 2), (2, 2), ((0, 0), (0, 0))),
    (1, 7, 7, (2, 2), (2, 2), ((0, 1), (0, 1))),
    (2, 6, 5, (3, 3), (1, 1), ((1, 1), (1, 1))),
    (1, 9, 8, (4, 3), (3, 2), ((1, 2), (0, 1))),
]


def _case_id(case):
    return "-".join(str(v).replace(" ", "") for v in case)


def _data(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def assert_close(got, want, dtype, what=""):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == dtype, f"{what}: dtype {got.dtype} != {dtype}"
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    err = np.abs(got.astype(np.float64) - want)
    if err.size and err.max() > TOL[dtype] * scale:
        where = np.unravel_index(np.argmax(err), err.shape)
        raise AssertionError(f"{what}: max error {err.max():.3g} at {where} (scale {scale:.3g})")


def assert_same_inner_product(gy, y, gx, x):
    """<gy, y> == <gx, x> to 1e-12 of the sum of the terms' magnitudes."""
    lhs, rhs = np.sum(gy * y), np.sum(gx * x)
    assert abs(lhs - rhs) <= 1e-12 * max(np.abs(gy * y).sum(), 1e-300), (lhs, rhs)


# ---------------------------------------------------------------------------------------------
# Tests

@pytest.mark.parametrize("in_size,k,stride,dilation,padding,want", [
    (28, 5, 1, 1, "SAME", (28, 2, 2)),
    (8, 4, 1, 1, "SAME", (8, 1, 2)),      # odd pad_total: the extra goes after
    (7, 3, 2, 1, "SAME", (4, 1, 1)),
    (6, 3, 2, 1, "SAME", (3, 0, 1)),
    (5, 1, 3, 1, "SAME", (2, 0, 0)),
    (9, 3, 1, 2, "SAME", (9, 2, 2)),
    (2, 5, 1, 1, "SAME", (2, 2, 2)),
    (7, 3, 2, 1, "VALID", (3, 0, 0)),
    (8, 3, 1, 2, "VALID", (4, 0, 0)),
    (4, 5, 1, 1, "VALID", (0, 0, 0)),     # does not fit: the op layer rejects <= 0
    (7, 3, 2, 1, (1, 2), (4, 1, 2)),
    (5, 2, 3, 1, (0, 0), (2, 0, 0)),
])
def test_conv_output_size(in_size, k, stride, dilation, padding, want):
    got = conv.conv_output_size(in_size, k, stride, dilation, padding)
    assert (got[0] <= 0 and want[0] <= 0) or got == want


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_conv2d_matches_reference(case, dtype, method):
    n, h, w, k, s, d, pads = case
    rng = np.random.default_rng(hash(case) % 2**32)
    cin, cout = (int(v) for v in rng.integers(1, 5, 2))
    if method == "direct":   # also whole and partial 8-lane blocks of channels
        cin, cout = cin + 8 * int(rng.integers(0, 2)), cout + 4 * int(rng.integers(0, 4))
    x = _data(rng, (n, h, w, cin), dtype)
    wt = _data(rng, k + (cin, cout), dtype)
    y, patches = conv.conv2d_forward(x, wt, s, d, pads, method=method)
    assert_close(y, ref_conv(x.astype(np.float64), wt, s, d, pads), dtype, "forward")
    gy = _data(rng, y.shape, dtype)
    gx = conv.conv2d_backward_input(gy, wt, x.shape, s, d, pads, method=method)
    assert_close(gx, ref_conv_backward_input(gy.astype(np.float64), wt, x.shape, s, d, pads),
                 dtype, "backward_input")
    gw = conv.conv2d_backward_filter(x, gy, wt.shape, s, d, pads, patches=patches)
    assert_close(gw, ref_conv_backward_filter(x.astype(np.float64), gy, wt.shape, s, d, pads),
                 dtype, "backward_filter")
    # without the forward's patches (a kernel-level call) they are rebuilt: the same bits
    assert np.array_equal(conv.conv2d_backward_filter(x, gy, wt.shape, s, d, pads,
                                                      method=method), gw)


@pytest.mark.parametrize("layout", [True, False])
@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[2] > 1][::4], ids=_case_id)
def test_conv2d_both_patch_layouts_cin1(case, layout, monkeypatch):
    """cin == 1 builds cols or its transpose by run length: force each on the same inputs."""
    monkeypatch.setattr(conv, "_transposed", lambda x_shape, w_shape, ow: layout)
    n, h, w, k, s, d, pads = case
    rng = np.random.default_rng(17)
    x, wt = _data(rng, (n, h, w, 1), np.float64), _data(rng, k + (1, 3), np.float64)
    y, patches = conv.conv2d_forward(x, wt, s, d, pads, method="im2col")
    assert_close(y, ref_conv(x, wt, s, d, pads), np.float64, "forward")
    gy = _data(rng, y.shape, np.float64)
    assert_close(conv.conv2d_backward_input(gy, wt, x.shape, s, d, pads, method="im2col"),
                 ref_conv_backward_input(gy, wt, x.shape, s, d, pads), np.float64, "bwd_input")
    gw_ref = ref_conv_backward_filter(x, gy, wt.shape, s, d, pads)
    for given in (patches, None):
        assert_close(conv.conv2d_backward_filter(x, gy, wt.shape, s, d, pads, patches=given,
                                                 method="im2col"),
                     gw_ref, np.float64, "bwd_filter")


@pytest.mark.parametrize("method", METHODS)
def test_patches_belong_to_the_caller(method):
    """The forward hands its patches (for the direct kernels: the padded x) to the caller; no
    later call writes into them unless that caller passes them back as `reuse`, and
    backward_filter uses the ones it is given, whatever method it is asked for."""
    rng = np.random.default_rng(19)
    args = ((1, 1), (1, 1), ((2, 2), (2, 2)))
    x1, w1 = _data(rng, (3, 12, 12, 1), np.float64), _data(rng, (5, 5, 1, 4), np.float64)
    x2 = _data(rng, x1.shape, np.float64)
    y1, p1 = conv.conv2d_forward(x1, w1, *args, method=method)
    frozen = p1.cols.copy()
    gy = _data(rng, y1.shape, np.float64)
    gw1 = conv.conv2d_backward_filter(x1, gy, w1.shape, *args, method=method)   # scratch
    y2, p2 = conv.conv2d_forward(x2, w1, *args, method=method)       # same geometry
    assert not np.shares_memory(p1.store, p2.store)
    assert np.array_equal(p1.cols, frozen) and not p1.cols.flags.writeable
    x1 += 1.0      # in place after the forward: the given patches are the forward's x's
    other = METHODS[1 - METHODS.index(method)]
    assert np.array_equal(conv.conv2d_backward_filter(x1, gy, w1.shape, *args, patches=p1,
                                                      method=other), gw1)
    assert_close(conv.conv2d_backward_filter(x1, gy, w1.shape, *args, method=method),
                 ref_conv_backward_filter(x1, gy, w1.shape, *args), np.float64)
    # reuse: the caller is done with p1, so the next forward may overwrite its storage
    y3, p3 = conv.conv2d_forward(x2, w1, *args, reuse=p1, method=method)
    assert p3.store is p1.store and np.array_equal(y3, y2) and np.array_equal(p3.cols, p2.cols)
    x3, w3 = _data(rng, (2, 6, 6, 4), np.float64), _data(rng, (3, 3, 4, 2), np.float64)
    y4, p4 = conv.conv2d_forward(x3, w3, *args, reuse=p3, method=method)   # does not fit
    assert not np.shares_memory(p4.store, p3.store)
    with pytest.raises(ValueError, match="patches built for"):
        conv.conv2d_backward_filter(x1, gy, w1.shape, *args, patches=p4)
    # the other method's patches: they decide the method
    _, p5 = conv.conv2d_forward(x1, w1, *args, method=other)
    assert_close(conv.conv2d_backward_filter(x1, gy, w1.shape, *args, patches=p5, method=method),
                 ref_conv_backward_filter(x1, gy, w1.shape, *args), np.float64)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CONV_CASES[::3], ids=_case_id)
def test_conv2d_adjoint_identity(case, method):
    """<gy, conv(x, w)> = <gx, x> = <gw, w>: the backward kernels are conv's exact adjoints."""
    n, h, w, k, s, d, pads = case
    rng = np.random.default_rng(7)
    cin = 3 if method == "im2col" else 9
    x, wt = _data(rng, (n, h, w, cin), np.float64), _data(rng, k + (cin, 2), np.float64)
    y, patches = conv.conv2d_forward(x, wt, s, d, pads, method=method)
    gy = _data(rng, y.shape, np.float64)
    gx = conv.conv2d_backward_input(gy, wt, x.shape, s, d, pads, method=method)
    gw = conv.conv2d_backward_filter(x, gy, wt.shape, s, d, pads, patches=patches)
    assert_same_inner_product(gy, y, gx, x)
    assert_same_inner_product(gy, y, gw, wt)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=_case_id)
def test_max_pool_matches_reference_with_ties(case, dtype):
    n, h, w, k, s, pads = case
    rng = np.random.default_rng(hash(case) % 2**32)
    c = int(rng.integers(1, 5))
    # small integers: plenty of exact ties, to pin the first-maximum rule
    x = rng.integers(-2, 3, (n, h, w, c)).astype(dtype)
    y, am = pool.max_pool_forward(x, k, s, pads)
    y_ref, am_ref = ref_max_pool(x, k, s, pads)
    assert_close(y, y_ref, dtype, "forward")
    assert am.shape == y.shape and np.array_equal(am, am_ref), "argmax is not the first maximum"
    gy = _data(rng, y.shape, dtype)
    gx = pool.max_pool_backward(gy, am, x.shape)
    assert_close(gx, ref_max_pool_backward(gy.astype(np.float64), am_ref, x.shape), dtype,
                 "backward")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=_case_id)
def test_avg_pool_matches_reference(case, dtype):
    n, h, w, k, s, pads = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = _data(rng, (n, h, w, int(rng.integers(1, 5))), dtype)
    y = pool.avg_pool_forward(x, k, s, pads)
    assert_close(y, ref_avg_pool(x.astype(np.float64), k, s, pads), dtype, "forward")
    gy = _data(rng, y.shape, dtype)
    gx = pool.avg_pool_backward(gy, x.shape, k, s, pads)
    assert_close(gx, ref_avg_pool_backward(gy.astype(np.float64), x.shape, k, s, pads), dtype,
                 "backward")


@pytest.mark.parametrize("case", POOL_CASES[::4], ids=_case_id)
def test_pool_adjoint_identity(case):
    n, h, w, k, s, pads = case
    rng = np.random.default_rng(3)
    x = _data(rng, (n, h, w, 2), np.float64)
    y = pool.avg_pool_forward(x, k, s, pads)
    gy = _data(rng, y.shape, np.float64)
    assert_same_inner_product(gy, y, pool.avg_pool_backward(gy, x.shape, k, s, pads), x)
    # max pool is linear in x once the winners are fixed
    y, am = pool.max_pool_forward(x, k, s, pads)
    assert_same_inner_product(gy, y, pool.max_pool_backward(gy, am, x.shape), x)


def _finite_difference_check(f, inputs, grads, eps=1e-6, rtol=1e-7):
    """Central differences of L = f(*inputs) against grads; fails with the max error and where."""
    for idx, (x, g) in enumerate(zip(inputs, grads)):
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + eps
            up = f(*inputs)
            x[i] = old - eps
            down = f(*inputs)
            x[i] = old
            num[i] = (up - down) / (2 * eps)
        err = np.abs(num - g)
        worst = np.unravel_index(np.argmax(err), err.shape)
        assert err.max() <= rtol * max(1.0, np.abs(g).max()), \
            f"input {idx}: max error {err.max():.3g} at {worst}: {num[worst]} vs {g[worst]}"


@pytest.mark.parametrize("method", METHODS)
def test_finite_differences_float64(method):
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((3, 2, 2, 3))
    for args in (((2, 1), (1, 2), ((1, 1), (1, 2))), ((1, 1), (2, 1), ((2, 2), (1, 1)))):
        y, _ = conv.conv2d_forward(x, w, *args, method=method)
        ct = rng.standard_normal(y.shape)  # L = sum(ct * y): non-uniform cotangent
        grads = [conv.conv2d_backward_input(ct, w, x.shape, *args, method=method),
                 conv.conv2d_backward_filter(x, ct, w.shape, *args, method=method)]
        _finite_difference_check(
            lambda x, w: np.sum(ct * conv.conv2d_forward(x, w, *args, method=method)[0]),
            [x, w], grads)
    if method == "direct":
        return

    pargs = ((3, 2), (2, 2), ((1, 1), (0, 1)))
    # distinct values, so no tie flips under +-eps
    xp = rng.permutation(2 * 6 * 5 * 2).reshape(2, 6, 5, 2) * 0.1
    y, am = pool.max_pool_forward(xp, *pargs)
    ct = rng.standard_normal(y.shape)
    _finite_difference_check(lambda x: np.sum(ct * pool.max_pool_forward(x, *pargs)[0]), [xp],
                             [pool.max_pool_backward(ct, am, xp.shape)])
    _finite_difference_check(lambda x: np.sum(ct * pool.avg_pool_forward(x, *pargs)), [xp],
                             [pool.avg_pool_backward(ct, xp.shape, *pargs)])


@pytest.mark.parametrize("method", METHODS)
def test_float64_bitwise_deterministic(method):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((8, 14, 14, 8)), rng.standard_normal((5, 5, 8, 16))
    args = ((1, 1), (1, 1), ((2, 2), (2, 2)))
    gy = rng.standard_normal((8, 14, 14, 16))
    runs = [(conv.conv2d_forward(x, w, *args, method=method)[0],
             conv.conv2d_backward_input(gy, w, x.shape, *args, method=method),
             conv.conv2d_backward_filter(x, gy, w.shape, *args, method=method),
             pool.avg_pool_backward(gy, gy.shape, (3, 3), (1, 1), ((1, 1), (1, 1))))
            for _ in range(3)]
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# The direct kernels against their composite twin (the im2col path) on the lecture's layers

LECTURE_LAYERS = [    # x shape, filter shape, strides, dilations, pads
    ((100, 28, 28, 1), (5, 5, 1, 8), (1, 1), (1, 1), ((2, 2), (2, 2))),      # mnist_cnn conv1
    ((100, 14, 14, 8), (5, 5, 8, 16), (1, 1), (1, 1), ((2, 2), (2, 2))),     # mnist_cnn conv2
    ((13, 14, 14, 16), (3, 3, 16, 32), (2, 2), (1, 1), ((0, 1), (0, 1))),    # strided
    ((5, 17, 15, 24), (3, 3, 24, 40), (1, 1), (2, 2), ((2, 2), (2, 2))),     # dilated
    ((6, 20, 32, 1), (3, 32, 1, 16), (1, 1), (1, 1), ((0, 0), (0, 0))),      # TextCNN-like
]
# float32: both methods sum the same products in different orders (BLAS's blocking, the
# direct tile's sequential taps; backward_filter sums up to 78400 products in per-image and
# per-group partials): a few ulps of the largest partial sum, so 2e-6 of the output's scale.
# float64: the same orders, 2^-29 times the float32 rounding: 1e-12 relative.
TWIN_TOL = {np.float32: 2e-6, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LECTURE_LAYERS, ids=lambda c: "x".join(map(str, c[1])))
def test_direct_matches_im2col_twin(layer, dtype):
    xs, ws, s, d, pads = layer
    rng = np.random.default_rng(23)
    x, w = _data(rng, xs, dtype), _data(rng, ws, dtype)
    outs = {}
    for method in METHODS:
        y, p = conv.conv2d_forward(x, w, s, d, pads, method=method)
        gy = _data(np.random.default_rng(29), y.shape, dtype)
        outs[method] = (y, conv.conv2d_backward_input(gy, w, xs, s, d, pads, method=method),
                        conv.conv2d_backward_filter(x, gy, ws, s, d, pads, patches=p))
    for what, a, b in zip(("forward", "backward_input", "backward_filter"), *outs.values()):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype
        scale = np.abs(b.astype(np.float64)).max()
        err = np.abs(a.astype(np.float64) - b).max()
        assert err <= TWIN_TOL[dtype] * scale, f"{what}: {err:.3g} of scale {scale:.3g}"


def test_direct_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(31)
    x, w = _data(rng, (9, 14, 14, 8), np.float32), _data(rng, (5, 5, 8, 16), np.float32)
    gy = _data(rng, (9, 14, 14, 16), np.float32)
    geo = ((1, 1), (1, 1), ((2, 2), (2, 2)))
    runs = []
    try:
        for n in (1, 2, 3):
            conv_direct.set_threads(n)
            y, p = conv.conv2d_forward(x, w, *geo, method="direct")
            runs.append((y, conv.conv2d_backward_input(gy, w, x.shape, *geo, method="direct"),
                         conv.conv2d_backward_input(gy[:, ::2, ::2], w, x.shape, (2, 2),
                                                    *geo[1:], method="direct"),
                         conv.conv2d_backward_filter(x, gy, w.shape, *geo, patches=p)))
    finally:
        conv_direct.set_threads(None)
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            assert np.array_equal(a, b)


def test_direct_kernels_are_compiled_with_the_slp_vectorizer():
    """conv_direct._call compiles with LLVM's SLP vectorizer (numba's default leaves it off):
    the same bits, several times faster (10x here). CPU time of this thread, one thread."""
    import time

    import numba
    rng = np.random.default_rng(37)
    x, w = _data(rng, (20, 14, 14, 8), np.float32), _data(rng, (5, 5, 8, 16), np.float32)
    xp = conv_direct.pad_input(x, ((2, 2), (2, 2)), np.empty(20 * 18 * 18 * 8, np.float32))
    w2 = np.ascontiguousarray(w.reshape(200, 2, 8).transpose(1, 0, 2))
    args = (xp, w2, np.empty((20 * 196, 16), np.float32), (5, 5, 1, 1, 1, 1, 14, 14), 0, 20,
            np.zeros(16, np.float32), False, False)
    plain = numba.njit(nogil=True, error_model="numpy", fastmath={"contract"})(
        conv_direct._forward.py_func)
    conv_direct._call(conv_direct._forward, *args)
    want = args[2].copy()
    plain(*args)
    assert np.array_equal(args[2], want)

    def cpu(fn):
        best = float("inf")
        for _ in range(5):
            t = time.thread_time()
            fn(*args)
            best = min(best, time.thread_time() - t)
        return best
    assert cpu(plain) > 3 * cpu(conv_direct._forward)


def test_choose_method_rule():
    """The lecture CNN's layers go direct; TextCNN's (128 filters) stay on BLAS; 32 filters go
    direct in float64 only; backward_input needs 8 input channels."""
    assert conv.choose_method((100, 28, 28, 1), (5, 5, 1, 8)) == "direct"
    assert conv.choose_method((100, 14, 14, 8), (5, 5, 8, 16)) == "direct"
    assert conv.choose_method((100, 14, 14, 8), (5, 5, 8, 16), "backward_input") == "direct"
    assert conv.choose_method((100, 28, 28, 1), (5, 5, 1, 8), "backward_input") == "im2col"
    assert conv.choose_method((64, 60, 128, 1), (3, 128, 1, 128)) == "im2col"
    assert conv.choose_method((64, 60, 128, 1), (3, 128, 1, 128), "backward_input") == "im2col"
    assert conv.choose_method((8, 14, 14, 16), (3, 3, 16, 32)) == "im2col"
    assert conv.choose_method((8, 14, 14, 16), (3, 3, 16, 32), dtype=np.float64) == "direct"
    assert conv.choose_method((8, 14, 14, 16), (3, 3, 16, 32), "backward_input",
                              np.float64) == "direct"
    assert conv.choose_method((8, 14, 14, 256), (3, 3, 256, 8), dtype=np.float64) == "im2col"


def test_mnist_cnn_shapes_and_noncontiguous_inputs():
    """The benchmark model's layers, with transposed (non-contiguous) inputs."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 28, 28, 3)).astype(np.float32).transpose(3, 1, 2, 0)
    w = rng.standard_normal((8, 1, 5, 5)).astype(np.float32).transpose(2, 3, 1, 0)
    pads = ((2, 2), (2, 2))
    y, _ = conv.conv2d_forward(x, w, (1, 1), (1, 1), pads)
    assert y.shape == (3, 28, 28, 8) and y.dtype == np.float32
    assert_close(y, ref_conv(x.astype(np.float64), w, (1, 1), (1, 1), pads), np.float32)
    p, am = pool.max_pool_forward(y, (2, 2), (2, 2), ((0, 0), (0, 0)))
    assert p.shape == (3, 14, 14, 8) and am.dtype == np.int32      # small images: int32


# ---------------------------------------------------------------------------------------------
# TensorFlow

TF_CASES = [
    # x shape, kernel, strides, padding
    ((2, 9, 8, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    ((3, 8, 8, 1), (4, 4, 1, 5), (2, 2), "SAME"),  # cin 1, asymmetric SAME pads
    ((1, 7, 9, 2), (2, 5, 2, 3), (2, 3), "VALID"),
    ((2, 28, 28, 1), (5, 5, 1, 8), (1, 1), "SAME"),
]


@pytest.fixture(scope="module")
def tf():
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return pytest.importorskip("tensorflow")


def _tf_pads(shape, k, strides, dilations, padding):
    return _pads(shape[1], shape[2], k, strides, dilations, (padding, padding))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_tensorflow(tf, dtype, method):
    rng = np.random.default_rng(13)
    for x_shape, w_shape, s, padding in TF_CASES:
        x, w = _data(rng, x_shape, dtype), _data(rng, w_shape, dtype)
        pads = _tf_pads(x_shape, w_shape[:2], s, (1, 1), padding)
        xt, wt = tf.constant(x), tf.constant(w)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([xt, wt])
            yt = tf.nn.conv2d(xt, wt, s, padding)
        gy = _data(rng, yt.shape, dtype)
        gxt, gwt = tape.gradient(yt, [xt, wt], output_gradients=tf.constant(gy))
        m = dict(method=method)
        assert_close(conv.conv2d_forward(x, w, s, (1, 1), pads, **m)[0], yt.numpy(), dtype,
                     "conv fwd")
        assert_close(conv.conv2d_backward_input(gy, w, x_shape, s, (1, 1), pads, **m),
                     gxt.numpy(), dtype, "conv backward_input")
        assert_close(conv.conv2d_backward_filter(x, gy, w_shape, s, (1, 1), pads, **m),
                     gwt.numpy(), dtype, "conv backward_filter")
        # dilated forward (TF's CPU kernels have no dilated backprop)
        pads = _tf_pads(x_shape, w_shape[:2], (1, 1), (2, 2), padding)
        if pads is not None:
            yt = tf.nn.conv2d(xt, wt, 1, padding, dilations=2)
            assert_close(conv.conv2d_forward(x, w, (1, 1), (2, 2), pads, **m)[0], yt.numpy(),
                         dtype, "dilated conv fwd")
        if method == "direct":
            continue

        k = w_shape[:2]
        pads = _tf_pads(x_shape, k, s, (1, 1), padding)
        xi = rng.integers(-2, 3, x_shape).astype(dtype)  # ties
        xt = tf.constant(xi)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            mt = tf.nn.max_pool2d(xt, k, s, padding)
            at = tf.nn.avg_pool2d(xt, k, s, padding)
        gy = _data(rng, mt.shape, dtype)
        y, am = pool.max_pool_forward(xi, k, s, pads)
        assert_close(y, mt.numpy(), dtype, "max_pool fwd")
        assert_close(pool.max_pool_backward(gy, am, x_shape),
                     tape.gradient(mt, xt, output_gradients=tf.constant(gy)).numpy(), dtype,
                     "max_pool backward")
        assert_close(pool.avg_pool_forward(xi, k, s, pads), at.numpy(), dtype, "avg_pool fwd")
        assert_close(pool.avg_pool_backward(gy, x_shape, k, s, pads),
                     tape.gradient(at, xt, output_gradients=tf.constant(gy)).numpy(), dtype,
                     "avg_pool backward")


def test_max_pool_results_do_not_depend_on_the_thread_count():
    # 100 x 28 x 28 x 8 cells: enough for the kernels to cut the batch into chunks of images;
    # small integers make ties, whose winner (the first cell) must not move either
    rng = np.random.default_rng(37)
    x = rng.integers(-3, 4, (100, 28, 28, 8)).astype(np.float32)
    runs = []
    try:
        for n in (1, 2, 3):
            conv_direct.set_threads(n)
            assert len(_threads.chunks(x.shape[0], x.size, pool._CHUNK_CELLS)) == \
                (1 if n == 1 else 2)
            y, am = pool.max_pool_forward(x, (2, 2), (2, 2), ((0, 0), (1, 1)))
            gy = np.arange(y.size, dtype=np.float32).reshape(y.shape)
            tiled = ((2, 2), (2, 2), ((0, 0), (0, 0)))     # windows that tile x: one pass
            yt, amt = pool.max_pool_forward(x, *tiled)
            runs.append((y, am, pool.max_pool_backward(gy, am, x.shape),
                         pool.max_pool_backward(yt, amt, x.shape, relu_of=yt, window=tiled)))
    finally:
        conv_direct.set_threads(None)
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Fused epilogues (minigrad.jit.fusion): the same bits as the ops they replace

def _with_specials(x):
    """x with NaN, +-0 and +-inf in some entries: the cases where max and * 0 differ."""
    x = x.copy()
    flat = x.reshape(-1)
    flat[::97], flat[1::97], flat[2::97] = np.nan, -0.0, 0.0
    flat[3::389], flat[4::389] = np.inf, -np.inf
    return x


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", LECTURE_LAYERS + [
    ((3, 9, 9, 2), (3, 3, 2, 5), (1, 1), (1, 1), ((1, 1), (1, 1))),      # o not a multiple of 8
    ((2, 7, 8, 9), (2, 3, 9, 12), (2, 1), (1, 2), ((0, 1), (1, 1)))], ids=lambda c: "x".join(
        map(str, c[1])))
def test_conv_bias_relu_epilogue_is_bitwise_its_composite_twin(layer, dtype, method):
    """conv2d_forward(bias=b, relu=True) == np.maximum(BiasAdd's x + b, 0) on the plain
    forward, bit for bit, NaN and signed zeros included."""
    from minigrad.kernels.rowwise import add_row_vector
    xs, ws, s, d, pads = layer
    rng = np.random.default_rng(41)
    x, w = _with_specials(_data(rng, xs, dtype)), _data(rng, ws, dtype)
    b = _data(rng, ws[3:], dtype)
    b[0] = -0.0
    plain, _ = conv.conv2d_forward(x, w, s, d, pads, method=method)
    want = np.maximum(add_row_vector(plain, b), 0)
    got, _ = conv.conv2d_forward(x, w, s, d, pads, method=method, bias=b, relu=True)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    only_bias, _ = conv.conv2d_forward(x, w, s, d, pads, method=method, bias=b)
    assert np.array_equal(only_bias, add_row_vector(plain, b), equal_nan=True)
    only_relu, _ = conv.conv2d_forward(x, w, s, d, pads, method=method, relu=True)
    assert np.array_equal(only_relu, np.maximum(plain, 0), equal_nan=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c in POOL_CASES if all(
    st >= k for st, k in zip(c[4], c[3]))], ids=_case_id)
def test_max_pool_backward_through_a_relu_is_bitwise_its_composite_twin(case, dtype):
    """max_pool_backward(relu_of=y) == Relu's gradient gx * (x > 0) of the plain pool gradient
    when windows do not overlap (where minigrad.jit fuses them), with ties, NaN, zeros, inf."""
    n, h, w, k, s, pads = case
    rng = np.random.default_rng(hash(case) % 2**32)
    c = int(rng.integers(1, 5))
    x = np.maximum(_with_specials(rng.integers(-2, 3, (n, h, w, c)).astype(dtype)), 0)
    y, am = pool.max_pool_forward(x, k, s, pads)
    gy = _with_specials(_data(rng, y.shape, dtype))
    want = pool.max_pool_backward(gy, am, x.shape) * (x > 0)
    for window in (None, (k, s, pads)):     # the general kernel; the one-pass one where it fits
        got = pool.max_pool_backward(gy, am, x.shape, relu_of=y, window=window)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(want))
    plain = pool.max_pool_backward(gy, am, x.shape)
    tiled = pool.max_pool_backward(gy, am, x.shape, window=(k, s, pads))
    assert np.array_equal(tiled, plain, equal_nan=True)
    assert np.array_equal(np.signbit(tiled), np.signbit(plain))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_conv_then_max_pool_per_chunk_is_the_pool_of_the_whole_output(method, threads):
    """conv2d_forward(then=images of max_pool_images) pools each chunk of images as it is
    made: the same y, pooled values and argmax as max_pool_forward on the finished output."""
    rng = np.random.default_rng(43)
    x, w = _data(rng, (37, 14, 14, 8), np.float32), _data(rng, (5, 5, 8, 16), np.float32)
    b = _data(rng, (16,), np.float32)
    geo = ((1, 1), (1, 1), ((2, 2), (2, 2)))
    try:
        conv_direct.set_threads(threads)
        pooled, argmax, images = pool.max_pool_images((37, 14, 14, 16), np.float32)
        y, _ = conv.conv2d_forward(x, w, *geo, method=method, bias=b, relu=True, then=images)
        want_y, _ = conv.conv2d_forward(x, w, *geo, method=method, bias=b, relu=True)
        want, want_argmax = pool.max_pool_forward(want_y)
    finally:
        conv_direct.set_threads(None)
    assert np.array_equal(y, want_y)
    assert np.array_equal(pooled, want) and np.array_equal(argmax, want_argmax)


@pytest.mark.parametrize("x_shape,window,overlap,tile", [
    ((1, 28, 28, 8), ((2, 2), (2, 2), ((0, 0), (0, 0))), False, True),     # the lecture CNN
    ((1, 7, 7, 8), ((2, 2), (2, 2), ((0, 0), (0, 0))), False, False),      # a row left over
    ((1, 7, 7, 8), ((2, 2), (2, 2), ((0, 1), (0, 1))), False, False),      # SAME pads
    ((1, 12, 12, 8), ((3, 3), (2, 2), ((0, 0), (0, 0))), True, False),     # overlapping
    ((1, 34, 1, 128), ((34, 1), (1, 1), ((0, 0), (0, 0))), False, True),   # max over time
    ((1, 34, 3, 128), ((34, 2), (1, 1), ((0, 0), (0, 0))), True, False),   # two windows, s=1
])
def test_windows_overlap_and_tile(x_shape, window, overlap, tile):
    assert pool.windows_overlap(x_shape, *window) == overlap
    assert pool.windows_tile(x_shape, *window) == tile


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer,need_input", [
    (LECTURE_LAYERS[0], False),                                            # conv1: data input
    (LECTURE_LAYERS[1], True),                                             # conv2
    (((7, 9, 9, 16), (3, 3, 16, 8), (1, 1), (1, 1), ((1, 1), (1, 1))), True)],
    ids=["conv1", "conv2", "16to8"])
def test_backward_fused_is_the_separate_backwards(layer, need_input, dtype):
    """conv_direct.backward_fused, its gy made group by group by a producer: gx and gw are
    backward_input's and backward_filter's bits, gb the column sums (another order)."""
    xs, ws, s, d, pads = layer
    rng = np.random.default_rng(47)
    x, w = _data(rng, xs, dtype), _data(rng, ws, dtype)
    y, patches = conv.conv2d_forward(x, w, s, d, pads, method="direct")
    gy = _data(rng, y.shape, dtype)
    assert conv_direct.can_fuse_backward(xs, ws, s, d, pads, y.shape[1:3], need_input)
    made = []

    def fill(lo, hi, out):
        made.append((lo, hi))
        out[...] = gy[lo:hi]
    xp = patches.store.reshape(patches.cols.shape)
    gx, gw, gb = conv_direct.backward_fused(xp, w, xs, s, d, pads, gy.shape, fill, need_input,
                                            True, True)
    assert sorted(made) == conv_direct._groups(xs[0])      # each image made once
    assert np.array_equal(gw, conv.conv2d_backward_filter(x, gy, ws, s, d, pads,
                                                          patches=patches))
    if need_input:
        assert np.array_equal(gx, conv.conv2d_backward_input(gy, w, xs, s, d, pads,
                                                             method="direct"))
    else:
        assert gx is None
    np.testing.assert_allclose(gb, gy.astype(np.float64).sum((0, 1, 2)),
                               rtol=TWIN_TOL[dtype], atol=TWIN_TOL[dtype] * np.abs(gy).sum(
                                   (0, 1, 2)).max())
