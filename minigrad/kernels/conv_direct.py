"""Direct 2-D convolution kernels for narrow NHWC layers: no patch matrix, no BLAS.

Same conventions as minigrad.kernels.conv (input NHWC, filter HWIO, cross-correlation, explicit
pads `((top, bottom), (left, right))`, any strides and dilations); conv.py chooses between these
kernels and its im2col + BLAS path, and states the rule.

The three kernels share one register tile: 8 independent accumulators of 8 lanes, kept in
registers over a whole reduction, fed by broadcast loads on one side and 8-lane vector loads
on the other:
    forward          8 output pixels x 8 output channels, reduced over the (i, j, c) taps
                     (the filter read in panels of 8 output channels, each one contiguous)
    backward_filter  8 filter rows (i, j, c) x 8 output channels, reduced over the pixels
    backward_input   at stride 1 the forward on the zero-padded gy with the filter flipped;
                     otherwise 8 output pixels x 8 input channels, reduced over the output
                     channels of one tap (i, j), then added into the padded input gradient
Where the output channels are a multiple of 16, the forward and backward_filter take a tile of
4 pixels (or filter rows) x 16 channels instead (_forward16, _backward_filter16): each value
loaded then serves 16 lanes, and the sums stay the same, in the same order.
Lanes run over output channels (forward, backward_filter) or input channels (backward_input);
when that count is not a multiple of 8 the kernels run on a copy padded with zero channels
and the wrapper slices the result.
Fused work (minigrad.jit.fusion): the forward adds a bias and applies a ReLU to each image's
sums while they are in cache, and hands each chunk of images to a `then` callback (max
pooling); backward_fused takes the output gradient a group of images at a time from a producer
and makes the bias, filter and input gradients of that group before the next. The input (and the input gradient) live in a padded copy,
so that every tap of every pixel is in bounds and the inner loops have no branches.

How the tile is vectorized: the accumulators are 8-tuples (SSA values, so registers), and
LLVM's SLP vectorizer turns each tuple update into one vector FMA. numba compiles with the SLP
vectorizer off (its NUMBA_SLP_VECTORIZE setting), so `_call` turns it on for the compilation of
these kernels only (numba compiles one function at a time, under its global compiler lock,
which `_call` holds while it flips the setting). Without it the kernels give the same bits at
a tenth of the speed (the forward on mnist_cnn's second layer: 15.1 ms against 1.4 ms).
fastmath "contract" lets LLVM fuse each multiply-add into one FMA, as BLAS does; nothing is
reassociated: every accumulator sums its terms in a fixed order.

Summation order, so what "equal within float rounding" means against the im2col path:
  forward, backward_input: each output is one sequential sum in tap order (forward: (i, j, c);
    backward_input: per tap (i, j) a sequential sum over output channels, the taps added into
    the gradient in pixel-tile order), not BLAS's blocking: float32 differences of a few ulps
    of the largest term (relative 1e-6 of the output's scale), float64 1e-15.
  backward_filter: per image a sequential sum over its pixels, then the images summed in order
    within each of up to 8 groups of images fixed by the batch size, then the groups summed:
    float32 agrees with the patch-matrix product to about 1e-6 of the scale, float64 1e-14.
Every kernel's split of the work depends on the shapes only (never on the thread count, nor
on which thread ran what), so float64 and float32 results are identical from run to run.

Threads (minigrad.kernels._threads): the images are cut into chunks (about 4 per thread, each at
least ~2 MFLOP) that the calling thread and `threads() - 1` pool threads take one at a time (the
kernels release the GIL). The caller never waits for a pool thread to start, only for chunks already taken, so on
a busy machine a descheduled helper costs at most one chunk. numba's own thread pool
(parallel=True) is not used: its workers spin-wait beside OpenBLAS's on 2 cores (see conv.py).
"""
import threading

import numba
import numpy as np

from minigrad.kernels._threads import CHUNK_FLOPS, chunks, run
from minigrad.kernels._threads import set_threads, threads  # noqa: F401  (this module's API)

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
# NOTE: uint64 indices let numba skip its negative-index wraparound branch (see conv.py)
_U = np.uint64
LANES = 8
_GROUPS = 8            # backward_filter's image groups (its partial sums)


# ---------------------------------------------------------------------------------------------
# 8-lane tuples: loads, FMA, stores. Inlined into the kernels, where the SLP vectorizer makes
# each of them one vector instruction.

@numba.njit(inline="always", **_JIT)
def _ld8(a, i):
    i = _U(i)
    return (a[i], a[i + _U(1)], a[i + _U(2)], a[i + _U(3)],
            a[i + _U(4)], a[i + _U(5)], a[i + _U(6)], a[i + _U(7)])


@numba.njit(inline="always", **_JIT)
def _fma8(acc, x, w):
    return (acc[0] + x * w[0], acc[1] + x * w[1], acc[2] + x * w[2], acc[3] + x * w[3],
            acc[4] + x * w[4], acc[5] + x * w[5], acc[6] + x * w[6], acc[7] + x * w[7])


