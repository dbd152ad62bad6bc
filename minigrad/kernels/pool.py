"""2-D max and average pooling kernels on NHWC arrays.

Pads are explicit `((top, bottom), (left, right))` (see conv.conv_output_size for TF's
"SAME" / "VALID"); padded cells never take part: they never win a max and are not counted in
an average. Nothing here validates arguments: the op layer does.

argmax encoding: int32 (int64 for images of 2^31 cells or more: the gradient reads it back
from memory, so its size is traffic), shape of y; argmax[b, oy, ox, c] = iy * W + ix, the flat
(row-major) position inside image b, channel c, of the input that won the window; -1 when the
window holds no input cell at all (possible only with explicit pads >= ksize; y is -inf there,
and an average over no cells is 0).

Each image is pooled on its own in a fixed order, so float64 results are identical run to run;
max pooling cuts the batch into chunks of images run on minigrad.kernels._threads' threads
(numba's own thread pool costs more than it gains beside OpenBLAS's: see conv.py), which
changes no result.
"""
import numba
import numpy as np

from minigrad.kernels._threads import chunks, run

_JIT = dict(cache=True, nogil=True, error_model="numpy")
# NOTE: uint64 indices let numba skip its negative-index branch, so the channel loops vectorize
_U = np.uint64


_CHUNK_CELLS = 1 << 18      # input cells worth a chunk of images (~80 us of pooling: waking
                            # a pool thread takes ~40 us here)


