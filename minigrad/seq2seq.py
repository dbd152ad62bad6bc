"""`mg.seq2seq.sequence_loss`: tf.contrib.seq2seq.sequence_loss, gone from TF 2. Its formula
(tensorflow/contrib/seq2seq/python/ops/loss.py, TF 1.15): cross-entropy per step times the
weights, summed, divided by the summed weights + 1e-12 (the averages over time and batch)."""
from minigrad.ops import reduce_sum, reshape
from minigrad.ops._convert import tensor
from minigrad.ops.nn import sparse_softmax_cross_entropy_with_logits


def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, softmax_loss_function=None, name=None):
    """Weighted cross-entropy of logits [B, T, C] against targets [B, T], weights [B, T].

    Both averages: sum(xent * w) / (sum(w) + 1e-12), a scalar. Timesteps only: per row
    sum_t / (sum_t w + 1e-12), [B]. Batch only: per step sum_b / (sum_b w + 1e-12), [T].
    Neither: xent * w, [B, T].
    """
    logits, targets = tensor(logits), tensor(targets)
    weights = tensor(weights, logits.dtype) if not hasattr(weights, "dtype") else weights
    if logits.ndim != 3:
        raise ValueError(f"sequence_loss: logits must be [batch, time, classes], got shape "
                         f"{list(logits.shape)}")
    if targets.ndim != 2 or tuple(targets.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"sequence_loss: targets must be [batch, time] = "
                         f"{list(logits.shape[:2])}, got shape {list(targets.shape)}")
    if tuple(weights.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"sequence_loss: weights must be [batch, time] = "
                         f"{list(logits.shape[:2])}, got shape {list(weights.shape)}")
    B, T, C = logits.shape
    logits_flat, targets_flat = reshape(logits, [-1, C]), reshape(targets, [-1])
    if softmax_loss_function is None:
        crossent = sparse_softmax_cross_entropy_with_logits(labels=targets_flat,
                                                            logits=logits_flat)
    else:
        crossent = softmax_loss_function(labels=targets_flat, logits=logits_flat)
    crossent = crossent * reshape(weights, [-1])
    if average_across_timesteps and average_across_batch:
        return reduce_sum(crossent) / (reduce_sum(weights) + 1e-12)
    crossent = reshape(crossent, [B, T])
    if average_across_timesteps:
        return reduce_sum(crossent, axis=[1]) / (reduce_sum(weights, axis=[1]) + 1e-12)
    if average_across_batch:
        return reduce_sum(crossent, axis=[0]) / (reduce_sum(weights, axis=[0]) + 1e-12)
    return crossent