@numba.njit(inline="always", **_JIT)
def _st8(a, i, v):
    i = _U(i)
    a[i] = v[0]
    a[i + _U(1)] = v[1]
    a[i + _U(2)] = v[2]
    a[i + _U(3)] = v[3]
    a[i + _U(4)] = v[4]
    a[i + _U(5)] = v[5]
    a[i + _U(6)] = v[6]
    a[i + _U(7)] = v[7]


@numba.njit(inline="always", **_JIT)
def _add8(a, i, v):
    u = _ld8(a, i)
    _st8(a, i, (u[0] + v[0], u[1] + v[1], u[2] + v[2], u[3] + v[3],
                u[4] + v[4], u[5] + v[5], u[6] + v[6], u[7] + v[7]))


@numba.njit(inline="always", **_JIT)
def _zero8(dtype_of):
    z = dtype_of.dtype.type(0)
    return (z, z, z, z, z, z, z, z)


@numba.njit(inline="always", **_JIT)
def _tile_bases(bases, qs, q_lo, npix, oy, ox, ow, base0, row, col):
    """Input offsets (bases) and pixel numbers within the image (qs) of the tile of 8 pixels
    starting at pixel q_lo = (oy, ox) of an image whose window offsets start at base0; pixels
    past the image's last repeat the last one (computed, never stored). Returns the (oy, ox)
    of the next tile."""
    for t in range(8):
        if q_lo + t < npix:
            bases[t] = base0 + oy * row + ox * col
            qs[t] = q_lo + t
            ox += 1
            if ox == ow:
                ox = 0
                oy += 1
        else:
            bases[t] = bases[t - 1]
            qs[t] = qs[t - 1]
    return oy, ox


@numba.njit(**_JIT)
def _tap_offsets(kh, kw, c, dh, dw, wp):
    """Offset of tap (i, j, ch) from a window's first element in the padded [.., wp, c] input,
    in the filter's row order (i, j, ch)."""
    off = np.empty(kh * kw * c, np.int64)
    k = 0
    for i in range(kh):
        for j in range(kw):
            for ch in range(c):
                off[k] = (i * dh * wp + j * dw) * c + ch
                k += 1
    return off


# ---------------------------------------------------------------------------------------------
# Kernels. geom = (kh, kw, sh, sw, dh, dw, oh, ow); xp is the padded input [n, hp, wp, c].

@numba.njit(**_JIT)
def _pad(x, pt, pl, xp, b_lo, b_hi):
    """xp[b, pt:pt+h, pl:pl+w, :c] = x[b], zeros around (and in channels c.. of xp), for the
    images b in [b_lo, b_hi)."""
    n, h, w, c = x.shape
    _, hp, wp, cp = xp.shape
    xf, pf = x.reshape(-1), xp.reshape(-1)
    z = pf.dtype.type(0)
    for b in range(b_lo, b_hi):
        for iy in range(hp):
            d = _U((b * hp + iy) * wp * cp)
            y = iy - pt
            if y < 0 or y >= h:
                for t in range(_U(wp * cp)):
                    pf[d + t] = z
                continue
            for t in range(_U(pl * cp)):
                pf[d + t] = z
            d2 = d + _U(pl * cp)
            s = _U((b * h + y) * w * c)
            if cp == c:
                for t in range(_U(w * c)):
                    pf[d2 + t] = xf[s + t]
            else:
                for ix in range(w):
                    for ch in range(cp):
                        pf[d2 + _U(ix * cp + ch)] = xf[s + _U(ix * c + ch)] if ch < c else z
            for t in range(_U((pl + w) * cp), _U(wp * cp)):
                pf[d + t] = z


@numba.njit(inline="always", **_JIT)
def _epilogue(a, bias, ob, has_bias, relu):
    """The tile's sums, plus the bias (bias[ob:ob+8]) and through a ReLU when asked: the
    additions and np.maximum(v, 0) (NaN kept, max(-0., 0.) = 0.) that BiasAdd and Relu would
    make on the stored sums."""
    if has_bias:
        a = _add8t(a, _ld8(bias, ob))
    if relu:
        z = bias.dtype.type(0)
        a = (_relu(a[0], z), _relu(a[1], z), _relu(a[2], z), _relu(a[3], z),
             _relu(a[4], z), _relu(a[5], z), _relu(a[6], z), _relu(a[7], z))
    return a


@numba.njit(inline="always", **_JIT)
def _add8t(u, v):
    return (u[0] + v[0], u[1] + v[1], u[2] + v[2], u[3] + v[3],
            u[4] + v[4], u[5] + v[5], u[6] + v[6], u[7] + v[7])


@numba.njit(inline="always", **_JIT)
def _relu(v, z):
    return z if v <= z else v        # np.maximum(v, 0): NaN stays, -0. gives 0.


