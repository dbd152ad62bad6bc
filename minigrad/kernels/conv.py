"""2-D convolution kernels: numba im2col / col2im around one BLAS matmul, or the direct
kernels of minigrad.kernels.conv_direct for narrow layers.

Which one: `choose_method`, from the shapes and dtype alone (rule and measurements below,
under "Choosing"). Every public function takes method="im2col" / "direct" to force one.

Layouts are TensorFlow's: input NHWC, filter HWIO `[kh, kw, cin, cout]`, cross-correlation
(no flip). Pads are explicit `((top, bottom), (left, right))`; `conv_output_size` turns TF's
"SAME" / "VALID" into them. Nothing here validates arguments: the op layer does.

The patch matrix ("cols") has one row per output pixel and one column per filter tap, columns
ordered (kh, kw, cin) so that `w.reshape(kh*kw*cin, cout)` is the matching matmul operand:
    y  = cols @ w2            gw2 = cols.T @ gy2            gcols = gy2 @ w2.T -> col2im
A row copies runs of kw*cin contiguous values of x; with cin == 1 they are tiny, so when an
output row is longer (ow > kw) the transposed matrix colsT `[kh*kw, n*oh*ow]` is built
instead: its runs are whole output rows. The copies cost per run more than per value.

Threads: here numpy's OpenBLAS is the only thread pool. The numba loops are serial on purpose:
an OpenMP pool (numba `parallel=True`) spin-waiting beside OpenBLAS's on 2 cores stalled each
call by ~8 ms (one scheduler slice), far more than the copies cost. Reductions happen inside
BLAS, whose split depends on shapes only, or in fixed-order loops: float64 results are
identical run to run. (The direct kernels split their work by images over Python threads, in a
way that never changes their results: see conv_direct.)

Choosing (choose_method, from the shapes and dtype alone): the direct kernels when
    cout <= 16 (float32) or cout <= 32 (float64), and cin <= 128;
    backward_input also needs cin >= 8 (its 8 lanes run over cin; fewer are padded with zeros).
forward and backward_filter always agree: the forward's Patches carry the padded x (direct) or
the patch matrix (im2col) to backward_filter.
Measured on this machine (AMD EPYC with AVX-512, 2 cores), shared with other work (load
average 5-7), hence single-thread CPU time rather than wall time: time.thread_time with
OPENBLAS_NUM_THREADS=1 and one direct thread, best of 3 calls, median of 3 interleaved rounds,
batch 16-32 of 14x14 and 28x28 images, 3x3 and 5x5 SAME filters, cin 1..128, cout 8..128.
direct / im2col time (below 1: direct is faster; single entries move by about 30% run to run):
    float32  forward          0.2-0.8 for cout <= 32 (1.0 at cin 128), 1.0-1.4 at 64,
                              1.4-1.8 at 128
             backward_input   0.1-0.8 for cout <= 16 and cin >= 8, 0.3-1.2 at 32, 1.0-1.9 above
             backward_filter  mostly 0.2-0.9 at cout 8 and 16 (up to 1.2 and 1.9 for 3x3 over
                              16-32 channels, where the forward's gain still covers it),
                              0.5-2.6 at 32, 1.3-3.2 above
    float64  all three        0.1-0.9 for cout <= 32, 0.8-1.5 at 64, 1.1-1.8 at 128
    cin = 1: forward and backward_filter as above (except 3x3 to 8 channels, 9 filter rows in
             two 8-row tiles: backward_filter 1.6-2.2); backward_input 2-7 (7 of 8 lanes idle)
The lecture's layers in that measure (GFLOP/s per core, float32; numpy's 1024^3 sgemm: 100):
    mnist_cnn conv1 1->8 5x5     forward 60 (im2col 21), backward_filter 57 (34)
    mnist_cnn conv2 8->16 5x5    forward 79 (34), backward_input 82 (50), backward_filter 68 (33)
    text_cnn 3x128 over 128 wide forward 77 (95), backward_input 9 (92), backward_filter 36 (92):
                                 im2col, whose product is one well-shaped sgemm
"""
import threading

import numba
import numpy as np

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
# Scratch buffers, for matrices that live inside one call only (backward_input's gradient
# patches, backward_filter's patches when it has to rebuild them): reusing the storage saves
# the page faults of a fresh allocation. Per thread and dtype, grown on demand, never returned,
# and never handed to a caller, so no later call can overwrite something a caller still holds.
_scratch = threading.local()


def _buffer(size, dtype):
    bufs = _scratch.__dict__.setdefault("bufs", {})
    buf = bufs.get(np.dtype(dtype))
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype)
        bufs[np.dtype(dtype)] = buf
    return buf[:size]


class Patches:
    """The patch matrix of one conv2d_forward, for conv2d_backward_filter on the same x.

    The caller owns it: the conv op holds it from its forward until it is released, and
    nothing in this module keeps a reference, so dropping it frees the memory. `cols` is the
    [m, k] matrix (a transposed view when colsT was built), read-only; `store` its storage.
    """
    __slots__ = ("key", "store", "cols")

    def __init__(self, key, store, cols):
        self.key, self.store, self.cols = key, store, cols


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


