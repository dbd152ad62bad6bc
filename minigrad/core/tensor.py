"""Tensor and Variable: an ndarray with an identity, the node that made it, and TF's surface.

Operators (+, *, @, [] ...) are installed by `minigrad.ops`, so this module imports numpy only.
"""
import itertools

import numpy as np

from minigrad.core import state
from minigrad.core.dtypes import DType, as_dtype, float32, int32

_ids = itertools.count(1)   # a tensor's identity on tapes: never reused, unlike id()


class TensorShape(tuple):
    """A tuple with TF's `as_list()` and `rank`."""

    def as_list(self):
        return list(self)

    @property
    def rank(self):
        return len(self)

    def num_elements(self):
        return int(np.prod(self)) if self else 1


class Tensor:
    """An immutable value on which ops are recorded. `_node` is the op that produced it, if
    taped."""

    __slots__ = ("_value", "_id", "_node", "_index", "__weakref__")
    __array_priority__ = 100     # numpy defers to our operators: ndarray + Tensor -> Tensor

    def __init__(self, value, node=None, index=0):
        self._value = value
        self._id = next(_ids)
        self._node = node
        self._index = index

    # --- TensorFlow's surface -------------------------------------------------------------
    def numpy(self):
        return self._value

    @property
    def shape(self):
        return TensorShape(self._value.shape)

    @property
    def dtype(self):
        return as_dtype(self._value.dtype)

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def name(self):
        return f"{self._node.name}:{self._index}" if self._node is not None else ""

    @property
    def op(self):
        """The recorded node (op, inputs, attributes) that produced this tensor, or None."""
        return self._node

    def get_shape(self):
        return self.shape

    # --- numpy interop ----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("len() of a scalar (rank-0) tensor")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iterating over a scalar (rank-0) tensor")
        return (self[i] for i in range(len(self._value)))

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return self._value.__index__()

    def __hash__(self):
        return self._id

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", threshold=20)
        return f"<mg.Tensor: shape={tuple(self.shape)}, dtype={self.dtype.name}, numpy={body}>"


class Variable(Tensor):
    """A mutable tensor; trainable ones are watched by every GradientTape automatically.

    Updates write into the same buffer (the optimizers' kernels do this in place), so a
    persistent tape must not be reused across an update of a variable it recorded.
    """

    __slots__ = ("trainable", "_name")
    _counter = itertools.count()

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, shape=None):
        self._name = name or f"Variable_{next(Variable._counter)}"
        tracer = state.variable_creator_tracer()
        if tracer is not None:
            tracer.variable_created(self)       # refused on a later trace of mg.function
        if callable(initial_value):
            with state.init_scope():            # drawn once, not replayed by mg.function
                initial_value = initial_value()
        if isinstance(initial_value, Tensor):
            initial_value = initial_value._value
        value = _to_array(initial_value, dtype)
        super().__init__(np.array(value, copy=True, order="C"))
        self.trainable = bool(trainable)

    @property
    def name(self):
        return f"{self._name}:0"

    def numpy(self):
        return self._value.copy()

    def read_value(self):
        return Tensor(self._value.copy())

    def value(self):
        return self.read_value()

    def assign(self, value):
        self._value[...] = self._checked(value, "assign")
        _replay_effect(lambda v: self.assign(v), value)
        return self

    def assign_add(self, delta):
        self._value += self._checked(delta, "assign_add")
        _replay_effect(lambda v: self.assign_add(v), delta)
        return self

    def assign_sub(self, delta):
        self._value -= self._checked(delta, "assign_sub")
        _replay_effect(lambda v: self.assign_sub(v), delta)
        return self

    def _checked(self, value, opname):
        v = value._value if isinstance(value, Tensor) else np.asarray(value)
        if v.shape != self._value.shape and v.shape != ():
            raise ValueError(f"{opname}: variable '{self._name}' has shape {self._value.shape}, "
                             f"the value has shape {v.shape}")
        return v.astype(self._value.dtype, copy=False)

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", threshold=20)
        return (f"<mg.Variable '{self.name}' shape={tuple(self.shape)} "
                f"dtype={self.dtype.name}, numpy={body}>")


def _replay_effect(fn, value):
    """Under mg.function, an assign is replayed on each call (see core.function)."""
    tracer = state.tracer()
    if tracer is not None:
        t = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        tracer.effect(fn, [t])


def _refuse_inside_function(value, what):
    tracer = state.tracer()
    if tracer is not None and value._id in tracer.known:
        raise RuntimeError(f"{what} inside mg.function would freeze a traced value; use the "
                           f"tensor itself")


def _default_dtype(value):
    """TF's defaults: Python floats -> float32, Python ints -> int32, ndarrays keep their dtype."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int32
    return as_dtype(arr.dtype)


def _to_array(value, dtype=None):
    dt = as_dtype(dtype) if dtype is not None else _default_dtype(value)
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and dt.is_integer:
        raise TypeError(f"cannot convert float value to {dt.name} without losing its fraction; "
                        f"use mg.cast")
    if arr.dtype.kind in "OUS":
        raise TypeError(f"cannot make a tensor from {type(value).__name__} of {arr.dtype}")
    return arr.astype(dt.np, copy=False)


def constant(value, dtype=None, shape=None, name=None):
    """A new Tensor holding `value` (copied), with TF's default dtypes."""
    if isinstance(value, Tensor):
        _refuse_inside_function(value, "mg.constant(tensor)")
        value = value._value
    arr = np.array(_to_array(value, dtype), copy=True)
    if shape is not None:
        arr = np.broadcast_to(arr, tuple(shape)).copy() if arr.size == 1 else arr.reshape(shape)
    return Tensor(arr)


def convert_to_tensor(value, dtype=None):
    """Tensors pass through (dtype-checked); anything else becomes a constant, without copying."""
    if isinstance(value, Tensor):
        if dtype is not None and as_dtype(dtype) != value.dtype:
            raise TypeError(f"expected a {as_dtype(dtype).name} tensor, got {value.dtype.name}")
        return value
    return Tensor(_to_array(value, dtype))


def is_tensor(x):
    return isinstance(x, Tensor)


__all__ = ["Tensor", "Variable", "TensorShape", "constant", "convert_to_tensor", "is_tensor",
           "DType"]