@numba.njit(inline="always", **_JIT)
def _fma4x16(a, x0, x1, x2, x3, v, u):
    """The 4 x 16 tile's update: accumulators a[2q], a[2q+1] += value q times lanes v, u (the
    16 channels), for the 4 values x0..x3 (4 pixels, or 4 filter rows)."""
    return (_fma8(a[0], x0, v), _fma8(a[1], x0, u), _fma8(a[2], x1, v), _fma8(a[3], x1, u),
            _fma8(a[4], x2, v), _fma8(a[5], x2, u), _fma8(a[6], x3, v), _fma8(a[7], x3, u))


@numba.njit(inline="always", **_JIT)
def _forward_setup(xp, w2, y2, geom):
    """What both forward tiles start from: the taps' offsets, the sizes and strides of the
    walk over pixels, the flat views and the tile's scratch (its pixels' offsets and numbers)."""
    kh, kw, sh, sw, dh, dw, oh, ow = geom
    n, hp, wp, c = xp.shape
    off = _tap_offsets(kh, kw, c, dh, dw, wp)
    return (off, off.shape[0], oh * ow, ow, hp * wp * c, sh * wp * c, sw * c, xp.reshape(-1),
            w2.reshape(-1), y2.reshape(-1), np.empty(8, np.int64), np.empty(8, np.int64))


@numba.njit(**_JIT)
def _forward(xp, w2, y2, geom, b_lo, b_hi, bias, has_bias, relu):
    """y2[(b, oy, ox), o] = sum_k xp[window(b, oy, ox) + off[k]] * w[k, o] for the images
    [b_lo, b_hi); w2 [o8 / 8, kh*kw*c, 8] holds w in panels of 8 output channels (each tile
    then reads one contiguous panel), y2 [n*oh*ow, o8], o8 a multiple of 8. has_bias: bias
    [o8] is added to each sum; relu: the result goes through max(., 0) (_epilogue)."""
    off, nk, npix, ow, img, row, col, xf, wf, yf, bases, qs = _forward_setup(xp, w2, y2, geom)
    o8 = w2.shape[0] * 8
    zero = _zero8(yf)
    for b in range(b_lo, b_hi):
        oy = ox = 0
        for q_lo in range(0, npix, 8):
            oy, ox = _tile_bases(bases, qs, q_lo, npix, oy, ox, ow, b * img, row, col)
            p0, p1, p2, p3 = bases[0], bases[1], bases[2], bases[3]
            p4, p5, p6, p7 = bases[4], bases[5], bases[6], bases[7]
            m = npix - q_lo
            d = (b * npix + q_lo) * o8
            for ob in range(0, o8, 8):
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
                wb = ob * nk
                for k in range(nk):
                    wv = _ld8(wf, wb + k * 8)
                    o = off[k]
                    a0 = _fma8(a0, xf[_U(p0 + o)], wv)
                    a1 = _fma8(a1, xf[_U(p1 + o)], wv)
                    a2 = _fma8(a2, xf[_U(p2 + o)], wv)
                    a3 = _fma8(a3, xf[_U(p3 + o)], wv)
                    a4 = _fma8(a4, xf[_U(p4 + o)], wv)
                    a5 = _fma8(a5, xf[_U(p5 + o)], wv)
                    a6 = _fma8(a6, xf[_U(p6 + o)], wv)
                    a7 = _fma8(a7, xf[_U(p7 + o)], wv)
                _st8(yf, d + ob, a0)
                if m > 1:
                    _st8(yf, d + o8 + ob, a1)
                if m > 2:
                    _st8(yf, d + 2 * o8 + ob, a2)
                if m > 3:
                    _st8(yf, d + 3 * o8 + ob, a3)
                if m > 4:
                    _st8(yf, d + 4 * o8 + ob, a4)
                if m > 5:
                    _st8(yf, d + 5 * o8 + ob, a5)
                if m > 6:
                    _st8(yf, d + 6 * o8 + ob, a6)
                if m > 7:
                    _st8(yf, d + 7 * o8 + ob, a7)
        if has_bias or relu:        # the image's sums, still in cache
            _image_epilogue(yf, b, npix, o8, bias, has_bias, relu)


@numba.njit(inline="always", **_JIT)
def _image_epilogue(yf, b, npix, o8, bias, has_bias, relu):
    for r in range(b * npix * o8, (b + 1) * npix * o8, o8):
        for ob in range(0, o8, 8):
            _st8(yf, r + ob, _epilogue(_ld8(yf, r + ob), bias, ob, has_bias, relu))


