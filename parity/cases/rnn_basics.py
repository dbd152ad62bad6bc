"""The RNN basics lecture (hunkim/DeepLearningZeroToAll lab 12-0) as one trainable case: the
lecture's small demos, each a cell run by dynamic_rnn, all trained together so that outputs,
final states and every weight's gradient are compared.

    hello batch (3, 5, 4): one-hot "hello", "eolll", "lleel"; hidden 2
        BasicRNNCell; BasicLSTMCell with sequence_length [5, 3, 4] and a zero_state initial
        state (sections "dynamic length" and "feeding init state"); GRUCell
    np.arange(45).reshape(3, 5, 3): hidden 5
        BasicRNNCell with sequence_length [5, 3, 4]; BasicLSTMCell; GRUCell

Loss: the sum over the demos of mean((outputs - T)^2) + mean((state - S)^2) against fixed
targets, AdamOptimizer(0.01), 30 steps.
"""
import numpy as np

import minigrad as mg
from parity.cases.rnn_common import (SessionTrainer, make_cell, mg_copy, stack_weights,
                                     tf_copy_ops, under)
from parity.harness import Case, Tolerance, Trainer, register_case

H, E, L, O = np.eye(4)
HELLO = np.array([[H, E, L, L, O], [E, O, L, L, L], [L, L, E, E, L]])
ARANGE = np.arange(45).reshape(3, 5, 3)

# name, input, cell kind, hidden, sequence_length, zero_state initial state
DEMOS = [("hello_rnn", "hello", "rnn", 2, None, False),
         ("hello_lstm", "hello", "lstm", 2, [5, 3, 4], True),
         ("hello_gru", "hello", "gru", 2, None, False),
         ("arange_rnn", "arange", "rnn", 5, [5, 3, 4], False),
         ("arange_lstm", "arange", "lstm", 5, None, False),
         ("arange_gru", "arange", "gru", 5, None, False)]


def states_of(state):
    """[(name, tensor)] of a final state: an LSTMStateTuple's c and h, else the one tensor."""
    return list(zip(("c", "h"), state)) if isinstance(state, tuple) else [("h", state)]


def targets(dtype):
    """Fixed targets for each demo's outputs [3, 5, H] and each state tensor [3, H]."""
    rng = np.random.default_rng(1234)
    out = {}
    for name, _, kind, hidden, _, _ in DEMOS:
        out[f"{name}/outputs"] = rng.uniform(-0.5, 0.5, (3, 5, hidden)).astype(dtype)
        for s in (("c", "h") if kind == "lstm" else ("h",)):
            out[f"{name}/state_{s}"] = rng.uniform(-0.5, 0.5, (3, hidden)).astype(dtype)
    return out


class MinigradBasics(Trainer):
    def __init__(self, weights, data, dtype, compiled=False):
        self.data, self.dtype = data, dtype
        self.cells = {name: make_cell(mg.nn.rnn_cell, kind, [hidden])
                      for name, _, kind, hidden, _, _ in DEMOS}
        self.run()                                        # creates the variables
        variables = []
        for name, cell in self.cells.items():
            variables += mg_copy(name, cell.weights, under(weights, name))
        self.params = dict(zip(weights, variables))
        self.optimizer = mg.train.AdamOptimizer(0.01)
        self.train = mg.function(self.train_step) if compiled else self.train_step

    def run(self):
        """{name/outputs, name/state_c, name/state_h: tensor} of every demo."""
        got = {}
        for name, x, kind, hidden, seq_len, zero_state in DEMOS:
            cell, x = self.cells[name], mg.constant(self.data[x])
            init = cell.zero_state(3, self.dtype) if zero_state else None
            outputs, state = mg.nn.dynamic_rnn(cell, x, sequence_length=seq_len,
                                               initial_state=init, dtype=self.dtype)
            got[f"{name}/outputs"] = outputs
            got.update({f"{name}/state_{s}": t for s, t in states_of(state)})
        return got

    def loss(self):
        terms = [mg.reduce_mean(mg.square(t - self.data[k])) for k, t in self.run().items()]
        return sum(terms[1:], terms[0])

    def train_step(self):
        return self.optimizer.minimize(self.loss, list(self.params.values()))

    def step(self, i):
        return self.train()

    def outputs(self):
        return {k: v.numpy() for k, v in self.run().items()}

    def weights(self):
        return {n: v.numpy() for n, v in self.params.items()}


class SessionBasics(SessionTrainer):
    """The lecture's demos in one TF1 graph, one dynamic_rnn scope per demo."""

    def __init__(self, weights, data, dtype, device):
        self.init, self.data = weights, data
        super().__init__(dtype, device)

    def build(self, tf, v1):
        self.got, copies, variables = {}, [], []
        for name, x, kind, hidden, seq_len, zero_state in DEMOS:
            cell = make_cell(v1.nn.rnn_cell, kind, [hidden])
            x = tf.constant(self.data[x], self.dtype)
            init = cell.zero_state(3, self.dtype) if zero_state else None
            outputs, state = v1.nn.dynamic_rnn(cell, x, sequence_length=seq_len,
                                               initial_state=init, dtype=self.dtype, scope=name)
            self.got[f"{name}/outputs"] = outputs
            self.got.update({f"{name}/state_{s}": t for s, t in states_of(state)})
            copies += tf_copy_ops(name, cell.weights, under(self.init, name))
            variables += cell.weights
        terms = [tf.reduce_mean(tf.square(t - self.data[k])) for k, t in self.got.items()]
        self.loss = sum(terms[1:], terms[0])
        self.train = v1.train.AdamOptimizer(0.01).minimize(self.loss)
        self.params = dict(zip(self.init, variables))
        return copies

    def feed(self, i):
        return {}

    def outputs(self):
        return self.sess.run(self.got)

    def weights(self):
        return self.sess.run(self.params)


@register_case
class RnnBasics(Case):
    name = "rnn_basics"
    steps = 30
    ci_steps = 3
    description = ("lab 12-0: BasicRNNCell, BasicLSTMCell, GRUCell on the one-hot 'hello' batch "
                   "(hidden 2) and arange(45) (hidden 5), sequence_length, zero_state")

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

    def data(self, data_dir, dtype):
        d = {"hello": HELLO.astype(dtype), "arange": ARANGE.astype(dtype)}
        d.update(targets(dtype))
        return d

    def init_weights(self, rng, dtype):
        w = {}
        for name, x, kind, hidden, _, _ in DEMOS:
            w.update(stack_weights(rng, kind, {"hello": 4, "arange": 3}[x], [hidden], scope=name))
        return w

    def build_minigrad(self, weights, data, dtype, compiled=False):
        return MinigradBasics(weights, data, dtype, compiled)

    def build_tf(self, weights, data, dtype, device="cpu"):
        return SessionBasics(weights, data, dtype, device)
