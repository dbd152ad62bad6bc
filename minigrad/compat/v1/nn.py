"""`tf.nn` in graph mode: minigrad's nn functions recorded as Operations, with TF1's argument
names and defaults (tensorflow/python/ops/nn_ops.py, nn_impl.py, math_ops.py).

Also here: the few top-level TF1 functions that minigrad has no eager op for and that are
composed from its ops (`tf.count_nonzero`, `tf.slice`, `tf.multinomial`); `tf.nn.in_top_k`
likewise. Each composition records one Operation whose function calls minigrad ops only, so a
Session replays it like any other.
"""
import builtins

import numpy as np

import minigrad as mg
from minigrad.compat.v1.graph import Tensor, make_op
from minigrad.compat.v1.ops import (_rng, _tf1_reduction, dropout, log_softmax as
                                    _log_softmax, relu, sigmoid, softmax as _softmax,
                                    stop_gradient, tanh, wrap)
from minigrad.core import apply, as_dtype, int64
from minigrad.ops import random as random_ops


def _ensure_xent_args(name, labels, logits):
    if labels is None or logits is None:
        raise ValueError(f"Both `labels` and `logits` must be provided for {name}. Received: "
                         f"labels={labels} and logits={logits}")


def _axis(axis, dim, default=-1):
    """TF1's deprecated_argument_lookup("axis", axis, "dim", dim)."""
    if axis is not None and dim is not None and axis != dim:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    value = axis if axis is not None else dim
    return default if value is None else value


# --- activations and softmax ---------------------------------------------------------------
def softmax(logits, axis=None, name=None, dim=None):
    return _softmax(logits, axis=_axis(axis, dim), name=name)


def log_softmax(logits, axis=None, name=None, dim=None):
    return _log_softmax(logits, axis=_axis(axis, dim), name=name)


# --- losses ----------------------------------------------------------------------------------
_softmax_xent = wrap(mg.nn.softmax_cross_entropy_with_logits, "SoftmaxCrossEntropyWithLogits")


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Cross-entropy of softmax(logits) against `labels`; the gradient reaches the labels."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", labels, logits)
    return _softmax_xent(labels=labels, logits=logits, axis=_axis(axis, dim), name=name)


def softmax_cross_entropy_with_logits(labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's (deprecated) form: as _v2, with the labels behind a stop_gradient."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", labels, logits)
    labels = stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels, logits, axis=_axis(axis, dim),
                                                name=name)


_sparse_xent = wrap(mg.nn.sparse_softmax_cross_entropy_with_logits,
                    "SparseSoftmaxCrossEntropyWithLogits")
_sigmoid_xent = wrap(mg.nn.sigmoid_cross_entropy_with_logits, "logistic_loss")


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", labels, logits)
    return _sparse_xent(labels=labels, logits=logits, name=name)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", labels, logits)
    return _sigmoid_xent(labels=labels, logits=logits, name=name)


bias_add = wrap(mg.nn.bias_add, "BiasAdd")
l2_loss = wrap(mg.nn.l2_loss, "L2Loss")


# --- convolution, pooling, embeddings ------------------------------------------------------------
_conv2d = wrap(mg.nn.conv2d, "Conv2D")
_max_pool = wrap(mg.nn.max_pool, "MaxPool")
_avg_pool = wrap(mg.nn.avg_pool, "AvgPool")
_embedding_lookup = wrap(mg.nn.embedding_lookup, "embedding_lookup")


