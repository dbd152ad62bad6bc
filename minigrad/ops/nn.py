"""Softmax family and the losses built on it. The cross-entropies are fused ops (one node,
a stable kernel); sigmoid cross-entropy is composed from primitives exactly as TF composes it."""
import numpy as np

from minigrad.core import Op, apply, register
from minigrad.kernels.rowwise import add_row_vector, sum_rows
from minigrad.ops import elementwise as ew
from minigrad.ops._convert import floating, pair, tensor
from minigrad.ops.reduce import reduce_sum
from minigrad.ops.shape import transpose


def _logsumexp_parts(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    total = np.sum(np.exp(shifted), axis=-1, keepdims=True)
    # NOTE: TF's cross-entropy kernels take this log with the scalar std::log (correctly
    # rounded); numpy's vectorised float32 log can be one ulp off. One float64 log per row,
    # rounded back, gives TF's value.
    return shifted, np.log(total, dtype=np.float64).astype(total.dtype, copy=False)


@register
class Softmax(Op):
    """y = exp(x - max) / sum(exp(x - max)); gx = (gy - sum(gy * y)) * y"""
    tf_name = "nn.softmax"

    def forward(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def backward(self, gy):
        y = self.ys[0]
        return ((gy - np.sum(gy * y, axis=-1, keepdims=True)) * y,)


@register
class LogSoftmax(Op):
    """y = x - max - log(sum(exp(x - max))); gx = gy - sum(gy) * exp(y)"""
    tf_name = "nn.log_softmax"

    def forward(self, x):
        shifted, lse = _logsumexp_parts(x)
        return shifted - lse

    def backward(self, gy):
        return (gy - np.sum(gy, axis=-1, keepdims=True) * np.exp(self.ys[0]),)


def _last_axis(op_cls, logits, axis):
    x = floating(op_cls.tf_name, tensor(logits))
    if x.ndim == 0:
        raise ValueError(f"{op_cls.tf_name}: logits must have rank >= 1, got a scalar")
    a = axis % x.ndim
    if a == x.ndim - 1:
        return apply(op_cls(), x)
    perm = list(range(x.ndim))
    perm[a], perm[-1] = perm[-1], perm[a]
    return transpose(apply(op_cls(), transpose(x, perm)), perm)


def softmax(logits, axis=-1, name=None):
    return _last_axis(Softmax, logits, axis)


def log_softmax(logits, axis=-1, name=None):
    return _last_axis(LogSoftmax, logits, axis)


@register
class SoftmaxCrossEntropyWithLogits(Op):
    """y = sum(labels * (lse(x) - x)); gx = gy * (softmax(x) - labels),
    glabels = -gy * log_softmax(x)

    NOTE: TF's kernel assumes each row of labels sums to 1 (gx = softmax - labels), and so do we.
    """
    tf_name = "nn.softmax_cross_entropy_with_logits"

    def forward(self, labels, logits):
        shifted, lse = _logsumexp_parts(logits)
        self.log_probs = shifted - lse
        return np.sum(labels * -self.log_probs, axis=-1)

    def backward(self, gy):
        labels = self.xs[0]
        g = gy[..., None]
        glabels = g * -self.log_probs if self.needs[0] else None
        glogits = g * (np.exp(self.log_probs) - labels) if self.needs[1] else None
        return glabels, glogits

    def release(self):
        super().release()
        self.log_probs = None


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    labels, logits = pair("softmax_cross_entropy_with_logits", labels, logits)
    floating("softmax_cross_entropy_with_logits", logits)
    if labels.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy_with_logits: labels shape {tuple(labels.shape)}"
                         f" and logits shape {tuple(logits.shape)} must be equal")
    if logits.ndim == 0:
        raise ValueError("softmax_cross_entropy_with_logits: logits must have rank >= 1")
    a = axis % logits.ndim
    if a != logits.ndim - 1:
        perm = [i for i in range(logits.ndim) if i != a] + [a]
        labels, logits = transpose(labels, perm), transpose(logits, perm)
    return apply(SoftmaxCrossEntropyWithLogits(), labels, logits)


@register
class SparseSoftmaxCrossEntropyWithLogits(Op):
    """y = lse(x) - x[label]; gx = gy * (softmax(x) - one_hot(label)), no gradient for labels"""
    tf_name = "nn.sparse_softmax_cross_entropy_with_logits"

    def forward(self, labels, logits):
        shifted, lse = _logsumexp_parts(logits)
        self.log_probs = shifted - lse
        picked = np.take_along_axis(self.log_probs, labels[..., None].astype(np.intp), axis=-1)
        return -picked[..., 0]

    def backward(self, gy):
        labels = self.xs[0]
        g = np.exp(self.log_probs)
        np.put_along_axis(g, labels[..., None].astype(np.intp),
                          np.take_along_axis(g, labels[..., None].astype(np.intp), -1) - 1, -1)
        return None, gy[..., None] * g

    def release(self):
        super().release()
        self.log_probs = None


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    name_ = "sparse_softmax_cross_entropy_with_logits"
    logits = floating(name_, tensor(logits))
    labels = tensor(labels)
    if labels.dtype.is_floating:
        raise TypeError(f"{name_}: labels must be integers, got {labels.dtype.name}")
    if logits.ndim == 0 or tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"{name_}: labels shape {tuple(labels.shape)} must equal logits shape "
                         f"{tuple(logits.shape)} without its last dimension")
    lab, n = labels.numpy(), logits.shape[-1]
    if lab.size and (lab.min() < 0 or lab.max() >= n):
        bad = lab[(lab < 0) | (lab >= n)].ravel()[0]
        raise ValueError(f"{name_}: received a label value of {bad} which is outside the valid "
                         f"range of [0, {n}), logits shape {tuple(logits.shape)}")
    return apply(SparseSoftmaxCrossEntropyWithLogits(), labels, logits)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log1p(exp(-|x|)), written with TF's own where/neg composition."""
    labels, logits = pair("sigmoid_cross_entropy_with_logits", labels, logits)
    if labels.shape != logits.shape:
        raise ValueError(f"sigmoid_cross_entropy_with_logits: labels shape "
                         f"{tuple(labels.shape)} and logits shape {tuple(logits.shape)} "
                         f"must be equal")
    zeros = np.zeros((), logits.numpy().dtype)
    cond = tensor(logits.numpy() >= zeros)
    relu_logits = ew.where(cond, logits, zeros)
    neg_abs_logits = ew.where(cond, ew.negative(logits), logits)
    return ew.add(ew.subtract(relu_logits, ew.multiply(logits, labels)),
                  ew.log1p(ew.exp(neg_abs_logits)))


def l2_loss(t, name=None):
    """sum(t * t) / 2"""
    return ew.divide(reduce_sum(ew.square(t)), 2)


@register
class BiasAdd(Op):
    """y = x + b over the last axis; gx = gy, gb = gy summed over every other axis"""
    tf_name = "nn.bias_add"

    def forward(self, x, b):
        return add_row_vector(x, b)

    def backward(self, gy):
        return gy, sum_rows(np.ascontiguousarray(gy).reshape(-1, gy.shape[-1]))


def bias_add(value, bias, data_format=None, name=None):
    """value + bias over the last (channel) axis; bias must be 1-D of that size (NHWC)."""
    value, bias = pair("bias_add", value, bias)
    if data_format not in (None, "NHWC", "NWC", "NDHWC"):
        raise ValueError(f"bias_add: data_format {data_format!r} is not supported "
                         f"(minigrad is channels-last)")
    if bias.ndim != 1 or value.ndim < 2 or value.shape[-1] != bias.shape[0]:
        raise ValueError(f"bias_add: bias of shape {tuple(bias.shape)} must be 1-D and match "
                         f"the last dimension of value {tuple(value.shape)}")
    return apply(BiasAdd(), value, bias)
