"""Deck 002, lab 12-0: RNN basics. Each cell of tf.contrib.rnn on the deck's tiny inputs, in its
own variable scope, its outputs (and final states) printed:

    one-hot h, e, l, o:  'h' and 'hello' through BasicRNNCell(2); the batch 'hello', 'eolll',
    'lleel' [3, 5, 4] through BasicLSTMCell(2), with sequence_length [5, 3, 4], from
    zero_state(3); np.arange(45).reshape(3, 5, 3) through BasicLSTMCell(5), a MultiRNNCell of
    three, lengths [1, 3, 2], bidirectional_dynamic_rnn with lengths [2, 3, 1]

Not in the deck:
- GRUCell (tf.contrib.rnn's third cell) on the same two inputs, so every cell type is shown;
- the MultiRNNCell gets three distinct cells: the deck's `MultiRNNCell([cell] * 3)` shares one
  cell, which TF 1.0 accepted; TF 2's compat.v1 refuses it here (one kernel cannot take the
  input depth 3 and the layers' 5);
- the deck trains nothing. For parity, every output and state is fitted to fixed targets
  (sum of the mean squared errors, AdamOptimizer(0.01)), so that each cell's gradients are
  compared too: run alone, the lecture makes one step, whose fetched values are the deck's
  prints (a step's fetches are computed before its update).
"""
import pprint
import types

import numpy as np

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf

# One hot encoding for each char in 'hello'
h = [1, 0, 0, 0]
e = [0, 1, 0, 0]
l = [0, 0, 1, 0]  # noqa: E741 (the deck's name)
o = [0, 0, 0, 1]


def leaves(structure):
    """The tensors of an output or state structure (LSTMStateTuple, tuples of them), in order."""
    if isinstance(structure, (tuple, list)):
        return [t for s in structure for t in leaves(s)]
    return [structure]


