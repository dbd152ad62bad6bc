"""`mg.losses`: TF1's tf.compat.v1.losses (losses_impl.py), reductions included.

NOTE: TF1's compute_weighted_loss casts the losses and weights to float32, reduces, and casts
back to the input dtype, so even float64 losses are reduced in float32 (and mean_squared_error
casts its inputs to float32 first and returns float32). We do the same casts, for TF's numbers.
"""
import numpy as np

from minigrad.core import float32
from minigrad.ops import cast, multiply, reduce_sum, square, squeeze, stop_gradient
from minigrad.ops._convert import tensor
from minigrad.ops.nn import (softmax_cross_entropy_with_logits,
                             sparse_softmax_cross_entropy_with_logits)


class Reduction:
    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)


def _safe_mean(total, count):
    """TF's div_no_nan(total, count) for a count that takes no gradient: 0 when count is 0."""
    return total * 0 if count == 0 else total / np.float32(count)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """sum(losses * weights) reduced as `reduction` says (default: over nonzero weights)."""
    if reduction not in Reduction.all():
        raise ValueError(f"compute_weighted_loss: invalid reduction {reduction!r}")
    losses = tensor(losses)
    input_dtype = losses.dtype
    losses = cast(losses, float32)
    w = cast(tensor(weights, float32) if not hasattr(weights, "dtype") else weights, float32)
    try:
        np.broadcast_shapes(tuple(w.shape), tuple(losses.shape))
    except ValueError:
        raise ValueError(f"compute_weighted_loss: weights shape {list(w.shape)} does not "
                         f"broadcast to losses shape {list(losses.shape)}") from None
    weighted = multiply(losses, w)
    if reduction == Reduction.NONE:
        return cast(weighted, input_dtype)
    loss = reduce_sum(weighted)
    wv = w.numpy()
    if reduction == Reduction.MEAN:
        loss = _safe_mean(loss, np.sum(np.broadcast_to(wv, losses.shape), dtype=np.float32))
    elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
        loss = _safe_mean(loss, np.sum(np.broadcast_to(wv != 0, losses.shape), dtype=np.float32))
    elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
        loss = _safe_mean(loss, np.float32(np.prod(losses.shape)))
    return cast(loss, input_dtype)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """(predictions - labels)**2, weighted and reduced; float32 like TF1 (see the NOTE)."""
    if labels is None or predictions is None:
        raise ValueError("mean_squared_error: labels and predictions must not be None")
    p, l = cast(tensor(predictions), float32), cast(tensor(labels), float32)
    if tuple(p.shape) != tuple(l.shape):
        raise ValueError(f"mean_squared_error: predictions shape {list(p.shape)} and labels "
                         f"shape {list(l.shape)} must be equal")
    return compute_weighted_loss(square(p - l), weights, reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=None,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """sparse_softmax_cross_entropy_with_logits, weighted; the mean for a scalar weight."""
    labels, logits = tensor(labels), tensor(logits)
    if labels.ndim == logits.ndim and labels.shape[-1] == 1:
        labels = squeeze(labels, [-1])     # TF's _remove_squeezable_dimensions
    losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """softmax cross-entropy against (smoothed) one-hot labels, which get no gradient."""
    logits = tensor(logits)
    labels = cast(tensor(onehot_labels), logits.dtype)
    if label_smoothing > 0:
        n = logits.shape[-1]
        labels = labels * (1 - label_smoothing) + label_smoothing / n
    losses = softmax_cross_entropy_with_logits(labels=stop_gradient(labels), logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


__all__ = ["Reduction", "compute_weighted_loss", "mean_squared_error",
           "sparse_softmax_cross_entropy", "softmax_cross_entropy"]
