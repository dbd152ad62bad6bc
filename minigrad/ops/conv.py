"""Convolution and pooling as fused ops around the numba kernels (minigrad.kernels.conv, .pool),
and Pad, the primitive their composite twins (minigrad.nn.conv) are built from.

TensorFlow's conventions: input NHWC, filters HWIO, cross-correlation; strides / ksize /
dilations an int or a list of 1, 2 or 4 (batch and channel entries 1); padding "SAME" (the extra
row/column goes bottom/right), "VALID", or explicit `[[0, 0], [top, bottom], [left, right],
[0, 0]]`. Arguments are checked here; the kernels trust them.
"""
import numpy as np

from minigrad.core import Op, apply, register
from minigrad.kernels import lazy
from minigrad.ops._convert import floating, pair, tensor

KC, KP = lazy("conv"), lazy("pool")


# --- argument checks shared by conv and pooling -----------------------------------------------
def _shapes(x, w=None):
    s = f"input shape {tuple(x.shape)}"
    return s if w is None else f"{s}, filters shape {tuple(w.shape)}"


def _hw(opname, what, value, shapes):
    """TF's _get_sequence for NHWC: int or length 1, 2, 4 -> (h, w); batch/channel must be 1."""
    v = [int(value)] if np.isscalar(value) else [int(a) for a in value]
    if len(v) == 1:
        v = v * 2
    elif len(v) == 4:
        if v[0] != 1 or v[3] != 1:
            raise ValueError(f"{opname}: {what} {list(value)} must be 1 in the batch and channel "
                             f"dimensions ({shapes})")
        v = v[1:3]
    elif len(v) != 2:
        raise ValueError(f"{opname}: {what} should be of length 1, 2 or 4, got "
                         f"{list(value)} ({shapes})")
    if min(v) < 1:
        raise ValueError(f"{opname}: {what} {v} must be positive ({shapes})")
    return tuple(v)


def _padding(opname, padding, shapes, explicit_ok=True):
    """'SAME' / 'VALID', or explicit NHWC pairs -> ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"{opname}: unknown padding {padding!r}: expected 'SAME', 'VALID'"
                             f"{' or a list of 4 [before, after] pairs' if explicit_ok else ''}"
                             f" ({shapes})")
        return padding
    try:
        pads = [tuple(int(p) for p in pair_) for pair_ in padding]
    except TypeError:
        pads = None
    if not explicit_ok or pads is None or len(pads) != 4 or any(len(p) != 2 for p in pads) or \
            pads[0] != (0, 0) or pads[3] != (0, 0) or min(min(p) for p in pads) < 0:
        want = " or [[0, 0], [top, bottom], [left, right], [0, 0]], pads >= 0" if explicit_ok \
            else ""
        raise ValueError(f"{opname}: padding {padding!r} must be 'SAME', 'VALID'{want} "
                         f"({shapes})")
    return pads[1], pads[2]


def _rank4(opname, x, shapes, data_format):
    if data_format not in ("NHWC", None):
        raise ValueError(f"{opname}: data_format {data_format!r} is not supported, only "
                         f"'NHWC' ({shapes})")
    if x.ndim != 4:
        raise ValueError(f"{opname}: input must be 4-D [batch, height, width, channels], "
                         f"got rank {x.ndim} ({shapes})")


def _geometry(opname, x_shape, k, strides, dilations, padding, shapes):
    """Output (oh, ow) and pads ((top, bottom), (left, right)). A window larger than the
    padded input gives an empty output, as in TF; a negative output size is an error."""
    out, pads = [], []
    for axis in (0, 1):
        pad = padding if isinstance(padding, str) else padding[axis]
        o, before, after = KC.conv_output_size(x_shape[1 + axis], k[axis], strides[axis],
                                               dilations[axis], pad)
        if o < 0:
            raise ValueError(f"{opname}: the {'height' if axis == 0 else 'width'} window "
                             f"({k[axis]}, dilation {dilations[axis]}) does not fit the padded "
                             f"input: the output size would be {o} ({shapes})")
        out.append(o)
        pads.append((before, after))
    return tuple(out), tuple(pads)


# --- conv2d -----------------------------------------------------------------------------------
@register
class Conv2D(Op):
    """y = sum_ijc xpad[b, oy*s+i*d, ox*s+j*d, c] w[i,j,c,o]; gx = conv^T(gy, w), gw = cols^T gy"""
    tf_name = "nn.conv2d"
    patches = None     # the forward's kernels.conv.Patches (patch matrix or padded x) for gw

    def forward(self, x, w):
        # mg.function replays forward on this same op each step, after the previous step's
        # backward has run: its patches are dead by then, so their storage is reused
        y, self.patches = KC.conv2d_forward(x, w, self.strides, self.dilations, self.pads,
                                            reuse=self.patches)
        return y

    def backward(self, gy):
        x, w = self.xs
        geo = (self.strides, self.dilations, self.pads)
        gx = KC.conv2d_backward_input(gy, w, x.shape, *geo) if self.needs[0] else None
        gw = KC.conv2d_backward_filter(x, gy, w.shape, *geo, patches=self.patches) \
            if self.needs[1] else None
        return gx, gw

    def release(self):
        super().release()
        self.patches = None


def conv2d_args(input, filters, strides, padding, data_format="NHWC", dilations=None):
    """Check conv2d's arguments as TF does: (x, w, strides, dilations, pads, (oh, ow))."""
    x, w = pair("conv2d", input, filters)
    floating("conv2d", x)
    shapes = _shapes(x, w)
    _rank4("conv2d", x, shapes, data_format)
    if w.ndim != 4:
        raise ValueError(f"conv2d: filters must be 4-D [height, width, in, out], got rank "
                         f"{w.ndim} ({shapes})")
    if x.shape[3] != w.shape[2]:
        raise ValueError(f"conv2d: input channels {x.shape[3]} do not match the filters' input "
                         f"channels {w.shape[2]} ({shapes})")
    strides = _hw("conv2d", "strides", strides, shapes)
    dilations = _hw("conv2d", "dilations", 1 if dilations is None else dilations, shapes)
    padding = _padding("conv2d", padding, shapes)
    out, pads = _geometry("conv2d", x.shape, w.shape[:2], strides, dilations, padding, shapes)
    return x, w, strides, dilations, pads, out


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """TF's tf.nn.conv2d: NHWC input, HWIO filters, one fused op (numba kernels: direct ones
    for narrow layers, else im2col + BLAS; kernels.conv.choose_method picks by shape)."""
    x, w, strides, dilations, pads, _ = conv2d_args(input, filters, strides, padding,
                                                    data_format, dilations)
    return apply(Conv2D(strides=strides, dilations=dilations, pads=pads), x, w)


