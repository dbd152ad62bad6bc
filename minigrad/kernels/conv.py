"""2-D convolution kernels: numba im2col / col2im around one BLAS matmul.

Layouts are TensorFlow's: input NHWC, filter HWIO `[kh, kw, cin, cout]`, cross-correlation
(no flip). Pads are explicit `((top, bottom), (left, right))`; `conv_output_size` turns TF's
"SAME" / "VALID" into them. Nothing here validates arguments: the op layer does.

The patch matrix ("cols") has one row per output pixel and one column per filter tap, columns
ordered (kh, kw, cin) so that `w.reshape(kh*kw*cin, cout)` is the matching matmul operand:
    y  = cols @ w2            gw2 = cols.T @ gy2            gcols = gy2 @ w2.T -> col2im
With cin == 1 the runs of a row are tiny (kw values), so that case builds the transposed
matrix colsT `[kh*kw, n*oh*ow]`, whose runs are whole output rows.

Determinism: numba loops run in parallel only over images (each image's writes and its
summation order are fixed), and the reductions happen inside BLAS, whose split does not
depend on timing, so float64 results are identical run to run.
"""
import threading

import numba
import numpy as np
from numba import prange

_JIT = dict(cache=True, nogil=True, error_model="numpy")


def conv_output_size(in_size, k, stride, dilation, padding):
    """TF's output size and (pad_before, pad_after) for "SAME", "VALID" or a (before, after) pair.

    The size can be <= 0 when the window does not fit; the op layer rejects that.
    """
    eff_k = (k - 1) * dilation + 1
    if isinstance(padding, str) and padding == "VALID":
        return -(-(in_size - eff_k + 1) // stride), 0, 0
    if isinstance(padding, str) and padding == "SAME":
        out = -(-in_size // stride)
        total = max(0, (out - 1) * stride + eff_k - in_size)
        return out, total // 2, total - total // 2
    before, after = padding
    return (in_size + before + after - eff_k) // stride + 1, before, after


# ---------------------------------------------------------------------------------------------
# Scratch buffers. The patch matrix of one call is large (MBs) and dead once the matmul is
# done; reusing it saves the page faults of a fresh allocation on every call. One buffer per
# thread and dtype, grown on demand, never returned to callers.
_scratch = threading.local()


def _buffer(size, dtype):
    bufs = _scratch.__dict__.setdefault("bufs", {})
    buf = bufs.get(dtype)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype)
        bufs[dtype] = buf
    return buf[:size]


# ---------------------------------------------------------------------------------------------
# numba kernels. `geom` = (kh, kw, sh, sw, dh, dw, pt, pl, oh, ow) packs the geometry.
# NOTE: the run helpers index with uint64: numba then skips its negative-index wraparound
# branch, which otherwise stops LLVM from vectorizing the short copy loops (3-4x slower).
_U = np.uint64


@numba.njit(inline="always", **_JIT)
def _copy(dst, d, src, s, n):
    d, s = _U(d), _U(s)
    for t in range(_U(n)):
        dst[d + t] = src[s + t]


@numba.njit(inline="always", **_JIT)
def _add(dst, d, src, s, n):
    d, s = _U(d), _U(s)
    for t in range(_U(n)):
        dst[d + t] += src[s + t]


@numba.njit(inline="always", **_JIT)
def _zero(dst, d, n):
    d = _U(d)
    for t in range(_U(n)):
        dst[d + t] = 0


@numba.njit(inline="always", **_JIT)
def _ox_range(ow, x0, step, w):
    """Outputs ox in [lo, hi) whose input column x0 + ox*step lies inside [0, w)."""
    lo = 0 if x0 >= 0 else (-x0 + step - 1) // step
    hi = 0 if x0 >= w else (w - x0 + step - 1) // step
    lo = min(lo, ow)
    return lo, max(min(hi, ow), lo)


@numba.njit(parallel=True, **_JIT)
def _im2col(x, geom, cols):
    """cols[(b, oy, ox), (i, j, c)] = x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, c] (0 outside)."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, c = x.shape
    kwc = kw * c
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    for b in prange(n):
        for oy in range(oh):
            for ox in range(ow):
                d = ((b * oh + oy) * ow + ox) * kh * kwc
                x0 = ox * sw - pl
                for i in range(kh):
                    iy = oy * sh - pt + i * dh
                    srow = (b * h + iy) * w * c
                    if iy < 0 or iy >= h:
                        _zero(cf, d, kwc)
                    elif dw == 1 and x0 >= 0 and x0 + kw <= w:
                        _copy(cf, d, xf, srow + x0 * c, kwc)  # the kw taps are one run of x
                    else:
                        for j in range(kw):
                            ix = x0 + j * dw
                            if ix < 0 or ix >= w:
                                _zero(cf, d + j * c, c)
                            else:
                                _copy(cf, d + j * c, xf, srow + ix * c, c)
                    d += kwc


@numba.njit(parallel=True, **_JIT)
def _col2im(gcols, geom, gx):
    """Adjoint of _im2col: gx[b, iy, ix, c] = sum of the gcols entries that read it."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, c = gx.shape
    kwc = kw * c
    gf = gcols.reshape(-1)
    xf = gx.reshape(-1)
    for b in prange(n):
        _zero(xf, b * h * w * c, h * w * c)
        for oy in range(oh):
            for ox in range(ow):
                d = ((b * oh + oy) * ow + ox) * kh * kwc
                x0 = ox * sw - pl
                for i in range(kh):
                    iy = oy * sh - pt + i * dh
                    srow = (b * h + iy) * w * c
                    if iy < 0 or iy >= h:
                        pass
                    elif dw == 1 and x0 >= 0 and x0 + kw <= w:
                        _add(xf, srow + x0 * c, gf, d, kwc)
                    else:
                        for j in range(kw):
                            ix = x0 + j * dw
                            if ix >= 0 and ix < w:
                                _add(xf, srow + ix * c, gf, d + j * c, c)
                    d += kwc


@numba.njit(parallel=True, **_JIT)
def _im2col_t(x, geom, cols_t):
    """cin == 1: cols_t[(i, j), (b, oy, ox)] = x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, 0]."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, _ = x.shape
    m = n * oh * ow
    xf = x.reshape(-1)
    cf = cols_t.reshape(-1)
    for b in prange(n):
        for i in range(kh):
            for j in range(kw):
                x0 = j * dw - pl
                lo, hi = _ox_range(ow, x0, sw, w)
                for oy in range(oh):
                    d = (i * kw + j) * m + (b * oh + oy) * ow
                    iy = oy * sh - pt + i * dh
                    if iy < 0 or iy >= h:
                        _zero(cf, d, ow)
                        continue
                    s = (b * h + iy) * w + x0
                    _zero(cf, d, lo)
                    if sw == 1:
                        _copy(cf, d + lo, xf, s + lo, hi - lo)
                    else:
                        for ox in range(lo, hi):
                            cf[_U(d + ox)] = xf[_U(s + ox * sw)]
                    _zero(cf, d + hi, ow - hi)


@numba.njit(parallel=True, **_JIT)
def _col2im_t(gcols_t, geom, gx):
    """Adjoint of _im2col_t."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, _ = gx.shape
    m = n * oh * ow
    gf = gcols_t.reshape(-1)
    xf = gx.reshape(-1)
    for b in prange(n):
        _zero(xf, b * h * w, h * w)
        for i in range(kh):
            for j in range(kw):
                x0 = j * dw - pl
                lo, hi = _ox_range(ow, x0, sw, w)
                for oy in range(oh):
                    iy = oy * sh - pt + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    d = (i * kw + j) * m + (b * oh + oy) * ow
                    s = (b * h + iy) * w + x0
                    if sw == 1:
                        _add(xf, s + lo, gf, d + lo, hi - lo)
                    else:
                        for ox in range(lo, hi):
                            xf[_U(s + ox * sw)] += gf[_U(d + ox)]


# ---------------------------------------------------------------------------------------------
# Public wrappers.

def _geometry(x_shape, w_shape, strides, dilations, pads):
    kh, kw = w_shape[0], w_shape[1]
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = strides, dilations, pads
    oh = (x_shape[1] + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (x_shape[2] + pl + pr - (kw - 1) * dw - 1) // sw + 1
    oh, ow = max(oh, 0), max(ow, 0)
    geom = tuple(int(v) for v in (kh, kw, sh, sw, dh, dw, pt, pl, oh, ow))
    return geom, oh, ow


def _patches(x, w_shape, strides, dilations, pads):
    """The patch matrix of x (a scratch view), as [m, k] (transposed storage when cin == 1)."""
    x = np.ascontiguousarray(x)
    geom, oh, ow = _geometry(x.shape, w_shape, strides, dilations, pads)
    m, k = x.shape[0] * oh * ow, w_shape[0] * w_shape[1] * w_shape[2]
    if w_shape[2] == 1:
        cols_t = _buffer(m * k, x.dtype).reshape(k, m)
        _im2col_t(x, geom, cols_t)
        return cols_t.T, oh, ow
    cols = _buffer(m * k, x.dtype).reshape(m, k)
    _im2col(x, geom, cols)
    return cols, oh, ow


def conv2d_forward(x, w, strides=(1, 1), dilations=(1, 1), pads=((0, 0), (0, 0))):
    """y[b, oy, ox, o] = sum_{i, j, c} x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, c] w[i, j, c, o]."""
    cols, oh, ow = _patches(x, w.shape, strides, dilations, pads)
    y = np.empty((x.shape[0], oh, ow, w.shape[3]), x.dtype)
    np.matmul(cols, w.reshape(-1, w.shape[3]), out=y.reshape(-1, w.shape[3]))
    return y


def conv2d_backward_input(gy, w, x_shape, strides=(1, 1), dilations=(1, 1),
                          pads=((0, 0), (0, 0))):
    """gx = col2im(gy2 @ w2.T): the adjoint of conv2d_forward in x."""
    x_shape = tuple(int(s) for s in x_shape)
    geom, oh, ow = _geometry(x_shape, w.shape, strides, dilations, pads)
    m, k, cout = x_shape[0] * oh * ow, w.shape[0] * w.shape[1] * w.shape[2], w.shape[3]
    gy2 = np.ascontiguousarray(gy).reshape(m, cout)
    w2 = np.ascontiguousarray(w).reshape(k, cout)
    gx = np.empty(x_shape, gy.dtype)
    if x_shape[3] == 1:
        gcols_t = _buffer(m * k, gy.dtype).reshape(k, m)
        np.matmul(w2, gy2.T, out=gcols_t)
        _col2im_t(gcols_t, geom, gx)
    else:
        gcols = _buffer(m * k, gy.dtype).reshape(m, k)
        np.matmul(gy2, w2.T, out=gcols)
        _col2im(gcols, geom, gx)
    return gx


def conv2d_backward_filter(x, gy, w_shape, strides=(1, 1), dilations=(1, 1),
                           pads=((0, 0), (0, 0))):
    """gw = cols.T @ gy2: the adjoint of conv2d_forward in w."""
    w_shape = tuple(int(s) for s in w_shape)
    cols, _, _ = _patches(x, w_shape, strides, dilations, pads)
    gy2 = np.ascontiguousarray(gy).reshape(-1, w_shape[3])
    gw = np.empty(w_shape, x.dtype)
    np.matmul(cols.T, gy2, out=gw.reshape(-1, w_shape[3]))
    return gw