def _out_size(in_size, k, stride, before, after):
    return max(0, (in_size + before + after - k) // stride + 1)


@numba.njit(inline="always", **_JIT)
def _window(o, stride, before, k, size):
    """The rows [lo, hi) of input that output row o's window covers."""
    start = o * stride - before
    return max(start, 0), max(min(start + k, size), max(start, 0))


@numba.njit(inline="always", **_JIT)
def _max_2x2(xf, s, w, c, p0, yf, af, d):
    """A whole 2x2 window, unrolled: the running max stays in registers, loops vectorize."""
    for t in range(_U(c)):
        m, i = xf[s + t], p0
        for q, off in ((1, _U(c)), (w, _U(w * c)), (w + 1, _U(w * c + c))):
            v = xf[s + off + t]
            take = m < v
            m = v if take else m
            i = p0 + q if take else i
        yf[d + t] = m
        af[d + t] = i


@numba.njit(**_JIT)
def _max_pool_fwd(x, geom, y, argmax, ia, ib):
    """ia, ib: [c] index scratch, int32 beside float32 so that the selects vectorize."""
    kh, kw, sh, sw, pt, pl = geom
    n, h, w, c = x.shape
    _, oh, ow, _ = y.shape
    xf, yf, af = x.reshape(-1), y.reshape(-1), argmax.reshape(-1)
    va, vb = np.empty(c, x.dtype), np.empty(c, x.dtype)
    for b in range(n):
        for oy in range(oh):
            y0, y1 = _window(oy, sh, pt, kh, h)
            for ox in range(ow):
                x0, x1 = _window(ox, sw, pl, kw, w)
                d = _U(((b * oh + oy) * ow + ox) * c)
                s = _U(((b * h + y0) * w + x0) * c)
                if y1 - y0 == 2 and x1 - x0 == 2:
                    _max_2x2(xf, s, w, c, y0 * w + x0, yf, af, d)
                    continue
                if y0 == y1 or x0 == x1:
                    for t in range(_U(c)):
                        yf[d + t] = -np.inf
                        af[d + t] = -1
                    continue
                # NOTE: TF's rule: the first cell always wins, then only a strictly larger
                # value; ties stay with the first in (h, w) order. Ping-pong between two
                # scratch rows: unconditional stores, so the channel loop vectorizes.
                p0 = ia.dtype.type(y0 * w + x0)
                for t in range(c):
                    va[t] = xf[s + _U(t)]
                    ia[t] = p0
                for iy in range(y0, y1):
                    for ix in range(x0 + (iy == y0), x1):
                        s = _U(((b * h + iy) * w + ix) * c)
                        pos = ia.dtype.type(iy * w + ix)
                        for t in range(c):
                            v, m = xf[s + _U(t)], va[t]
                            vb[t] = v if m < v else m
                            ib[t] = pos if m < v else ia[t]
                        va, vb, ia, ib = vb, va, ib, ia
                for t in range(c):
                    yf[d + _U(t)] = va[t]
                    af[d + _U(t)] = ia[t]


@numba.njit(**_JIT)
def _max_pool_bwd(gy, argmax, gx, y, relu):
    """relu: each cell's sum times (y > 0), y the pooled output (see max_pool_backward)."""
    n, oh, ow, c = gy.shape
    _, h, w, _ = gx.shape
    gyf, af, gxf, yf = gy.reshape(-1), argmax.reshape(-1), gx.reshape(-1), y.reshape(-1)
    one, zero = gxf.dtype.type(1), gxf.dtype.type(0)
    for b in range(n):
        gxf[b * h * w * c:(b + 1) * h * w * c] = 0
        for p in range(oh * ow):
            d = (b * oh * ow + p) * c
            for t in range(c):
                a = af[d + t]
                if a >= 0:
                    i = (b * h * w + a) * c + t
                    g = gxf[i] + gyf[d + t]
                    # Relu's gradient on the sum, (0 + gy) * (x > 0): the same bits
                    gxf[i] = g * (one if yf[d + t] > zero else zero) if relu else g


@numba.njit(**_JIT)
def _max_pool_bwd_tiled(gy, argmax, gx, y, relu, kh, kw):
    """_max_pool_bwd where the windows tile the input exactly (stride = window, no pads, no
    cell left over): every cell is written once, its window's gradient or 0, with no zeroing
    pass and no read-back; the same bits (0 + gy, times the mask)."""
    n, oh, ow, c = gy.shape
    _, h, w, _ = gx.shape
    gyf, af, gxf, yf = gy.reshape(-1), argmax.reshape(-1), gx.reshape(-1), y.reshape(-1)
    one, zero = gxf.dtype.type(1), gxf.dtype.type(0)
    gv = np.empty(c, gxf.dtype)             # the window's gradient, masked, once per window
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                d = _U(((b * oh + oy) * ow + ox) * c)
                if relu:
                    for t in range(_U(c)):
                        gv[t] = (zero + gyf[d + t]) * (one if yf[d + t] > zero else zero)
                else:
                    for t in range(_U(c)):
                        gv[t] = zero + gyf[d + t]
                for iy in range(oy * kh, oy * kh + kh):
                    for ix in range(ox * kw, ox * kw + kw):
                        pos = af.dtype.type(iy * w + ix)
                        s = _U(((b * h + iy) * w + ix) * c)
                        for t in range(_U(c)):
                            gxf[s + t] = gv[t] if af[d + t] == pos else zero


@numba.njit(**_JIT)
def _avg_pool_fwd(x, geom, y):
    kh, kw, sh, sw, pt, pl = geom
    n, h, w, c = x.shape
    _, oh, ow, _ = y.shape
    xf, yf = x.reshape(-1), y.reshape(-1)
    for b in range(n):
        for oy in range(oh):
            y0, y1 = _window(oy, sh, pt, kh, h)
            for ox in range(ow):
                x0, x1 = _window(ox, sw, pl, kw, w)
                d = _U(((b * oh + oy) * ow + ox) * c)
                for t in range(_U(c)):
                    yf[d + t] = 0
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        s = _U(((b * h + iy) * w + ix) * c)
                        for t in range(_U(c)):
                            yf[d + t] += xf[s + t]
                # TF's SAME rule: divide by the number of real cells in the window
                count = yf.dtype.type(max((y1 - y0) * (x1 - x0), 1))
                for t in range(_U(c)):
                    yf[d + t] = yf[d + t] / count


@numba.njit(**_JIT)
def _avg_pool_bwd(gy, geom, gx):
    kh, kw, sh, sw, pt, pl = geom
    n, oh, ow, c = gy.shape
    _, h, w, _ = gx.shape
    gyf, gxf = gy.reshape(-1), gx.reshape(-1)
    one = gxf.dtype.type(1)
    for b in range(n):
        gxf[b * h * w * c:(b + 1) * h * w * c] = 0
        for oy in range(oh):
            y0, y1 = _window(oy, sh, pt, kh, h)
            for ox in range(ow):
                x0, x1 = _window(ox, sw, pl, kw, w)
                # NOTE: TF multiplies by 1/count here (AvgPoolingGradOp), not divides
                scale = one / gxf.dtype.type(max((y1 - y0) * (x1 - x0), 1))
                d = _U(((b * oh + oy) * ow + ox) * c)
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        s = _U(((b * h + iy) * w + ix) * c)
                        for t in range(_U(c)):
                            gxf[s + t] += gyf[d + t] * scale


def _geometry(x_shape, ksize, strides, pads):
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)) = ksize, strides, pads
    oh = _out_size(x_shape[1], kh, sh, pt, pb)
    ow = _out_size(x_shape[2], kw, sw, pl, pr)
    geom = tuple(int(v) for v in (kh, kw, sh, sw, pt, pl))
    return geom, (x_shape[0], oh, ow, x_shape[3])


def windows_overlap(x_shape, ksize, strides, pads):
    """Whether some input cell lies in two windows: along an axis with two windows or more,
    a stride shorter than the window."""
    _, (_, oh, ow, _) = _geometry(x_shape, ksize, strides, pads)
    return any(out > 1 and s < k for out, s, k in zip((oh, ow), strides, ksize))


