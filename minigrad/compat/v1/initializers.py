"""TF1's initializers, with TF1's defaults (tensorflow/python/ops/init_ops.py, not Keras's).

An initializer is called as `init(shape, dtype=None, partition_info=None)` and returns the
initial array. `tf.get_variable(..., initializer=init)` calls it when the variable's initializer
runs in a session (minigrad.compat.v1.variables): under `tf.set_random_seed` the draw comes
from a stream seeded by the graph seed and the variable's position, so one program gives the
same numbers on every run. An initializer's own `seed=` gives the same numbers wherever it is
used, as an op seed does in TF1. The numbers are numpy's (PCG64), not TF's Philox stream: the
distributions are TF's, the draws are not.

Defaults that differ from Keras' initializers of the same names: random_normal and
truncated_normal have stddev 1.0, random_uniform draws from [0, 1), and
variance_scaling defaults to scale 1.0, mode "fan_in", a truncated normal.

`tf.contrib.layers.xavier_initializer` and contrib's `variance_scaling_initializer` (factor 2.0,
"FAN_IN", its own 1.3 truncation constant) are here too, exported through `contrib.layers`.
"""
import math

import numpy as np

from minigrad import random as mg_random
from minigrad.core import as_dtype, float32
from minigrad.layers.base import Orthogonal as _EagerOrthogonal

# std of a unit normal truncated at +-2 std (init_ops.VarianceScaling's .87962566103423978)
TRUNCATED_STD = 0.87962566103423978


def _shape(shape):
    dims = shape.as_list() if hasattr(shape, "as_list") else (
        [shape] if np.isscalar(shape) else list(shape))
    return tuple(int(n) for n in dims)


def _float_dtype(dtype, who):
    dtype = as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"{who}: expected floating point type, got {dtype.name}")
    return dtype


class Initializer:
    """Base: `init(shape, dtype=None, partition_info=None)` -> ndarray of `dtype` (the
    constructor's dtype when None)."""

    dtype = float32

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = as_dtype(self.dtype if dtype is None else dtype)
        return self._sample(_shape(shape), dtype)

    def _sample(self, shape, dtype):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __init__(self, dtype=float32):
        self.dtype = as_dtype(dtype)

    def _sample(self, shape, dtype):
        return np.zeros(shape, dtype.np)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Zeros):
    def _sample(self, shape, dtype):
        return np.ones(shape, dtype.np)


class Constant(Initializer):
    """TF1's constant_initializer: a scalar fills the shape; a list with fewer elements than
    the shape is padded with its last element, more elements is a ValueError (constant_v1's
    rule); verify_shape=True asks for the exact shape."""

    def __init__(self, value=0, dtype=float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value={value} of type: "
                            f"{type(value).__name__}. Expected Python scalar, list or tuple "
                            f"of values, or numpy.ndarray.")
        self.value, self.dtype, self._verify_shape = value, as_dtype(dtype), verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dtype = as_dtype(self.dtype if dtype is None else dtype)
        shape = _shape(shape)
        value = np.asarray(self.value, dtype.np)
        if (self._verify_shape if verify_shape is None else verify_shape) and \
                value.shape != shape:
            raise TypeError(f"Expected Tensor's shape: {shape}, got {value.shape}.")
        n = int(np.prod(shape))
        if value.size == 1:
            return np.full(shape, value.reshape(()), dtype.np)
        if value.size > n:
            raise ValueError(f"Too many elements provided. Needed at most {n}, but received "
                             f"{value.size}")
        flat = value.reshape(-1)
        if value.size < n:
            flat = np.concatenate([flat, np.full(n - value.size, flat[-1], dtype.np)])
        return flat.reshape(shape)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    """U[minval, maxval); maxval None is 1 for floats (an integer dtype needs maxval)."""

    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=float32):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, as_dtype(dtype)

    def _sample(self, shape, dtype):
        if dtype.is_integer and self.maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        return mg_random.uniform(shape, self.minval, self.maxval, dtype, self.seed).numpy()

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed,
                "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """N(mean, stddev^2), stddev 1.0 by default (TF1)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def _sample(self, shape, dtype):
        dtype = _float_dtype(dtype, type(self).__name__)
        return mg_random.normal(shape, self.mean, self.stddev, dtype, self.seed).numpy()

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed,
                "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with values beyond 2 stddev redrawn (the result's std is
    0.8796 stddev)."""

    def _sample(self, shape, dtype):
        dtype = _float_dtype(dtype, type(self).__name__)
        return mg_random.truncated_normal(shape, self.mean, self.stddev, dtype,
                                          self.seed).numpy()


def _compute_fans(shape):
    """init_ops._compute_fans: (fan_in, fan_out); conv kernels [..., in, out] multiply both
    by the window size."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated(shape, stddev, seed, dtype):
    return mg_random.truncated_normal(shape, 0.0, stddev, dtype, seed).numpy()


def _uniform(shape, limit, seed, dtype):
    return mg_random.uniform(shape, -limit, limit, dtype, seed).numpy()