# --- pad --------------------------------------------------------------------------------------
@register
class Pad(Op):
    """y = x surrounded by constant_values; gx = the middle of gy"""
    tf_name = "pad"

    def forward(self, x):
        return np.pad(x, self.paddings, constant_values=self.constant_values)

    def backward(self, gy):
        return (gy[tuple(slice(a, gy.shape[i] - b) for i, (a, b) in enumerate(self.paddings))],)


def pad(tensor_, paddings, mode="CONSTANT", constant_values=0, name=None):
    """tf.pad, CONSTANT mode: `paddings[d] = [before, after]` for each dimension d."""
    x = tensor(tensor_)
    if str(mode).upper() != "CONSTANT":
        raise NotImplementedError(f"pad: mode {mode!r} is not implemented, only 'CONSTANT'")
    p = np.asarray(paddings.numpy() if hasattr(paddings, "numpy") else paddings)
    p = p.astype(np.int64) if p.size == 0 else p
    if p.shape != (x.ndim, 2) or p.dtype.kind not in "iu" or (p.size and p.min() < 0):
        raise ValueError(f"pad: paddings must be non-negative integers of shape "
                         f"[{x.ndim}, 2] for input shape {tuple(x.shape)}, got {p.tolist()}")
    paddings = tuple((int(a), int(b)) for a, b in p)
    return apply(Pad(paddings=paddings, constant_values=x.numpy().dtype.type(constant_values)),
                 x)


# --- pooling ----------------------------------------------------------------------------------
def pool_args(opname, input, ksize, strides, padding, data_format="NHWC"):
    """Check a pooling op's arguments as TF does: (x, ksize, strides, pads, (oh, ow))."""
    x = floating(opname, tensor(input))
    shapes = _shapes(x)
    _rank4(opname, x, shapes, data_format)
    k = _hw(opname, "ksize", ksize, shapes)
    strides = _hw(opname, "strides", strides, shapes)
    padding = _padding(opname, padding, shapes, explicit_ok=opname == "max_pool2d")
    for (before, after), kk in ([] if isinstance(padding, str) else zip(padding, k)):
        if max(before, after) >= kk:
            raise ValueError(f"{opname}: explicit padding {[before, after]} must be smaller "
                             f"than the window size {kk} ({shapes})")
    out, pads = _geometry(opname, x.shape, k, strides, (1, 1), padding, shapes)
    return x, k, strides, pads, out


@register
class MaxPool(Op):
    """y = max over each window (padding never wins); gx = each gy to its window's first max"""
    tf_name = "nn.max_pool2d"

    def forward(self, x):
        y, self.argmax = KP.max_pool_forward(x, self.ksize, self.strides, self.pads)
        return y

    def backward(self, gy):
        return (KP.max_pool_backward(gy, self.argmax, self.xs[0].shape,
                                     window=(self.ksize, self.strides, self.pads)),)

    def release(self):
        super().release()
        self.argmax = None


@register
class AvgPool(Op):
    """y = sum over each window / its count of unpadded inputs; gx = gy / count, spread back"""
    tf_name = "nn.avg_pool2d"

    def forward(self, x):
        return KP.avg_pool_forward(x, self.ksize, self.strides, self.pads)

    def backward(self, gy):
        return (KP.avg_pool_backward(gy, self.xs[0].shape, self.ksize, self.strides,
                                     self.pads),)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """TF's tf.nn.max_pool2d (NHWC): one fused op; the gradient goes to each window's first max."""
    x, k, strides, pads, _ = pool_args("max_pool2d", input, ksize, strides, padding, data_format)
    return apply(MaxPool(ksize=k, strides=strides, pads=pads), x)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """TF's tf.nn.avg_pool2d (NHWC): SAME windows divide by their count of real inputs."""
    x, k, strides, pads, _ = pool_args("avg_pool2d", input, ksize, strides, padding, data_format)
    return apply(AvgPool(ksize=k, strides=strides, pads=pads), x)


max_pool = max_pool2d
avg_pool = avg_pool2d
