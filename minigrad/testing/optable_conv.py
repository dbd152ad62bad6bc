"""Op-table entries for convolution, pooling and pad (imported by optable.all_ops).

A representative grid, not the full product: batch 1-8, odd and even spatial sizes 1-32,
kernels 1-7, strides 1-3, SAME (asymmetric when the padding total is odd), VALID and explicit
padding, channels 1-16 (cin == 1 takes the kernels' transposed patch path), dilations, and
max-pool inputs with exact ties (TF's CPU rule: the first maximum in row-major order gets it).
Gradcheck inputs stay small: finite differences cost two forward passes per input element.
"""
import numpy as np

from minigrad.testing.optable import OpInfo, Sample, add, draw

# (batch, h, w, cin, kh, kw, cout, strides, padding)
_CONV = [
    (1, 1, 1, 1, 1, 1, 1, 1, "SAME"),
    (2, 5, 5, 3, 3, 3, 4, 1, "SAME"),
    (3, 8, 6, 2, 2, 2, 5, 2, "SAME"),                        # even kernel: pad 0 top, 1 bottom
    (1, 7, 9, 1, 5, 5, 8, 2, "SAME"),                        # cin 1, odd sizes
    (2, 12, 10, 4, 4, 3, 6, 3, "SAME"),
    (8, 4, 4, 16, 3, 3, 16, 1, "VALID"),
    (1, 32, 31, 1, 7, 7, 2, 3, "VALID"),
    (2, 9, 8, 3, 3, 3, 2, [1, 2, 2, 1], "VALID"),
    (2, 11, 10, 1, 3, 3, 4, 2, "VALID"),                     # cin 1 with a stride
    (2, 5, 6, 2, 2, 3, 3, [2, 1], [[0, 0], [1, 2], [2, 0], [0, 0]]),
    (1, 4, 4, 3, 5, 5, 2, 1, "SAME"),                        # kernel larger than the input
    (2, 7, 7, 2, 1, 1, 3, 2, "VALID"),
]
# small enough for finite differences (two forward passes per input element)
_CONV_SMALL = [
    (2, 5, 5, 3, 3, 3, 2, 1, "SAME"),
    (1, 6, 5, 2, 2, 2, 3, 2, "SAME"),                        # even kernel, odd size
    (2, 7, 6, 1, 3, 2, 2, 2, "VALID"),                       # cin 1
    (1, 5, 4, 2, 2, 3, 2, [2, 1], [[0, 0], [1, 2], [2, 0], [0, 0]]),
]
# (batch, h, w, cin, kh, kw, cout, strides, dilations, padding)
_DILATED = [
    (2, 9, 9, 2, 3, 3, 3, 1, 2, "SAME"),
    (1, 10, 11, 1, 2, 3, 2, 2, [1, 2, 3, 1], "SAME"),
    (2, 12, 12, 3, 3, 3, 2, 1, 3, "VALID"),
]
# (batch, h, w, c, ksize, strides, padding)
_POOL = [
    (1, 1, 1, 1, 1, 1, "VALID"),
    (2, 4, 4, 3, 2, 2, "SAME"),
    (1, 7, 7, 2, 2, 2, "SAME"),                              # odd: the last window is padded
    (3, 6, 9, 4, 3, 2, "SAME"),
    (2, 8, 8, 1, 3, 1, "SAME"),                              # overlapping windows
    (1, 28, 28, 8, 2, 2, "SAME"),
    (2, 9, 7, 3, [1, 3, 2, 1], [1, 2, 3, 1], "VALID"),
    (1, 5, 5, 16, 5, 3, "VALID"),
    (8, 3, 5, 2, [2, 3], 1, "SAME"),
    (1, 31, 30, 1, 7, 3, "SAME"),
]
_POOL_SMALL = [
    (2, 5, 5, 2, 2, 2, "SAME"),
    (1, 6, 7, 3, 3, 2, "SAME"),
    (2, 6, 5, 1, [1, 3, 2, 1], [1, 2, 1, 1], "VALID"),
]