@numba.njit(**_JIT)
def _im2col(x, geom, cols):
    """cols[(b, oy, ox), (i, j, c)] = x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, c] (0 outside)."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, c = x.shape
    kwc = kw * c
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    for b in range(n):
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


@numba.njit(**_JIT)
def _col2im(gcols, geom, gx):
    """Adjoint of _im2col: gx[b, iy, ix, c] = sum of the gcols entries that read it."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, c = gx.shape
    kwc = kw * c
    gf = gcols.reshape(-1)
    xf = gx.reshape(-1)
    for b in range(n):
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


@numba.njit(**_JIT)
def _im2col_t(x, geom, cols_t):
    """cols_t[(i, j), (b, oy, ox)] = x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, 0]."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, _ = x.shape
    m = n * oh * ow
    xf = x.reshape(-1)
    cf = cols_t.reshape(-1)
    for b in range(n):
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


@numba.njit(**_JIT)
def _col2im_t(gcols_t, geom, gx):
    """Adjoint of _im2col_t."""
    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = geom
    n, h, w, _ = gx.shape
    m = n * oh * ow
    gf = gcols_t.reshape(-1)
    xf = gx.reshape(-1)
    for b in range(n):
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

def _direct():
    from minigrad.kernels import conv_direct
    return conv_direct


def choose_method(x_shape, w_shape, kernel="forward", dtype=np.float32):
    """"direct" or "im2col" for one kernel call, from the shapes and dtype alone (the rule and
    its measurements: the module docstring, "Choosing"). forward and backward_filter get the
    same answer (the forward's Patches carry it to backward_filter); backward_input has its
    own."""
    cin, cout = w_shape[2], w_shape[3]
    max_cout = _DIRECT_MAX_COUT[np.dtype(dtype).itemsize >= 8]
    narrow = cout <= max_cout and cin <= _DIRECT_MAX_CIN
    if kernel == "backward_input":
        narrow = narrow and cin >= _DIRECT_MIN_CIN
    return "direct" if narrow else "im2col"


_DIRECT_MAX_COUT = {False: 16, True: 32}      # float32, float64
_DIRECT_MAX_CIN, _DIRECT_MIN_CIN = 128, 8

def _geometry(x_shape, w_shape, strides, dilations, pads):
    kh, kw = w_shape[0], w_shape[1]
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = strides, dilations, pads
    oh = (x_shape[1] + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (x_shape[2] + pl + pr - (kw - 1) * dw - 1) // sw + 1
    oh, ow = max(oh, 0), max(ow, 0)
    geom = tuple(int(v) for v in (kh, kw, sh, sw, dh, dw, pt, pl, oh, ow))
    return geom, oh, ow


def _transposed(x_shape, w_shape, ow):
    """Build colsT rather than cols: cin == 1 and output rows longer than kernel rows."""
    return x_shape[3] == 1 and ow > w_shape[1]


def _key(x, w_shape, strides, dilations, pads, method):
    """What a Patches depends on besides x's values: (key, oh, ow). The key's last entry is
    the method, "direct" or whether colsT was built."""
    geom, oh, ow = _geometry(x.shape, w_shape, strides, dilations, pads)
    kind = method if method == "direct" else _transposed(x.shape, w_shape, ow)
    return (x.shape, x.dtype.str, geom, kind), oh, ow


def _build(x, key, m, k, store):
    """Fill store (m*k values) with the patches of x; the [m, k] matrix, maybe a view."""
    geom, transposed = key[2], key[3]
    if transposed:
        _im2col_t(x, geom, store.reshape(k, m))
        return store.reshape(k, m).T
    _im2col(x, geom, store.reshape(m, k))
    return store.reshape(m, k)


def conv2d_forward(x, w, strides=(1, 1), dilations=(1, 1), pads=((0, 0), (0, 0)), reuse=None,
                   method=None, bias=None, relu=False, then=None):
    """y[b, oy, ox, o] = sum_ijc x[b, oy*sh - pt + i*dh, ox*sw - pl + j*dw, c] * w[i, j, c, o].

    bias [o], relu: y + bias, then max(., 0), as BiasAdd and Relu would compute them on y
    (the same bits); the direct kernels do both as they store each sum (minigrad.jit fuses
    Conv2D -> BiasAdd -> Relu into this call), the im2col path after its product.
    then(y, lo, hi): run on the images [lo, hi) of y as soon as they are done (the direct
    kernels: by the thread that made them, while in its cache; im2col: once, on all of y).

    Returns (y, patches): patches (a Patches) lets conv2d_backward_filter skip the im2col (or,
    for the direct kernels, the padding of x).
    reuse: a Patches the caller is done with (an op's previous step); its storage is
    overwritten when it has the right size and dtype, and is fresh otherwise.
    method: "im2col", "direct" or None (choose_method's rule).
    """
    x = np.ascontiguousarray(x)
    method = method or choose_method(x.shape, w.shape, dtype=x.dtype)
    key, oh, ow = _key(x, w.shape, strides, dilations, pads, method)
    if method == "direct":
        if oh * ow * x.shape[0] == 0:
            y = np.zeros((x.shape[0], oh, ow, w.shape[3]), x.dtype)
            if then is not None:
                then(y, 0, y.shape[0])
            return y, None
        size = _direct().padded_size(x.shape, pads)
        fits = reuse is not None and reuse.store.size == size and reuse.store.dtype == x.dtype
        store = reuse.store if fits else np.empty(size, x.dtype)
        xp = _direct().pad_input(x, pads, store, now=False)    # the threads pad
        cols = xp.view()
        cols.flags.writeable = False
        y = _direct().forward(xp, w, strides, dilations, (oh, ow), bias, relu, then,
                              pad_from=(x, pads))
        return y, Patches(key, store, cols)
    m, k = x.shape[0] * oh * ow, w.shape[0] * w.shape[1] * w.shape[2]
    fits = reuse is not None and reuse.store.size == m * k and reuse.store.dtype == x.dtype
    store = reuse.store if fits else np.empty(m * k, x.dtype)
    cols = _build(x, key, m, k, store)
    cols.flags.writeable = False
    y = np.empty((x.shape[0], oh, ow, w.shape[3]), x.dtype)
    np.matmul(cols, w.reshape(-1, w.shape[3]), out=y.reshape(-1, w.shape[3]))
    if bias is not None:
        np.add(y, bias, out=y)
    if relu:
        np.maximum(y, y.dtype.type(0), out=y)
    if then is not None:
        then(y, 0, y.shape[0])
    return y, Patches(key, store, cols)


def conv2d_backward_input(gy, w, x_shape, strides=(1, 1), dilations=(1, 1),
                          pads=((0, 0), (0, 0)), method=None):
    """gx = col2im(gy2 @ w2.T) (or the direct kernel): the adjoint of conv2d_forward in x."""
    x_shape = tuple(int(s) for s in x_shape)
    geom, oh, ow = _geometry(x_shape, w.shape, strides, dilations, pads)
    method = method or choose_method(x_shape, w.shape, "backward_input", gy.dtype)
    if method == "direct":
        if gy.size == 0:
            return np.zeros(x_shape, gy.dtype)
        return _direct().backward_input(gy, w, x_shape, strides, dilations, pads)
    m, k, cout = x_shape[0] * oh * ow, w.shape[0] * w.shape[1] * w.shape[2], w.shape[3]
    gy2 = np.ascontiguousarray(gy).reshape(m, cout)
    w2 = np.ascontiguousarray(w).reshape(k, cout)
    gx = np.empty(x_shape, gy.dtype)
    if _transposed(x_shape, w.shape, ow):
        gcols_t = _buffer(m * k, gy.dtype).reshape(k, m)
        np.matmul(w2, gy2.T, out=gcols_t)
        _col2im_t(gcols_t, geom, gx)
    else:
        gcols = _buffer(m * k, gy.dtype).reshape(m, k)
        np.matmul(gy2, w2.T, out=gcols)
        _col2im(gcols, geom, gx)
    return gx


def conv2d_backward_filter(x, gy, w_shape, strides=(1, 1), dilations=(1, 1),
                           pads=((0, 0), (0, 0)), patches=None, method=None):
    """gw = cols.T @ gy2 (or the direct kernel): the adjoint of conv2d_forward in w.

    patches: the Patches conv2d_forward returned for this x (its method wins over `method`);
    without it (a kernel-level call, a gradient check) the patches, or the padded x, are
    rebuilt into scratch storage.
    """
    w_shape = tuple(int(s) for s in w_shape)
    x = np.ascontiguousarray(x)
    if patches is not None:
        method = "direct" if patches.key[3] == "direct" else "im2col"
    method = method or choose_method(x.shape, w_shape, dtype=x.dtype)
    key, oh, ow = _key(x, w_shape, strides, dilations, pads, method)
    if patches is not None and patches.key != key:
        raise ValueError(f"conv2d_backward_filter: patches built for {patches.key}, "
                         f"not for this call's {key}")
    if method == "direct":
        if gy.size == 0:
            return np.zeros(w_shape, x.dtype)
        if patches is None:
            xp = _direct().pad_input(x, pads, _buffer(_direct().padded_size(x.shape, pads),
                                                      x.dtype))
        else:
            xp = patches.store.reshape(patches.cols.shape)
        return _direct().backward_filter(xp, gy, w_shape, strides, dilations)
    if patches is None:
        m, k = x.shape[0] * oh * ow, w_shape[0] * w_shape[1] * w_shape[2]
        cols = _build(x, key, m, k, _buffer(m * k, x.dtype))
    else:
        cols = patches.cols
    gy2 = np.ascontiguousarray(gy).reshape(-1, w_shape[3])
    gw = np.empty(w_shape, x.dtype)
    np.matmul(cols.T, gy2, out=gw.reshape(-1, w_shape[3]))
    return gw