def windows_tile(x_shape, ksize, strides, pads):
    """Whether every input cell lies in exactly one window: no pads, no overlap, and the
    windows reach the last row and column."""
    _, (_, oh, ow, _) = _geometry(x_shape, ksize, strides, pads)
    return not any(map(any, pads)) and not windows_overlap(x_shape, ksize, strides, pads) and \
        oh * ksize[0] == x_shape[1] and ow * ksize[1] == x_shape[2]


def max_pool_forward(x, ksize=(2, 2), strides=(2, 2), pads=((0, 0), (0, 0))):
    """y = max over each window (padding never wins); argmax = iy*W + ix of its first maximum."""
    x = np.ascontiguousarray(x)
    y, argmax, images = max_pool_images(x.shape, x.dtype, ksize, strides, pads)
    parts = chunks(x.shape[0], x.size, _CHUNK_CELLS)
    run(lambda i: images(x, *parts[i]), len(parts))
    return y, argmax


def max_pool_images(x_shape, dtype, ksize=(2, 2), strides=(2, 2), pads=((0, 0), (0, 0))):
    """(y, argmax, images): the outputs of max_pool_forward for an input of x_shape, and
    images(x, lo, hi), which pools x's images [lo, hi) into them; a caller that makes x a
    chunk of images at a time pools each chunk while it is in cache (minigrad.jit fuses
    MaxPool into the convolution before it that way)."""
    geom, y_shape = _geometry(x_shape, ksize, strides, pads)
    y = np.empty(y_shape, dtype)
    fits = x_shape[1] * x_shape[2] < 2 ** 31      # positions within an image fit int32
    argmax = np.empty(y_shape, np.int32 if fits else np.int64)
    index = np.int32 if np.dtype(dtype).itemsize == 4 and fits else np.int64

    def images(x, lo, hi):
        ia, ib = np.empty((2, x_shape[3]), index)
        _max_pool_fwd(x[lo:hi], geom, y[lo:hi], argmax[lo:hi], ia, ib)
    return y, argmax, images


def max_pool_backward_images(gy, argmax, x_shape, relu_of, window):
    """images(lo, hi, out): max_pool_backward(gy, argmax, x_shape, relu_of, window) of the
    images [lo, hi), written into out [hi-lo, h, w, c] (a consumer fused behind it takes the
    gradient a group of images at a time); the same bits."""
    gy, argmax = np.ascontiguousarray(gy), np.ascontiguousarray(argmax)
    relu = relu_of is not None
    y = np.ascontiguousarray(relu_of) if relu else gy
    tiled = window is not None and windows_tile(x_shape, *window)

    def images(lo, hi, out):
        if tiled:
            _max_pool_bwd_tiled(gy[lo:hi], argmax[lo:hi], out, y[lo:hi], relu, *window[0])
        else:
            _max_pool_bwd(gy[lo:hi], argmax[lo:hi], out, y[lo:hi], relu)
    return images


def max_pool_backward(gy, argmax, x_shape, relu_of=None, window=None):
    """gx[b, argmax, c] += gy: each window's whole gradient goes to its one winner.

    window: the forward's (ksize, strides, pads), when known: windows that tile the input
    exactly take a one-pass kernel (every cell written once).

    relu_of: the pooled output y, when the pool's input came out of a ReLU: each winner's
    gradient is multiplied by (y > 0), so gx is also that ReLU's input gradient (minigrad.jit
    fuses Relu's gradient into MaxPool's this way, for windows that do not overlap). It is
    Relu's gx * (x > 0) bit for bit there: a winner x is its window's y, the product is taken
    on the cell's (0 + gy) as Relu takes it, and every other cell is 0 either way."""
    gx = np.empty(tuple(int(s) for s in x_shape), gy.dtype)
    images = max_pool_backward_images(gy, argmax, gx.shape, relu_of, window)
    parts = chunks(gx.shape[0], gx.size, _CHUNK_CELLS)
    run(lambda i: images(*parts[i], gx[slice(*parts[i])]), len(parts))
    return gx


def avg_pool_forward(x, ksize=(2, 2), strides=(2, 2), pads=((0, 0), (0, 0))):
    """y = sum over each window's real cells / their count."""
    x = np.ascontiguousarray(x)
    geom, y_shape = _geometry(x.shape, ksize, strides, pads)
    y = np.empty(y_shape, x.dtype)
    _avg_pool_fwd(x, geom, y)
    return y


def avg_pool_backward(gy, x_shape, ksize=(2, 2), strides=(2, 2), pads=((0, 0), (0, 0))):
    """gx[cell] += gy[window] * (1 / count) for every window holding the cell."""
    x_shape = tuple(int(s) for s in x_shape)
    geom, _ = _geometry(x_shape, ksize, strides, pads)
    gx = np.empty(x_shape, gy.dtype)
    _avg_pool_bwd(np.ascontiguousarray(gy), geom, gx)
    return gx