@numba.njit(**_JIT)
def _forward16(xp, w2, y2, geom, b_lo, b_hi, bias, has_bias, relu):
    """_forward with a tile of 4 pixels x 16 output channels (o8 a multiple of 16): each x
    value loaded serves 16 channels, each filter panel 4 pixels, where the 8 x 8 tile loads
    once per multiply-add (float32 conv2 of mnist_cnn: 1.19 against 1.43 ms). Every sum is
    taken in the same order as _forward's: the same bits."""
    off, nk, npix, ow, img, row, col, xf, wf, yf, bases, qs = _forward_setup(xp, w2, y2, geom)
    o8 = w2.shape[0] * 8
    zero = _zero8(yf)
    for b in range(b_lo, b_hi):
        oy = ox = 0
        for q_lo in range(0, npix, 8):
            oy, ox = _tile_bases(bases, qs, q_lo, npix, oy, ox, ow, b * img, row, col)
            for half in range(0, min(8, npix - q_lo), 4):
                p0, p1, p2, p3 = bases[half], bases[half + 1], bases[half + 2], bases[half + 3]
                m = npix - q_lo - half
                d = (b * npix + q_lo + half) * o8
                for ob in range(0, o8, 16):
                    a = (zero, zero, zero, zero, zero, zero, zero, zero)
                    wb, wb2 = ob * nk, (ob + 8) * nk
                    for k in range(nk):
                        o = off[k]
                        a = _fma4x16(a, xf[_U(p0 + o)], xf[_U(p1 + o)], xf[_U(p2 + o)],
                                     xf[_U(p3 + o)], _ld8(wf, wb + k * 8), _ld8(wf, wb2 + k * 8))
                    a0, a1, a2, a3, a4, a5, a6, a7 = a
                    _st8(yf, d + ob, a0)
                    _st8(yf, d + ob + 8, a1)
                    if m > 1:
                        _st8(yf, d + o8 + ob, a2)
                        _st8(yf, d + o8 + ob + 8, a3)
                    if m > 2:
                        _st8(yf, d + 2 * o8 + ob, a4)
                        _st8(yf, d + 2 * o8 + ob + 8, a5)
                    if m > 3:
                        _st8(yf, d + 3 * o8 + ob, a6)
                        _st8(yf, d + 3 * o8 + ob + 8, a7)
        if has_bias or relu:
            _image_epilogue(yf, b, npix, o8, bias, has_bias, relu)


@numba.njit(inline="always", **_JIT)
def _filter_setup(xp, gy2, gw2, geom):
    """What both backward_filter tiles start from (gw2 zeroed): the output's size, the taps'
    offsets, the strides of the walk over pixels and the flat views."""
    kh, kw, sh, sw, dh, dw, oh, ow = geom
    n, hp, wp, c = xp.shape
    off = _tap_offsets(kh, kw, c, dh, dw, wp)
    wf = gw2.reshape(-1)
    wf[:] = 0
    return (oh, ow, gw2.shape[1], off, off.shape[0], hp * wp * c, sh * wp * c, sw * c,
            xp.reshape(-1), gy2.reshape(-1), wf)


@numba.njit(**_JIT)
def _backward_filter(xp, gy2, gw2, geom, b_lo, b_hi):
    """gw2[k, o] = sum over the images [b_lo, b_hi) of xp[window(b, oy, ox) + off[k]] *
    gy2[(b, oy, ox), o]: per image a sequential sum over its pixels in registers, the images
    then added in order. gy2 [n*oh*ow, o8], gw2 [kh*kw*c, o8] (overwritten)."""
    oh, ow, o8, off, nk, img, row, col, xf, gf, wf = _filter_setup(xp, gy2, gw2, geom)
    zero = _zero8(wf)
    for b in range(b_lo, b_hi):
        for k_lo in range(0, nk, 8):
            last = nk - 1
            r0, r1, r2, r3 = off[k_lo], off[min(k_lo + 1, last)], off[min(k_lo + 2, last)], \
                off[min(k_lo + 3, last)]
            r4, r5, r6, r7 = off[min(k_lo + 4, last)], off[min(k_lo + 5, last)], \
                off[min(k_lo + 6, last)], off[min(k_lo + 7, last)]
            m = nk - k_lo
            for ob in range(0, o8, 8):
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
                for oy in range(oh):
                    s = b * img + oy * row
                    g = ((b * oh + oy) * ow) * o8 + ob
                    for ox in range(ow):
                        gv = _ld8(gf, g + ox * o8)
                        p = s + ox * col
                        a0 = _fma8(a0, xf[_U(p + r0)], gv)
                        a1 = _fma8(a1, xf[_U(p + r1)], gv)
                        a2 = _fma8(a2, xf[_U(p + r2)], gv)
                        a3 = _fma8(a3, xf[_U(p + r3)], gv)
                        a4 = _fma8(a4, xf[_U(p + r4)], gv)
                        a5 = _fma8(a5, xf[_U(p + r5)], gv)
                        a6 = _fma8(a6, xf[_U(p + r6)], gv)
                        a7 = _fma8(a7, xf[_U(p + r7)], gv)
                d = k_lo * o8 + ob
                _add8(wf, d, a0)
                if m > 1:
                    _add8(wf, d + o8, a1)
                if m > 2:
                    _add8(wf, d + 2 * o8, a2)
                if m > 3:
                    _add8(wf, d + 3 * o8, a3)
                if m > 4:
                    _add8(wf, d + 4 * o8, a4)
                if m > 5:
                    _add8(wf, d + 5 * o8, a5)
                if m > 6:
                    _add8(wf, d + 6 * o8, a6)
                if m > 7:
                    _add8(wf, d + 7 * o8, a7)


