"""Dtypes with TensorFlow's names: mg.float32 (default), mg.float64, mg.int32, mg.int64, mg.bool."""
import numpy as np


class DType:
    """A named wrapper around a numpy dtype, compared equal to it and to its name."""

    def __init__(self, name, np_dtype):
        self.name = name
        self.as_numpy_dtype = np.dtype(np_dtype).type
        self.np = np.dtype(np_dtype)

    @property
    def is_floating(self):
        return self.np.kind == "f"

    @property
    def is_integer(self):
        return self.np.kind in "iu"

    def __eq__(self, other):
        if isinstance(other, DType):
            return self.np == other.np
        try:
            return self.np == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.np)

    def __repr__(self):
        return f"mg.{self.name}"


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)
_ALL = {d.np: d for d in (float16, float32, float64, int32, int64, uint8, bool_)}


def as_dtype(value):
    """Map a DType, numpy dtype, type or name to a DType; TypeError for anything else."""
    if isinstance(value, DType):
        return value
    hit = _ALL.get(value) if isinstance(value, np.dtype) else None
    if hit is not None:            # the hot path: a Tensor asking for its own dtype
        return hit
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"unknown dtype {value!r}: use one of "
                        f"{', '.join(d.name for d in _ALL.values())}") from None
    if npd not in _ALL:
        raise TypeError(f"unsupported dtype {value!r}: use one of "
                        f"{', '.join(d.name for d in _ALL.values())}")
    return _ALL[npd]
