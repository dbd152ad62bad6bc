"""NaN and Inf detection, shared by `mg.debugging.check_numerics` and the engine's
`enable_check_numerics` mode (TF: tensorflow/python/debug/lib/check_numerics_callback.py)."""
import numpy as np

from minigrad.core.errors import InvalidArgumentError


def check_finite(a, what, op=None):
    """Raise InvalidArgumentError naming `what`, the first bad index and the counts when the
    floating array `a` holds a NaN or an Inf; integer arrays always pass."""
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return
    nan, inf = np.isnan(a), np.isinf(a)
    first = np.unravel_index(int(np.flatnonzero(nan | inf)[0]), a.shape) if a.ndim else ()
    value = a[first] if a.ndim else a[()]
    raise InvalidArgumentError(None, op, (
        f"{what}: {'NaN' if np.isnan(value) else value} at index {tuple(int(i) for i in first)}"
        f" ({int(nan.sum())} NaN, {int((inf & (a > 0)).sum())} +Inf, "
        f"{int((inf & (a < 0)).sum())} -Inf of {a.size} elements, dtype {a.dtype}, "
        f"shape {a.shape})"))


def check_outputs(op, xs, ys):
    """enable_check_numerics: every floating output of one op call, with its inputs named."""
    for k, y in enumerate(ys):
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            ins = ", ".join(f"{x.dtype}{list(x.shape)}" for x in xs)
            check_finite(y, f"check_numerics: output {k} of {op.type} '{op.name}' "
                            f"(inputs: {ins})", op)