class VarianceScaling(Initializer):
    """scale / n with n = fan_in, fan_out or their mean; "truncated_normal" (and, in TF1,
    "normal") draws a normal truncated at 2 std with stddev sqrt(scale / n) / .8796 (so that
    the result's std is sqrt(scale / n)), "untruncated_normal" a plain one, "uniform" draws
    U(-limit, limit), limit = sqrt(3 scale / n)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=float32):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be a positive float. Received: {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Argument `mode` should be one of ('fan_in', 'fan_out', "
                             f"'fan_avg'). Received: {mode}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Argument `distribution` should be one of ('normal', 'uniform', "
                             f"'truncated_normal', 'untruncated_normal'). Received: "
                             f"{distribution}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def _sample(self, shape, dtype):
        dtype = _float_dtype(dtype, type(self).__name__)
        fan_in, fan_out = _compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out,
             "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            return _truncated(shape, math.sqrt(scale) / TRUNCATED_STD, self.seed, dtype)
        if self.distribution == "untruncated_normal":
            return mg_random.normal(shape, 0.0, math.sqrt(scale), dtype, self.seed).numpy()
        return _uniform(shape, math.sqrt(3.0 * scale), self.seed, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)): get_variable's default."""

    def __init__(self, seed=None, dtype=float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal with std (after truncation) sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """U(-limit, limit), limit = factor * sqrt(3 / input_size), input_size the product of all
    dimensions but the last (deprecated in TF1, kept for old programs)."""

    def __init__(self, factor=1.0, seed=None, dtype=float32):
        self.factor, self.seed = factor, seed
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def _sample(self, shape, dtype):
        input_size = max(float(np.prod(shape[:-1])) if shape else 1.0, 1.0)
        return _uniform(shape, math.sqrt(3.0 / input_size) * self.factor, self.seed, dtype)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


class Orthogonal(Initializer):
    """Q of the QR of a normal matrix, signs fixed by diag(R), times `gain`."""

    def __init__(self, gain=1.0, seed=None, dtype=float32):
        self.gain, self.seed = gain, seed
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def _sample(self, shape, dtype):
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize, specified by argument `shape` must be "
                             f"at least two-dimensional. Received shape={list(shape)}")
        return _EagerOrthogonal(self.gain, self.seed)(shape, dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """gain * the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=float32):
        self.gain = gain
        self.dtype = _float_dtype(dtype, type(self).__name__)

    def _sample(self, shape, dtype):
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: {list(shape)}")
        return (self.gain * np.eye(*shape)).astype(dtype.np)

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


# --- TF1's names (tf.zeros_initializer is the class itself, as in init_ops) --------------------
zeros_initializer = zeros = Zeros
ones_initializer = ones = Ones
constant_initializer = constant = Constant
random_uniform_initializer = random_uniform = RandomUniform
random_normal_initializer = random_normal = RandomNormal
truncated_normal_initializer = truncated_normal = TruncatedNormal
uniform_unit_scaling_initializer = uniform_unit_scaling = UniformUnitScaling
variance_scaling_initializer = variance_scaling = VarianceScaling
glorot_uniform_initializer = glorot_uniform = GlorotUniform
glorot_normal_initializer = glorot_normal = GlorotNormal
orthogonal_initializer = orthogonal = Orthogonal
identity_initializer = identity = Identity


def global_variables():
    """tf.initializers.global_variables(): tf.global_variables_initializer()."""
    from minigrad.compat.v1.variables import global_variables_initializer
    return global_variables_initializer()


def local_variables():
    from minigrad.compat.v1.variables import local_variables_initializer
    return local_variables_initializer()


def variables(var_list, name="init"):
    from minigrad.compat.v1.variables import variables_initializer
    return variables_initializer(var_list, name=name)


# --- tf.contrib.layers' initializers (contrib/layers/python/layers/initializers.py) ------------
class _ContribVarianceScaling(Initializer):
    """contrib's variance_scaling_initializer: n = fan_in, fan_out or their mean (contrib's
    fans: the last two dims, both times the other dims); uniform: U(-limit, limit) with limit
    sqrt(3 factor / n); else a normal truncated at 2 std with stddev sqrt(1.3 factor / n)."""

    def __init__(self, factor, mode, uniform, seed, dtype):
        self.factor, self.mode, self.uniform, self.seed = factor, mode, uniform, seed
        self.dtype = dtype

    def _sample(self, shape, dtype):
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1]) if shape else 1.0
        fan_out = float(shape[-1]) if shape else 1.0
        for dim in shape[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[
            self.mode]
        if self.uniform:
            return _uniform(shape, math.sqrt(3.0 * self.factor / n), self.seed, dtype)
        return _truncated(shape, math.sqrt(1.3 * self.factor / n), self.seed, dtype)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode, "uniform": self.uniform,
                "seed": self.seed, "dtype": self.dtype.name}


def contrib_variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                         dtype=float32):
    """tf.contrib.layers.variance_scaling_initializer (He et al. by default)."""
    dtype = as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")
    return _ContribVarianceScaling(factor, mode, uniform, seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=float32):
    """tf.contrib.layers.xavier_initializer: U(-sqrt(6 / (in + out)), +sqrt(...)), or with
    uniform=False a normal truncated at 2 std with stddev sqrt(1.3 * 2 / (in + out))."""
    return contrib_variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


xavier_initializer_conv2d = xavier_initializer
