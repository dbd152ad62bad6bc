"""The graph core: dtypes, Tensor, Variable, Op (a node), GradientTape, the backward walk, and
the engine's per-thread state (core.state)."""
from minigrad.core.dtypes import (DType, as_dtype, bool_, float16, float32, float64, int32,
                                  int64, uint8)
from minigrad.core.op import REGISTRY, Op, register
from minigrad.core.backward import unbroadcast
from minigrad.core.state import init_scope, name_scope
from minigrad.core.tape import GradientTape, apply, recording
from minigrad.core.tensor import (Tensor, TensorShape, Variable, constant, convert_to_tensor,
                                  is_tensor)
