"""`tf.losses` (TF1's tf.compat.v1.losses, tensorflow/python/ops/losses/losses_impl.py) in graph
mode: each loss records one Operation calling minigrad's eager loss (minigrad/losses.py, which
does TF1's float32 reduction), and is added to the graph's LOSSES collection, as in TF1.
"""
from minigrad import losses as _eager
from minigrad.compat.v1.graph import Tensor, get_default_graph, graph_of, make_op

LOSSES = "losses"
REGULARIZATION_LOSSES = "regularization_losses"
Reduction = _eager.Reduction


def _record(op_name, fn, args, weights, reduction, loss_collection, scope):
    if isinstance(weights, Tensor):
        # the eager loss counts the nonzero weights in numpy: a Tensor's value would be frozen
        # into the Session's replayed plan
        raise NotImplementedError(f"tf.losses.{op_name}: weights must be a Python number or "
                                  f"array in minigrad.compat.v1, not a Tensor")
    graph = graph_of(list(args))
    with graph.as_default(), graph.name_scope(scope or op_name):
        loss = make_op(op_name, fn, args, {"weights": weights, "reduction": reduction},
                       name="value")
    if loss_collection:
        graph.add_to_collection(loss_collection, loss)
    return loss


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """sum(losses * weights) reduced as `reduction` says (default: the mean over the nonzero
    weights), in float32, cast back to the losses' dtype."""
    return _record("weighted_loss", _eager.compute_weighted_loss, (losses,), weights,
                   reduction, loss_collection, scope)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """(predictions - labels)^2, weighted and reduced; float32 whatever the inputs' dtype."""
    if labels is None or predictions is None:
        raise ValueError("Argument `labels` and `predictions` must not be None.")
    return _record("mean_squared_error", _eager.mean_squared_error, (labels, predictions),
                   weights, reduction, loss_collection, scope)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy against (smoothed) one-hot labels, which take no gradient."""
    if onehot_labels is None or logits is None:
        raise ValueError("Argument `onehot_labels` and `logits` must not be None.")

    def fn(onehot_labels, logits, weights, reduction):
        return _eager.softmax_cross_entropy(onehot_labels, logits, weights, label_smoothing,
                                            reduction=reduction)
    return _record("softmax_cross_entropy_loss", fn, (onehot_labels, logits), weights,
                   reduction, loss_collection, scope)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy against class indices."""
    if labels is None or logits is None:
        raise ValueError("Argument `labels` and `logits` must not be None.")
    return _record("sparse_softmax_cross_entropy_loss", _eager.sparse_softmax_cross_entropy,
                   (labels, logits), weights, reduction, loss_collection, scope)


def add_loss(loss, loss_collection=LOSSES):
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=LOSSES):
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    return get_default_graph().get_collection(REGULARIZATION_LOSSES, scope)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of the collected losses (and regularization losses)."""
    terms = get_losses(scope) + (get_regularization_losses(scope)
                                 if add_regularization_losses else [])
    if not terms:
        raise ValueError("No losses found in the collections.")
    from minigrad.compat.v1.ops import add, identity
    total = terms[0]
    for t in terms[1:]:
        total = add(total, t)
    return identity(total, name=name)


__all__ = ["Reduction", "compute_weighted_loss", "mean_squared_error", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy", "add_loss", "get_losses",
           "get_regularization_losses", "get_total_loss"]
