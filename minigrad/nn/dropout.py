"""`mg.nn.dropout`, composed from primitives exactly as TensorFlow composes it (nn_ops._dropout):

    ret = where(uniform(noise_shape) >= rate, x * (1 / (1 - rate)), 0)

so its gradient is TF's too: gx = where(mask, gy, 0) * scale. The uniform numbers come from
minigrad's numpy streams (`mg.random`), not TF's Philox: to give both engines the same mask, draw
it with `keep_mask` and feed it to TensorFlow (parity/cases/text_cnn.py does this).
"""
import numbers

import numpy as np

from minigrad import random as mg_random
from minigrad.core import Tensor
from minigrad.ops import elementwise as ew
from minigrad.ops._convert import tensor


def _rate(rate, keep_prob):
    if (rate is None) == (keep_prob is None):
        raise ValueError(f"dropout: give exactly one of rate and keep_prob, got rate={rate}, "
                         f"keep_prob={keep_prob}")
    rate = 1 - keep_prob if rate is None else rate
    if isinstance(rate, Tensor):
        rate = float(rate.numpy())
    if not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a float in [0, 1), got {rate} "
                         f"(keep_prob={keep_prob})")
    return float(rate)


def _noise_shape(x_shape, noise_shape):
    if noise_shape is None:
        return tuple(x_shape)
    shape = tuple(int(n) if n is not None else x_shape[i] for i, n in enumerate(noise_shape))
    try:
        np.broadcast_shapes(shape, tuple(x_shape))
    except ValueError:
        raise ValueError(f"dropout: noise_shape {list(noise_shape)} does not broadcast to x "
                         f"shape {tuple(x_shape)}") from None
    return shape


def keep_mask(shape, rate, seed=None, dtype=np.float32):
    """The boolean mask dropout keeps: uniform [0, 1) numbers in `dtype` >= rate (TF's rule),
    drawn from mg.random's stream for `seed` (the global stream when None)."""
    u = mg_random.uniform(shape, 0.0, 1.0, dtype=np.dtype(dtype).name, seed=seed).numpy()
    return u >= np.asarray(rate, u.dtype)


def dropout(x, rate=None, keep_prob=None, seed=None, noise_shape=None, name=None):
    """TF2's tf.nn.dropout (and TF1's with keep_prob=): zero each element with probability
    `rate`, scale the kept ones by 1 / (1 - rate)."""
    x = tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(f"dropout: x must be floating (it is scaled), got {x.dtype.name} "
                         f"{tuple(x.shape)}")
    rate = _rate(rate, keep_prob)
    if rate == 0:
        return x
    dtype = x.numpy().dtype
    mask = keep_mask(_noise_shape(x.shape, noise_shape), rate, seed, dtype)
    scaled = ew.multiply(x, np.asarray(1 / (1 - rate), dtype))
    return ew.where(mask, scaled, np.zeros((), dtype))


__all__ = ["dropout", "keep_mask"]
