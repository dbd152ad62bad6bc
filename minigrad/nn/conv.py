"""Composite twins of the fused conv and pooling ops, built from primitive ops only (pad,
strided slices, concat, maximum, add, matmul), so they need no backward of their own.

They exist to check the fused ops (tests/test_conv.py compares forward values and gradients in
float64) and to show what the fused kernels compute; they are slow.
"""
import numpy as np

from minigrad.ops import conv as C
from minigrad.ops import elementwise as ew
from minigrad.ops.linalg import matmul
from minigrad.ops.shape import concat, reshape


def _taps(xp, k, strides, dilations, out):
    """The kh*kw strided slices of the padded input, one per filter tap, in row-major order:
    tap (i, j)[b, oy, ox, c] = xp[b, oy*sh + i*dh, ox*sw + j*dw, c]."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = k, strides, dilations, out
    return [xp[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw]
            for i in range(kh) for j in range(kw)]


def _padded(x, pads, value=0):
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return x
    return C.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]], constant_values=value)


def conv2d_composite(input, filters, strides, padding, data_format="NHWC", dilations=None):
    """conv2d as pad + patch extraction (strided slices, concat) + one matmul."""
    x, w, strides, dilations, pads, out = C.conv2d_args(input, filters, strides, padding,
                                                        data_format, dilations)
    kh, kw, cin, cout = w.shape
    taps = _taps(_padded(x, pads), (kh, kw), strides, dilations, out)
    cols = concat(taps, axis=3)                        # [n, oh, ow, (i, j, c)]
    y = matmul(reshape(cols, [-1, kh * kw * cin]), reshape(w, [kh * kw * cin, cout]))
    return reshape(y, [x.shape[0], out[0], out[1], cout])


def max_pool_composite(input, ksize, strides, padding, data_format="NHWC"):
    """max_pool as pad with -inf + a running `maximum` over the taps in row-major order.

    `maximum` gives a tie to its first operand, so the running max hands a window's gradient
    to its first maximum in (h, w) order: TF's CPU rule, ties included.
    """
    x, k, strides, pads, out = C.pool_args("max_pool2d", input, ksize, strides, padding,
                                           data_format)
    taps = _taps(_padded(x, pads, -np.inf), k, strides, (1, 1), out)
    y = taps[0]
    for t in taps[1:]:
        y = ew.maximum(y, t)
    return y


def avg_pool_composite(input, ksize, strides, padding, data_format="NHWC"):
    """avg_pool as zero pad + the sum of the taps / the count of real inputs in each window."""
    x, k, strides, pads, out = C.pool_args("avg_pool2d", input, ksize, strides, padding,
                                           data_format)
    taps = _taps(_padded(x, pads), k, strides, (1, 1), out)
    y = taps[0]
    for t in taps[1:]:
        y = ew.add(y, t)
    return ew.divide(y, _window_counts(x.shape, k, strides, pads, out, x.numpy().dtype))


def _window_counts(x_shape, k, strides, pads, out, dtype):
    """[1, oh, ow, 1]: how many unpadded inputs each window covers."""
    counts = []
    for axis in (0, 1):
        start = np.arange(out[axis]) * strides[axis] - pads[axis][0]
        lo, hi = np.maximum(start, 0), np.minimum(start + k[axis], x_shape[1 + axis])
        counts.append(hi - lo)
    return np.outer(counts[0], counts[1]).astype(dtype)[None, :, :, None]


__all__ = ["conv2d_composite", "max_pool_composite", "avg_pool_composite"]
