"""Layer: the little that TF1 cells and Keras layers share. Weights are created on the first
call (when the input depth and dtype are known), kept in creation order, and listed by
`weights` / `trainable_variables` in exactly TensorFlow's order, so weights copy by position."""
import numpy as np

from minigrad import initializers
from minigrad.core import Variable, as_dtype, float32, init_scope, state
from minigrad.ops import cast, relu, sigmoid, tanh
from minigrad.ops.nn import softmax
from minigrad.random import generator

_name_counts = {}


def unique_name(base):
    """TF's layer naming: 'dense', 'dense_1', 'dense_2', ..."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name):
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out.replace("r_n_n", "rnn").replace("l_s_t_m", "lstm").replace("g_r_u", "gru")


_ACTIVATIONS = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid, "softmax": softmax,
                "linear": None}


def activation_fn(identifier):
    """None, a name ('tanh', 'relu', 'sigmoid', 'softmax', 'linear') or a callable -> callable
    or None (identity)."""
    if identifier is None or callable(identifier):
        return identifier
    if identifier not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {identifier!r}: one of {sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[identifier]


class Orthogonal(initializers.Initializer):
    """Keras' default recurrent initializer: Q of the QR of a normal matrix, signs fixed by
    diag(R), transposed when there are fewer rows than columns."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape, dtype):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = generator(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)


def initializer(identifier):
    if identifier in ("orthogonal", "Orthogonal"):
        return Orthogonal()
    return initializers.get(identifier)


class Layer:
    """Holds variables created by `add_weight`; `build(depth, dtype)` runs once, on first use.

    dtype: TF1's rule by default (tf.layers: the first input's dtype). With `_autocast` (the
    mg.keras.layers classes) Keras' rule: float32 unless dtype= is given, and floating inputs
    are cast to it.
    """

    _autocast = False

    def __init__(self, name=None, dtype=None, trainable=True):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = as_dtype(dtype) if dtype is not None else (
            float32 if self._autocast else None)
        self.trainable = trainable
        self.built = False
        self._weights = []

    def add_weight(self, name, shape, dtype, init, trainable=True):
        shape = tuple(int(n) for n in shape)
        creator = state.variable_creator()
        if creator is not None:     # graph mode: a graph variable, initialized in a session
            v = creator(f"{self.name}/{name}", shape, dtype,
                        lambda: initializer(init)(shape, dtype), trainable)
            self._weights.append(v)
            return v
        with init_scope():      # a layer first called inside mg.function draws its weights once
            value = initializer(init)(shape, dtype)
            v = Variable(value, trainable=trainable, name=f"{self.name}/{name}", dtype=dtype)
        self._weights.append(v)
        return v

    def _cast_input(self, x):
        if self._autocast and x.dtype.is_floating and x.dtype != self.dtype:
            return cast(x, self.dtype)
        return x

    def _describe(self):
        return f"{type(self).__name__} '{self.name}'"

    # --- TF's weight lists ----------------------------------------------------------------
    @property
    def weights(self):
        return list(self._weights)

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, values):
        """Assign arrays by position (the layer must be built), checking count and shapes."""
        ws = self.weights
        if len(values) != len(ws):
            raise ValueError(f"{self._describe()}: set_weights got {len(values)} arrays for "
                             f"{len(ws)} weights {[tuple(w.shape) for w in ws]}")
        for w, v in zip(ws, values):
            if tuple(np.shape(v)) != tuple(w.shape):
                raise ValueError(f"{self._describe()}: weight '{w.name}' has shape "
                                 f"{tuple(w.shape)}, the value has shape {np.shape(v)}")
            w.assign(np.asarray(v))
