"""The graph core: dtypes, Tensor, Variable, Op (a node), GradientTape, name_scope."""
from minigrad.core.dtypes import (DType, as_dtype, bool_, float16, float32, float64, int32,
                                  int64, uint8)
from minigrad.core.op import REGISTRY, Op, register
from minigrad.core.tape import GradientTape, apply, name_scope, recording, unbroadcast
from minigrad.core.tensor import (Tensor, TensorShape, Variable, constant, convert_to_tensor,
                                  is_tensor)