@numba.njit(**_JIT)
def _backward_filter16(xp, gy2, gw2, geom, b_lo, b_hi):
    """_backward_filter with a tile of 4 filter rows x 16 output channels (o8 a multiple of
    16): fewer loads per multiply-add (mnist_cnn's conv2: 1.62 against 1.81 ms); the same
    sums in the same order, so the same bits."""
    oh, ow, o8, off, nk, img, row, col, xf, gf, wf = _filter_setup(xp, gy2, gw2, geom)
    zero = _zero8(wf)
    last = nk - 1
    for b in range(b_lo, b_hi):
        for k_lo in range(0, nk, 4):
            r0, r1 = off[k_lo], off[min(k_lo + 1, last)]
            r2, r3 = off[min(k_lo + 2, last)], off[min(k_lo + 3, last)]
            m = nk - k_lo
            for ob in range(0, o8, 16):
                a = (zero, zero, zero, zero, zero, zero, zero, zero)
                for oy in range(oh):
                    s = b * img + oy * row
                    g = ((b * oh + oy) * ow) * o8 + ob
                    for ox in range(ow):
                        p = s + ox * col
                        a = _fma4x16(a, xf[_U(p + r0)], xf[_U(p + r1)], xf[_U(p + r2)],
                                     xf[_U(p + r3)], _ld8(gf, g + ox * o8),
                                     _ld8(gf, g + ox * o8 + 8))
                a0, a1, a2, a3, a4, a5, a6, a7 = a
                d = k_lo * o8 + ob
                _add8(wf, d, a0)
                _add8(wf, d + 8, a1)
                if m > 1:
                    _add8(wf, d + o8, a2)
                    _add8(wf, d + o8 + 8, a3)
                if m > 2:
                    _add8(wf, d + 2 * o8, a4)
                    _add8(wf, d + 2 * o8 + 8, a5)
                if m > 3:
                    _add8(wf, d + 3 * o8, a6)
                    _add8(wf, d + 3 * o8 + 8, a7)


@numba.njit(**_JIT)
def _backward_input(gy2, wt2, gxp, geom, b_lo, b_hi):
    """gxp[window(b, oy, ox) + tap(i, j) + ch] += sum_o gy2[(b, oy, ox), o] * wt2[(i, j, o), ch]
    for the images [b_lo, b_hi), whose part of gxp is zeroed first. gxp is the padded
    [n, hp, wp, c8] gradient, wt2 [kh*kw*o, c8] the filter with c and o swapped."""
    kh, kw, sh, sw, dh, dw, oh, ow = geom
    n, hp, wp, c8 = gxp.shape
    no = gy2.shape[1]
    npix = oh * ow
    gf, wf, xf = gy2.reshape(-1), wt2.reshape(-1), gxp.reshape(-1)
    img, row, col = hp * wp * c8, sh * wp * c8, sw * c8
    xf[b_lo * img:b_hi * img] = 0
    bases, qs = np.empty(8, np.int64), np.empty(8, np.int64)
    zero = _zero8(xf)
    for b in range(b_lo, b_hi):
        oy = ox = 0
        for q_lo in range(0, npix, 8):
            oy, ox = _tile_bases(bases, qs, q_lo, npix, oy, ox, ow, b * img, row, col)
            p0, p1, p2, p3 = bases[0], bases[1], bases[2], bases[3]
            p4, p5, p6, p7 = bases[4], bases[5], bases[6], bases[7]
            base_q = b * npix
            g0, g1, g2, g3 = (base_q + qs[0]) * no, (base_q + qs[1]) * no, \
                (base_q + qs[2]) * no, (base_q + qs[3]) * no
            g4, g5, g6, g7 = (base_q + qs[4]) * no, (base_q + qs[5]) * no, \
                (base_q + qs[6]) * no, (base_q + qs[7]) * no
            m = npix - q_lo
            for i in range(kh):
                for j in range(kw):
                    t = (i * dh * wp + j * dw) * c8
                    wk = (i * kw + j) * no * c8
                    for cb in range(0, c8, 8):
                        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
                        for o in range(no):
                            wv = _ld8(wf, wk + o * c8 + cb)
                            a0 = _fma8(a0, gf[_U(g0 + o)], wv)
                            a1 = _fma8(a1, gf[_U(g1 + o)], wv)
                            a2 = _fma8(a2, gf[_U(g2 + o)], wv)
                            a3 = _fma8(a3, gf[_U(g3 + o)], wv)
                            a4 = _fma8(a4, gf[_U(g4 + o)], wv)
                            a5 = _fma8(a5, gf[_U(g5 + o)], wv)
                            a6 = _fma8(a6, gf[_U(g6 + o)], wv)
                            a7 = _fma8(a7, gf[_U(g7 + o)], wv)
                        d = t + cb
                        _add8(xf, p0 + d, a0)
                        if m > 1:
                            _add8(xf, p1 + d, a1)
                        if m > 2:
                            _add8(xf, p2 + d, a2)
                        if m > 3:
                            _add8(xf, p3 + d, a3)
                        if m > 4:
                            _add8(xf, p4 + d, a4)
                        if m > 5:
                            _add8(xf, p5 + d, a5)
                        if m > 6:
                            _add8(xf, p6 + d, a6)
                        if m > 7:
                            _add8(xf, p7 + d, a7)


