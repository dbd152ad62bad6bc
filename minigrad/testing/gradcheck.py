"""An independent float64 finite-difference gradient check.

For y = fn(*inputs) and a random non-uniform cotangent ct, the backward pass must give
d<ct, y>/dx_i for every input; central differences estimate the same numbers. On a mismatch it
raises with the largest error and where it is, never a bare bool.
"""
import numpy as np

from minigrad.core import GradientTape, Tensor, constant


class GradcheckError(AssertionError):
    pass


def _flat_outputs(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def gradcheck(fn, inputs, eps=1e-6, rtol=1e-6, atol=1e-8, seed=0, wrt=None):
    """Check tape gradients of `fn` against central differences, in float64, for every input.

    `inputs`: arrays (made float64 tensors); `wrt`: indices of inputs to check (default: all
    floating ones). Returns the max abs error found; raises GradcheckError on a mismatch.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in inputs]
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"] if wrt is None else list(wrt)
    xs = [constant(a) for a in arrays]
    with GradientTape(persistent=True) as tape:
        for i in wrt:
            tape.watch(xs[i])
        ys = _flat_outputs(fn(*xs))
    cts = [rng.uniform(0.5, 1.5, y.shape) * rng.choice([-1.0, 1.0], y.shape) for y in ys]
    analytic = tape.gradient(ys, [xs[i] for i in wrt], output_gradients=cts)

    def objective(vals):
        outs = _flat_outputs(fn(*[constant(v) for v in vals]))
        return sum(float(np.sum(ct * o.numpy())) for ct, o in zip(cts, outs))

    worst = 0.0
    for i, g in zip(wrt, analytic):
        numeric = _numeric_grad(objective, arrays, i, eps)
        g = np.zeros_like(numeric) if g is None else g.numpy()
        err = np.abs(g - numeric)
        bound = atol + rtol * np.abs(numeric)
        if (err > bound).any():
            at = np.unravel_index(np.argmax(err - bound), err.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {arrays[i].shape}): max error {err.max():.3e} at "
                f"index {tuple(int(k) for k in at)}: analytic {g[at]:.10g}, numeric "
                f"{numeric[at]:.10g} (rtol={rtol}, atol={atol})")
        worst = max(worst, float(err.max()) if err.size else 0.0)
    return worst


def _numeric_grad(objective, arrays, i, eps):
    x = arrays[i]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        h = eps * max(1.0, abs(old))
        x[idx] = old + h
        up = objective(arrays)
        x[idx] = old - h
        down = objective(arrays)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


__all__ = ["gradcheck", "GradcheckError"]
