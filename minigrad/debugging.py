"""`mg.debugging`: stop at the first NaN or Inf, as `tf.debugging` does.

`check_numerics(t, message)` checks one tensor (and, in the backward pass, its gradient).
`enable_check_numerics()` checks the floating outputs of every op run afterwards in this thread
(eager ops, the gradients of GradientTape.gradient, and functions traced while it is on) and
raises `mg.errors.InvalidArgumentError` naming the op, its inputs' dtypes and shapes and the
first bad index. Like TF's, it takes effect only in the thread that calls it.
"""
from minigrad.core.state import checking_numerics, set_check_numerics
from minigrad.ops.shape import check_numerics


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    set_check_numerics(True)


def disable_check_numerics():
    set_check_numerics(False)


def is_check_numerics_enabled():
    return checking_numerics()


__all__ = ["check_numerics", "enable_check_numerics", "disable_check_numerics"]
