"""`mg.initializers`: TF's weight initializers, as callables `init(shape, dtype)` -> ndarray."""
import numpy as np

from minigrad.core import as_dtype, float32
from minigrad.random import generator, truncated_normal_array


class Initializer:
    def __call__(self, shape, dtype=float32):
        return self.sample(tuple(int(n) for n in shape), as_dtype(dtype).np)


class Zeros(Initializer):
    def sample(self, shape, dtype):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    def sample(self, shape, dtype):
        return np.ones(shape, dtype)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def sample(self, shape, dtype):
        v = np.asarray(self.value, dtype)
        return np.broadcast_to(v, shape).copy() if v.size == 1 else v.reshape(shape).copy()


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, dtype):
        z = generator(self.seed).standard_normal(shape)
        return (z * self.stddev + self.mean).astype(dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def sample(self, shape, dtype):
        return generator(self.seed).uniform(self.minval, self.maxval, shape).astype(dtype)


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, dtype):
        return truncated_normal_array(shape, self.mean, self.stddev, generator(self.seed), dtype)


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2]))     # conv kernels: fans scaled by the window size
    return shape[-2] * receptive, shape[-1] * receptive


class GlorotUniform(Initializer):
    """U(-L, L), L = sqrt(6 / (fan_in + fan_out)) (Xavier)."""

    def __init__(self, seed=None):
        self.seed = seed

    def sample(self, shape, dtype):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return generator(self.seed).uniform(-limit, limit, shape).astype(dtype)


class GlorotNormal(Initializer):
    """Truncated normal, stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796."""

    def __init__(self, seed=None):
        self.seed = seed

    def sample(self, shape, dtype):
        fan_in, fan_out = _fans(shape)
        std = np.sqrt(2.0 / max(1.0, fan_in + fan_out)) / 0.87962566103423978
        return truncated_normal_array(shape, 0.0, std, generator(self.seed), dtype)


zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
xavier_initializer = GlorotUniform

# TF1 spellings, re-exported as mg.*_initializer
zeros_initializer, ones_initializer, constant_initializer = Zeros, Ones, Constant
random_normal_initializer, random_uniform_initializer = RandomNormal, RandomUniform
truncated_normal_initializer, glorot_uniform_initializer = TruncatedNormal, GlorotUniform
glorot_normal_initializer = GlorotNormal


def get(identifier):
    """An initializer from a name ('glorot_uniform') or pass an instance/callable through."""
    if callable(identifier):
        return identifier
    table = {"zeros": Zeros, "ones": Ones, "glorot_uniform": GlorotUniform,
             "glorot_normal": GlorotNormal, "random_normal": RandomNormal,
             "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal}
    if identifier not in table:
        raise ValueError(f"unknown initializer {identifier!r}: one of {sorted(table)}")
    return table[identifier]()