@numba.njit(**_JIT)
def _crop(xp, pt, pl, x):
    """x = xp[:, pt:pt+h, pl:pl+w, :c]."""
    n, h, w, c = x.shape
    _, hp, wp, cp = xp.shape
    xf, pf = x.reshape(-1), xp.reshape(-1)
    for b in range(n):
        for y in range(h):
            s = _U(((b * hp + y + pt) * wp + pl) * cp)
            d = _U((b * h + y) * w * c)
            if cp == c:
                for t in range(_U(w * c)):
                    xf[d + t] = pf[s + t]
            else:
                for ix in range(_U(w)):
                    for ch in range(_U(c)):
                        xf[d + ix * _U(c) + ch] = pf[s + ix * _U(cp) + ch]


# ---------------------------------------------------------------------------------------------
# Compilation with the SLP vectorizer, threads, scratch storage.

_compiled = set()


def _call(kernel, *args):
    """kernel(*args), its first call per signature compiled (or loaded from numba's cache)
    with LLVM's SLP vectorizer on; numba's setting is restored right after."""
    key = (kernel,) + tuple((a.dtype.char, a.ndim, a.flags.writeable) for a in args
                            if isinstance(a, np.ndarray))
    if key not in _compiled:
        from numba.core import config
        from numba.core.compiler_lock import global_compiler_lock
        sig = tuple(numba.typeof(a) for a in args)
        with global_compiler_lock:
            had, old = hasattr(config, "SLP_VECTORIZE"), getattr(config, "SLP_VECTORIZE", 0)
            config.SLP_VECTORIZE = 1
            try:
                kernel.compile(sig)
            finally:
                if had:
                    config.SLP_VECTORIZE = old
                else:
                    del config.SLP_VECTORIZE
        _compiled.add(key)
    return kernel(*args)