def _conv_samples(grid):
    def make(rng):
        return [Sample([draw(rng, (n, h, w, c)), draw(rng, (kh, kw, c, co)) * 0.5],
                       dict(strides=s, padding=p), f"x{(n, h, w, c)} w{(kh, kw, c, co)} s={s} {p}")
                for n, h, w, c, kh, kw, co, s, p in grid]
    return make


def _dilated_samples(rng):
    return [Sample([draw(rng, (n, h, w, c)), draw(rng, (kh, kw, c, co)) * 0.5],
                   dict(strides=s, padding=p, dilations=d),
                   f"x{(n, h, w, c)} w{(kh, kw, c, co)} s={s} d={d} {p}")
            for n, h, w, c, kh, kw, co, s, d, p in _DILATED]


def _pool_samples(values, grid=_POOL):
    def make(rng):
        return [Sample([values(rng, (n, h, w, c))], dict(ksize=k, strides=s, padding=p),
                       f"x{(n, h, w, c)} k={k} s={s} {p}")
                for n, h, w, c, k, s, p in grid]
    return make


def _ties(rng, shape):
    return rng.integers(-1, 2, shape).astype(np.float64)


def _conv(mg, x, w, **k):
    return mg.nn.conv2d(x, w, **k)


def _conv_tf(tf, x, w, **k):
    return tf.nn.conv2d(x, w, **k)


_WHY32 = "float32 dot products of up to 144 terms: BLAS and Eigen sum in different orders"
_BIG = "the full grid against TF (values and gradients); finite differences on the *_small grid"
_max = (lambda mg, x, **k: mg.nn.max_pool2d(x, **k), lambda tf, x, **k: tf.nn.max_pool2d(x, **k))
_avg = (lambda mg, x, **k: mg.nn.avg_pool2d(x, **k), lambda tf, x, **k: tf.nn.avg_pool2d(x, **k))
add(OpInfo("conv2d", _conv, _conv_tf, _conv_samples(_CONV), gradcheck=False, rtol32=1e-5,
           atol32=1e-5, why=f"{_WHY32}; {_BIG}"))
add(OpInfo("conv2d_small", _conv, _conv_tf, _conv_samples(_CONV_SMALL), rtol32=1e-5,
           atol32=1e-5, why=_WHY32))
add(OpInfo("conv2d_dilated", _conv, _conv_tf, _dilated_samples, grad=False, rtol32=1e-5,
           atol32=1e-5, why="TF's CPU conv2d has no gradient for dilations > 1: the forward is "
                            "checked against TF, the gradients by gradcheck (and the composite "
                            "twin in tests/test_conv.py)"))
add(OpInfo("max_pool2d", *_max, _pool_samples(draw), gradcheck=False, why=_BIG))
add(OpInfo("max_pool2d_small", *_max, _pool_samples(draw, _POOL_SMALL)))
add(OpInfo("max_pool2d_ties", *_max, _pool_samples(_ties), gradcheck=False,
           why="values in {-1, 0, 1}: every window has ties; not differentiable there"))
add(OpInfo("avg_pool2d", *_avg, _pool_samples(draw), gradcheck=False, rtol32=1e-5,
           atol32=1e-6, why=f"float32 window sums of up to 25 terms; {_BIG}"))
add(OpInfo("avg_pool2d_small", *_avg, _pool_samples(draw, _POOL_SMALL), rtol32=1e-5,
           atol32=1e-6, why="float32 window sums"))

def _pad_samples(rng):
    return [Sample([draw(rng, (2, 3))], dict(paddings=[[1, 2], [0, 3]]), "2-D"),
            Sample([draw(rng, (2, 3, 4, 1))], dict(paddings=[[0, 0], [2, 1], [1, 1], [0, 0]],
                                                 constant_values=-1.5), "NHWC value"),
            Sample([draw(rng, (4,))], dict(paddings=[[0, 0]]), "no padding")]


def _pad(mg, x, **k):
    from minigrad.ops.conv import pad      # NOTE: also exported as mg.pad where available
    return pad(x, **k)


add(OpInfo("pad", _pad, lambda tf, x, **k: tf.pad(x, **k), _pad_samples))
