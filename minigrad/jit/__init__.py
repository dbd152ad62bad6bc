"""Whole-step compilation: `mg.function(fn, jit_compile=True)` (and a compat.v1 Session with
TF1's `global_jit_level`) lowers each traced plan to generated numba code.

Fused elementwise loops, reductions in numpy's order, small matmuls as loops (large ones call
numpy's BLAS between compiled segments), the optimizers' update kernels called from the
generated code; ops without a lowering replay as before, between the compiled segments.
`Function.explain()` says where each op ran and why. See compiler.py for the stages,
lowering.py for what lowers and how an op's lowering is written, codegen.py for the numbers.

This package sits above minigrad.ops; core.function only holds a hook (`_compiler`), which
importing this package fills.
"""
from minigrad.core import function as _function
from minigrad.jit.compiler import (CompiledPlan, DeferredPlan, JitWarning, UncompiledPlan,
                                   compile_plan, deferred)
from minigrad.jit.ir import Unsupported
from minigrad.jit.lowering import BACKWARD, FORWARD, OPTIMIZERS

_function._compiler = compile_plan

__all__ = ["compile_plan", "deferred", "CompiledPlan", "DeferredPlan", "UncompiledPlan",
           "JitWarning", "Unsupported",
           "FORWARD", "BACKWARD", "OPTIMIZERS"]
