"""Checks: float64 gradcheck, the op table, and the one TensorFlow comparison helper."""
from minigrad.testing.gradcheck import GradcheckError, gradcheck
from minigrad.testing.optable import OP_TABLE, OpInfo, Sample, all_ops
