"""The RNN basics lecture (parity/lectures/rnn_basics.py, deck 002, lab 12-0) as a parity case:
the deck's cells on its tiny inputs (BasicRNNCell, BasicLSTMCell with lengths and an initial
state, a MultiRNNCell, bidirectional_dynamic_rnn, and GRUCell), every output and final state
fitted to fixed targets with AdamOptimizer(0.01) for 30 steps, so that outputs, states and every
cell's gradients are compared; its tolerances and initial weights.
"""
import numpy as np

from parity.cases.rnn_common import lecture_weights
from parity.harness import LectureCase, Tolerance, register_case
from parity.lectures import rnn_basics as lectures

# the deck's inputs, for examples/rnn_basics.py: the one-hot batch 'hello', 'eolll', 'lleel'
# and np.arange(45) as [3, 5, 3]
H, E, L, O = np.eye(4)
HELLO = np.array([[H, E, L, L, O], [E, O, L, L, L], [L, L, E, E, L]])
ARANGE = np.arange(45).reshape(3, 5, 3)


@register_case
class RnnBasics(LectureCase):
    lecture = lectures.RnnBasics
    steps = 30
    ci_steps = 3

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9,
                             "float64: the same formulas; only summation order and libm's last "
                             "bit differ")
        return Tolerance(1e-5, None, None, None,
                         "float32: loss at 1e-5 over all 30 steps (TF's assertAllClose scale); "
                         "tensors reported, not judged: the arange demos saturate their gates, "
                         "their gradients are rounding noise and Adam turns any such noise into "
                         "lr-sized steps of either sign")

    def init_weights(self, rng, dtype):
        """TF1's default initial values under the lecture's names (glorot kernels, zero biases,
        the GRU gates' bias one), so both engines start alike and every run repeats."""
        return lecture_weights(self.lecture(), rng, dtype)