def _groups(n):
    """backward_filter's image groups, fixed by n alone: their partial sums make the result."""
    g = min(n, _GROUPS)
    return [(n * i // g, n * (i + 1) // g) for i in range(g)]


_scratch = threading.local()


def _buffer(name, size, dtype):
    """Per-thread scratch storage (name, dtype), grown on demand, never handed to a caller."""
    bufs = _scratch.__dict__.setdefault("bufs", {})
    key = (name, np.dtype(dtype))
    buf = bufs.get(key)
    if buf is None or buf.size < size:
        buf = bufs[key] = np.empty(max(size, 1), dtype)
    return buf[:size]


def _lanes(n):
    return -(-n // LANES) * LANES


def _geom(w_shape, strides, dilations, oh, ow):
    kh, kw = w_shape[0], w_shape[1]
    return tuple(int(v) for v in (kh, kw, strides[0], strides[1], dilations[0], dilations[1],
                                  oh, ow))


# ---------------------------------------------------------------------------------------------
# Public wrappers. Arguments are trusted (the op layer checks them); (oh, ow) >= 1.

def _padded_shape(x_shape, pads):
    (pt, pb), (pl, pr) = pads
    n, h, w, c = x_shape
    return (n, h + pt + pb, w + pl + pr, c)


def padded_size(x_shape, pads):
    """The number of values of pad_input's result."""
    return int(np.prod(_padded_shape(x_shape, pads)))


def pad_input(x, pads, store, now=True):
    """x [n, h, w, c] surrounded by the zero pads, written into the flat storage `store`
    (padded_size values of x's dtype): the input the forward and backward_filter read.
    now=False: only the padded array's view of `store`, for forward(pad_from=x) to fill
    chunk by chunk."""
    xp = store.reshape(_padded_shape(x.shape, pads))
    if now:
        _call(_pad, np.ascontiguousarray(x), int(pads[0][0]), int(pads[1][0]), xp, 0,
              x.shape[0])
    return xp


def _panels(w):
    """w [kh, kw, c, o] as the forward reads it: [o8 / 8, kh*kw*c, 8], panels of 8 output
    channels (zero channels up to o8)."""
    kh, kw, c, o = w.shape
    k, o8 = kh * kw * c, _lanes(o)
    w2 = np.ascontiguousarray(w).reshape(k, o)
    if o8 != o:
        w2 = np.concatenate([w2, np.zeros((k, o8 - o), w2.dtype)], axis=1)
    return np.ascontiguousarray(w2.reshape(k, o8 // 8, 8).transpose(1, 0, 2))


def forward(xp, w, strides, dilations, out_hw, bias=None, relu=False, then=None,
            pad_from=None):
    """y [n, oh, ow, o] = conv(xp, w): xp from pad_input, out_hw the output (oh, ow); with
    `bias` [o] added and through a ReLU when asked, in the same pass (the same bits as
    BiasAdd and Relu applied to the result). then(y, lo, hi): called by the thread that
    computed the images [lo, hi) of y, right after them (while they are in its cache).
    pad_from (x, pads): xp (from pad_input(now=False)) is filled from x by the threads, each
    padding the images it then convolves."""
    oh, ow = out_hw
    n = xp.shape[0]
    kh, kw, c, o = w.shape
    k, o8 = kh * kw * c, _lanes(o)
    w2 = _panels(w)
    y = np.empty((n, oh, ow, o), xp.dtype)
    y2 = y.reshape(-1, o) if o8 == o else np.empty((n * oh * ow, o8), xp.dtype)
    geom = _geom(w.shape, strides, dilations, oh, ow)
    flops = 2.0 * y.size * k
    parts = chunks(n, flops)
    b8 = np.zeros(o8, xp.dtype)
    if bias is not None:
        b8[:o] = bias
    has_bias, relu = bias is not None, bool(relu)
    kernel = _forward16 if o8 % 16 == 0 else _forward

    if pad_from is not None:
        src, ((pt, _), (pl, _)) = np.ascontiguousarray(pad_from[0]), pad_from[1]

    def part(i):
        if pad_from is not None:
            _call(_pad, src, int(pt), int(pl), xp, *parts[i])
        _call(kernel, xp, w2, y2, geom, *parts[i], b8, has_bias, relu)
        if o8 != o:
            lo, hi = parts[i]
            y[lo:hi].reshape(-1, o)[...] = y2[lo * oh * ow:hi * oh * ow, :o]
        if then is not None:
            then(y, *parts[i])
    run(part, len(parts))
    return y


def backward_filter(xp, gy, w_shape, strides, dilations):
    """gw [kh, kw, c, o] = the filter gradient of conv(xp, w) for output gradient gy."""
    kh, kw, c, o = (int(s) for s in w_shape)
    n, oh, ow, _ = gy.shape
    k, o8 = kh * kw * c, _lanes(o)
    gy2 = np.ascontiguousarray(gy).reshape(-1, o)
    if o8 != o:
        gy2 = np.concatenate([gy2, np.zeros((gy2.shape[0], o8 - o), gy2.dtype)], axis=1)
    groups = _groups(n)
    partial = np.empty((len(groups), k, o8), xp.dtype)
    geom = _geom(w_shape, strides, dilations, oh, ow)
    kernel = _backward_filter16 if o8 % 16 == 0 else _backward_filter
    if 2.0 * gy.size * k < CHUNK_FLOPS * len(groups):     # too little to hand out
        for g in range(len(groups)):
            _call(kernel, xp, gy2, partial[g], geom, *groups[g])
    else:
        run(lambda g: _call(kernel, xp, gy2, partial[g], geom, *groups[g]), len(groups))
    gw = partial[0]
    for g in range(1, len(groups)):
        gw += partial[g]
    return np.ascontiguousarray(gw[:, :o]).reshape(kh, kw, c, o)


@numba.njit(**_JIT)
def _column_sums(g2, out):
    """out = g2's column sums, the rows added in order."""
    for j in range(out.shape[0]):
        out[j] = 0
    for r in range(g2.shape[0]):
        row = g2[r]
        for j in range(out.shape[0]):
            out[j] += row[j]


def _full_pads(x_shape, w_shape, dilations, pads, out_hw):
    """The pads that turn backward_input into a forward on the padded gy (stride 1), or None
    where that form does not apply (see backward_input)."""
    n, h, wd, c = (int(s) for s in x_shape)
    kh, kw = int(w_shape[0]), int(w_shape[1])
    (pt, pb), (pl, pr) = pads
    (dh, dw), (oh, ow) = dilations, out_hw
    top, left = (kh - 1) * dh - pt, (kw - 1) * dw - pl
    full = ((top, h + (kh - 1) * dh - oh - top), (left, wd + (kw - 1) * dw - ow - left))
    if min(min(p) for p in full) < 0 or 4 * h * wd > 5 * oh * ow:
        return None
    return full


def can_fuse_backward(x_shape, w_shape, strides, dilations, pads, out_hw, need_input):
    """Whether backward_fused can take this convolution: output channels a multiple of 8 and,
    when the input gradient is wanted, the stride-1 form of backward_input with input channels
    a multiple of 8."""
    if int(w_shape[3]) % 8:
        return False
    if not need_input:
        return True
    return tuple(strides) == (1, 1) and int(w_shape[2]) % 8 == 0 and \
        _full_pads(x_shape, w_shape, dilations, pads, out_hw) is not None


def backward_fused(xp, w, x_shape, strides, dilations, pads, gy_shape, fill, need_input,
                   need_filter, need_bias):
    """(gx, gw, gb) of conv(x, w) (+ bias), each None unless needed, image group by image group:
    fill(lo, hi, out) writes the output gradient of images [lo, hi) into out [hi-lo, oh, ow, o]
    (a producer fused in front: minigrad.jit puts the max-pool gradient there), and the thread
    that wrote it then adds it into the bias sum, the filter gradient and the input gradient
    while it is in its cache; it never exists whole. can_fuse_backward must hold.

    The groups are backward_filter's (fixed by n): gw is backward_filter's bits, gx
    backward_input's. gb sums each group's rows in order, then the groups in order: another
    order than BiasAdd's BLAS product (float64 agrees to ~1e-15 of the sum's scale)."""
    n, oh, ow, o = (int(s) for s in gy_shape)
    kh, kw, c, _ = w.shape
    dtype = xp.dtype
    groups = _groups(n)
    geom = _geom(w.shape, strides, dilations, oh, ow)
    k = kh * kw * c
    partial = np.empty((len(groups), k, o), dtype) if need_filter else None
    sums = np.empty((len(groups), o), dtype) if need_bias else None
    kernel_f = _backward_filter16 if o % 16 == 0 else _backward_filter
    gx = None
    if need_input:
        h, wd = int(x_shape[1]), int(x_shape[2])
        full = _full_pads(x_shape, w.shape, dilations, pads, (oh, ow))
        flipped = _panels(np.ascontiguousarray(np.asarray(w)[::-1, ::-1].transpose(0, 1, 3, 2)))
        geom_i = _geom((kh, kw, o, c), (1, 1), dilations, h, wd)
        kernel_i = _forward16 if c % 16 == 0 else _forward
        gyp = _buffer("gyp", padded_size(gy_shape, full), dtype).reshape(
            _padded_shape(gy_shape, full))
        gx = np.empty((n, h, wd, c), dtype)
        gx2, no_bias = gx.reshape(-1, c), np.zeros(c, dtype)

    def work(g):
        lo, hi = groups[g]
        m = hi - lo
        gyc = _buffer("gyc", m * oh * ow * o, dtype).reshape(m, oh, ow, o)
        fill(lo, hi, gyc)
        if need_bias:
            _call(_column_sums, gyc.reshape(-1, o), sums[g])
        if need_filter:
            _call(kernel_f, xp[lo:hi], gyc.reshape(-1, o), partial[g], geom, 0, m)
        if need_input:
            _call(_pad, gyc, int(full[0][0]), int(full[1][0]), gyp[lo:hi], 0, m)
            _call(kernel_i, gyp[lo:hi], flipped, gx2[lo * h * wd:hi * h * wd], geom_i, 0, m,
                  no_bias, False, False)
    run(work, len(groups))
    gw = gb = None
    if need_filter:
        gw = partial[0]
        for g in range(1, len(groups)):
            gw += partial[g]
        gw = gw.reshape(kh, kw, c, o)
    if need_bias:
        gb = sums[0].copy()
        for g in range(1, len(groups)):
            gb += sums[g]
    return gx, gw, gb


def backward_input(gy, w, x_shape, strides, dilations, pads):
    """gx [n, h, w, c] = the input gradient of conv(x, w) for output gradient gy.

    Stride 1: the forward kernel on gy, padded to the "full" convolution, with the filter
    flipped in (i, j) and c and o swapped; it computes h*w pixels where the scatter computes
    oh*ow, so only while h*w <= 1.25*oh*ow (SAME, or VALID with a kernel small beside the
    image). Otherwise _backward_input's scatter."""
    n, h, wd, c = (int(s) for s in x_shape)
    kh, kw, _, o = w.shape
    (pt, pb), (pl, pr) = pads
    (dh, dw), oh, ow = dilations, gy.shape[1], gy.shape[2]
    top, left = (kh - 1) * dh - pt, (kw - 1) * dw - pl
    full = ((top, h + (kh - 1) * dh - oh - top), (left, wd + (kw - 1) * dw - ow - left))
    if tuple(strides) == (1, 1) and min(min(p) for p in full) >= 0 and \
            4 * h * wd <= 5 * oh * ow:
        size = padded_size(gy.shape, full)
        gyp = pad_input(gy, full, _buffer("gyp", size, gy.dtype), now=False)
        flipped = np.ascontiguousarray(np.asarray(w)[::-1, ::-1].transpose(0, 1, 3, 2))
        return forward(gyp, flipped, (1, 1), dilations, (h, wd), pad_from=(gy, full))
    c8 = _lanes(c)
    wt2 = np.ascontiguousarray(np.asarray(w).transpose(0, 1, 3, 2)).reshape(kh * kw * o, c)
    if c8 != c:
        wt2 = np.concatenate([wt2, np.zeros((wt2.shape[0], c8 - c), wt2.dtype)], axis=1)
    gy2 = np.ascontiguousarray(gy).reshape(-1, o)
    gx = np.empty((n, h, wd, c), gy2.dtype)
    padded = pt or pb or pl or pr or c8 != c
    shape = (n, h + pt + pb, wd + pl + pr, c8)
    gxp = _buffer("gxp", int(np.prod(shape)), gy2.dtype).reshape(shape) if padded else gx
    geom = _geom(w.shape, strides, dilations, gy.shape[1], gy.shape[2])
    parts = chunks(n, 2.0 * gy.size * kh * kw * c)
    run(lambda i: _call(_backward_input, gy2, wt2, gxp, geom, *parts[i]), len(parts))
    if padded:
        _call(_crop, gxp, int(pt), int(pl), gx)
    return gx