@register
class RnnBasics(Lecture):
    name = "rnn_basics"
    deck = "002, lab 12-0: RNN basics"
    title = "BasicRNNCell, BasicLSTMCell, GRUCell, MultiRNNCell, bidirectional on tiny inputs"
    steps = 1
    loss = "cost"

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        rnn = tf.contrib.rnn    # the deck: from tensorflow.contrib import rnn
        f = getattr(tf, dtype)
        show = {}               # what the deck prints: name -> outputs (or states)

        with tf.variable_scope('one_cell') as scope:  # noqa: F841
            # One cell RNN input_dim (4) -> output_dim (2)
            hidden_size = 2
            cell = tf.contrib.rnn.BasicRNNCell(num_units=hidden_size)
            x_data = np.array([[h]], dtype=dtype)  # x_data = [[[1,0,0,0]]]
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data, dtype=f)
            show['one_cell'] = outputs

        with tf.variable_scope('two_sequances') as scope:  # noqa: F841
            # One cell RNN input_dim (4) -> output_dim (2). sequence: 5
            hidden_size = 2
            cell = tf.contrib.rnn.BasicRNNCell(num_units=hidden_size)
            x_data = np.array([[h, e, l, l, o]], dtype=dtype)
            outputs, states = tf.nn.dynamic_rnn(cell, x_data, dtype=f)
            show['two_sequances'] = outputs

        # 3 batches 'hello', 'eolll', 'lleel'
        x_data = np.array([[h, e, l, l, o],
                           [e, o, l, l, l],
                           [l, l, e, e, l]], dtype=dtype)
        with tf.variable_scope('3_batches') as scope:  # noqa: F841
            # One cell RNN input_dim (4) -> output_dim (2). sequence: 5, batch 3
            hidden_size = 2
            cell = rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
            outputs, _states = tf.nn.dynamic_rnn(
                cell, x_data, dtype=f)
            show['3_batches'] = outputs

        with tf.variable_scope('3_batches_dynamic_length') as scope:  # noqa: F841
            hidden_size = 2
            cell = rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
            outputs, _states = tf.nn.dynamic_rnn(
                cell, x_data, sequence_length=[5, 3, 4], dtype=f)
            show['3_batches_dynamic_length'] = outputs
            show['3_batches_dynamic_length states'] = _states

        with tf.variable_scope('initial_state') as scope:  # noqa: F841
            batch_size = 3
            hidden_size = 2
            cell = rnn.BasicLSTMCell(num_units=hidden_size, state_is_tuple=True)
            initial_state = cell.zero_state(batch_size, f)
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data,
                                                 initial_state=initial_state, dtype=f)
            show['initial_state'] = outputs

        with tf.variable_scope('gru') as scope:  # noqa: F841  (not in the deck)
            cell = rnn.GRUCell(num_units=2)
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data, dtype=f)
            show['gru'] = outputs

        # Create input data
        batch_size = 3
        sequence_length = 5
        input_dim = 3
        x_data = np.arange(45, dtype=dtype).reshape(batch_size, sequence_length, input_dim)

        with tf.variable_scope('generated_data') as scope:  # noqa: F841
            # One cell RNN input_dim (3) -> output_dim (5). sequence: 5, batch: 3
            cell = rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
            initial_state = cell.zero_state(batch_size, f)
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data,
                                                 initial_state=initial_state, dtype=f)
            show['generated_data'] = outputs

        with tf.variable_scope('MultiRNNCell') as scope:  # noqa: F841
            # Make rnn (three distinct cells: see the module's docstring)
            cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
                                     for _ in range(3)], state_is_tuple=True)  # 3 layers
            # rnn in/out
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data, dtype=f)
            show['MultiRNNCell'] = outputs

        with tf.variable_scope('dynamic_rnn') as scope:  # noqa: F841
            cell = rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data, dtype=f,
                                                 sequence_length=[1, 3, 2])
            # lentgh 1 for batch 1, lentgh 2 for batch 2
            show['dynamic_rnn'] = outputs

        with tf.variable_scope('bi-directional') as scope:  # noqa: F841
            # bi-directional rnn
            cell_fw = rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
            cell_bw = rnn.BasicLSTMCell(num_units=5, state_is_tuple=True)
            outputs, states = tf.nn.bidirectional_dynamic_rnn(cell_fw, cell_bw, x_data,
                                                              sequence_length=[2, 3, 1],
                                                              dtype=f)
            show['bi-directional'] = outputs
            show['bi-directional states'] = states

        with tf.variable_scope('gru_generated_data') as scope:  # noqa: F841  (not in the deck)
            cell = rnn.GRUCell(num_units=5)
            outputs, _states = tf.nn.dynamic_rnn(cell, x_data, dtype=f)
            show['gru_generated_data'] = outputs
            show['gru_generated_data states'] = _states

        # not in the deck: every value above fitted to fixed targets, for parity's gradients
        rng = np.random.RandomState(1234)
        fitted = [t for name in show for t in leaves(show[name])]
        terms = [tf.reduce_mean(tf.square(t - rng.uniform(-0.5, 0.5, t.shape.as_list())
                                          .astype(dtype))) for t in fitted]
        cost = sum(terms[1:], terms[0])
        train = tf.train.AdamOptimizer(0.01).minimize(cost)
        return types.SimpleNamespace(show=show, cost=cost, train=train)

    def fetches(self, g):
        return {"cost": g.cost, "train": g.train, "show": g.show}

    def line(self, i, values):
        if i == 0:          # before the first update: the deck's values
            return "\n".join(f"{name}:\n{pprint.pformat(value, indent=4)}"
                             for name, value in values["show"].items())
        if i % 10 == 0:
            return f"fit {i} cost: {values['cost']!s}"
        return None

    def finish(self, g, sess, data):
        return {"cost": float(sess.run(g.cost))}

    def outputs(self, g, sess, data):
        values = sess.run(g.show)
        return {f"{name}/{k}": v for name in values for k, v in enumerate(leaves(values[name]))}