def _one_of(what, a, a_name, b, b_name):
    if a is not None and b is not None:
        raise ValueError(f"{what}: give `{a_name}` or `{b_name}`, not both")
    if a is None and b is None:
        raise ValueError(f"{what}: `{a_name}` is required")
    return a if a is not None else b


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,
           data_format="NHWC", dilations=None, name=None, filters=None):
    """TF1's conv2d(input, filter, strides, padding): filter [h, w, in, out]."""
    filters = _one_of("conv2d", filter, "filter", filters, "filters")
    if strides is None or padding is None:
        raise ValueError("conv2d: `strides` and `padding` are required")
    return _conv2d(input, filters, strides, padding, data_format=data_format,
                   dilations=dilations, name=name)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    value = _one_of("max_pool", value, "value", input, "input")
    return _max_pool(value, ksize, strides, padding, data_format=data_format, name=name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    value = _one_of("avg_pool", value, "value", input, "input")
    return _avg_pool(value, ksize, strides, padding, data_format=data_format, name=name)


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    return _embedding_lookup(params, ids, partition_strategy=partition_strategy,
                             validate_indices=validate_indices, max_norm=max_norm, name=name)


# --- compositions: ops TF1 has and minigrad has no kernel for ------------------------------------
def _in_top_k(predictions, targets, k):
    """TF's InTopKV2: out[b] = predictions[b, targets[b]] is among the k largest, ties
    included: fewer than k predictions are strictly greater. False when any prediction of
    the row is not finite."""
    p = mg.convert_to_tensor(predictions)
    zeros = mg.zeros_like(p)
    # the target's prediction, [batch, 1]: the row's sum with every other class zeroed
    hot = mg.cast(mg.one_hot(mg.cast(targets, int64), p.shape[-1], dtype=int64), mg.bool)
    target = mg.reduce_sum(mg.where(hot, p, zeros), axis=1, keepdims=True)
    above = mg.reduce_sum(mg.cast(mg.greater(p, target), int64), axis=1)
    # |x| <= the largest finite value: False for inf and NaN
    big = mg.constant(np.finfo(p.dtype.np).max, dtype=p.dtype)
    finite = mg.reduce_min(mg.cast(mg.less_equal(mg.abs(p), big), int64), axis=1)
    return mg.equal(mg.cast(mg.less(above, mg.cast(k, int64)), int64) * finite,
                    mg.ones_like(finite))


def in_top_k(predictions, targets, k, name=None):
    """Whether each target's prediction is among its row's top k (ties straddling the k-th
    place all count as in), as a [batch] bool Tensor."""
    return make_op("InTopKV2", _in_top_k, (predictions, targets, k), name=name or "in_top_k")


def _count_nonzero(x, axis, keepdims, dtype):
    x = mg.convert_to_tensor(x)
    nonzero = x if x.dtype == mg.bool else mg.not_equal(x, mg.zeros([], x.dtype))
    return mg.cast(mg.reduce_sum(mg.cast(nonzero, int64), axis=axis, keepdims=keepdims), dtype)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):
    """The number of nonzero elements along `axis` (all of them by default), as int64."""
    x = _one_of("count_nonzero", input_tensor, "input_tensor", input, "input")
    _, kw = _tf1_reduction((), {"axis": axis, "reduction_indices": reduction_indices,
                                "keepdims": keepdims, "keep_dims": keep_dims})
    return make_op("count_nonzero", _count_nonzero,
                   (x, kw.get("axis"), bool(kw.get("keepdims", False)), as_dtype(dtype)),
                   name=name or "count_nonzero")


def _slice(x, begin, size):
    x = mg.convert_to_tensor(x)
    begin = [int(b) for b in np.asarray(begin).reshape(-1)]
    size = [int(s) for s in np.asarray(size).reshape(-1)]
    if len(begin) != x.ndim or len(size) != x.ndim:
        raise ValueError(f"slice: begin {begin} and size {size} must have one entry per "
                         f"dimension of the input, shape {list(x.shape)}")
    key = []
    for d, (b, s, n) in enumerate(zip(begin, size, x.shape)):
        end = n if s == -1 else b + s
        if not (0 <= b <= n and b <= end <= n):
            raise ValueError(f"slice: expected begin[{d}] = {b} and size[{d}] = {s} to fit "
                             f"in dimension {d} of shape {list(x.shape)}")
        key.append(builtins.slice(b, end))
    return x[tuple(key)]


def slice(input_, begin, size, name=None):   # noqa: A001  (TF's name)
    """`size` elements from `begin` on each axis (-1: to the end); begin and size are Python
    values (a Tensor's value would be frozen into the plan)."""
    if isinstance(begin, Tensor) or isinstance(size, Tensor):
        raise NotImplementedError("slice: begin and size must be Python values or arrays in "
                                  "minigrad.compat.v1, not Tensors")
    return make_op("Slice", _slice, (input_, begin, size), name=name or "Slice")


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """[batch, num_samples] class indices drawn from softmax(logits[b]) for each row b (the
    random op minigrad.ops.random.Multinomial; a new draw on every run)."""
    if isinstance(num_samples, Tensor):
        raise NotImplementedError("multinomial: num_samples must be a Python int in "
                                  "minigrad.compat.v1, not a Tensor")
    if int(num_samples) < 0:
        raise ValueError(f"multinomial: num_samples should be non-negative, got {num_samples}")
    rng, dtype = _rng(seed), as_dtype(output_dtype or int64)

    def draw(x):
        x = mg.convert_to_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"multinomial: logits should be a matrix, got shape "
                             f"{list(x.shape)}")
        op = random_ops.Multinomial(rng=rng, dtype=dtype.np, num_samples=int(num_samples))
        return apply(op, x)
    return make_op("Multinomial", draw, (logits,), name=name or "multinomial")


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """tf.random.categorical: tf.multinomial with `dtype` for output_dtype."""
    return multinomial(logits, num_samples, seed=seed, name=name, output_dtype=dtype)


__all__ = ["softmax", "log_softmax", "relu", "sigmoid", "tanh", "dropout",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "bias_add", "l2_loss", "conv2d", "max_pool", "avg_pool", "embedding_lookup",
           "in_top_k"]

# the recurrent part lives in minigrad/compat/v1/rnn.py
from minigrad.compat.v1.rnn import (bidirectional_dynamic_rnn, dynamic_rnn, rnn_cell,  # noqa
                                    static_bidirectional_rnn, static_rnn)
