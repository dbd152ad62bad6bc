"""The RNN basics lecture (lab 12-0), in minigrad: what a cell, dynamic_rnn, a batch, a
sequence_length, an initial state and sequence_loss do, section by section, printing shapes
and values.

    h, e, l, o one-hot in 4;  "hello" -> BasicRNNCell(2): outputs [1, 5, 2]
    batch "hello", "eolll", "lleel" [3, 5, 4] -> BasicLSTMCell(2), sequence_length [5, 3, 4]
    np.arange(45).reshape(3, 5, 3) -> BasicRNNCell / BasicLSTMCell / GRUCell(5)
    flatten-based softmax, and sequence_loss on the lecture's toy predictions (0.596759)

The lecture's cells start from random weights (seeded here). Last, the parity case
`rnn_basics` trains all six demos together (their outputs and final states against fixed
targets, Adam 0.01) for --steps steps from its seed-0 weights: the numbers
`python -m parity --case rnn_basics` compares with TensorFlow. (bidirectional_dynamic_rnn, one
more section of the lecture, is not part of minigrad.)

    python examples/rnn_basics.py
    python examples/rnn_basics.py --steps 3        # a smoke run
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                                       # noqa: E402
from minigrad.data import DataError, resolve_data_dir      # noqa: E402
from parity.cases.rnn_basics import ARANGE, HELLO, RnnBasics   # noqa: E402

h, e, l, o = np.eye(4, dtype=np.float32)      # noqa: E741  (the lecture's names)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="accepted for uniformity: the inputs are embedded")
    p.add_argument("--steps", type=int, default=30,
                   help="training steps of the closing joint fit (30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cells' random weights")
    return p.parse_args(argv)


def section(title):
    print(f"\n=== {title} ===")


def show(name, t):
    a = t.numpy() if hasattr(t, "numpy") else np.asarray(t)
    print(f"{name} {list(a.shape)}:\n{np.array2string(a, precision=4, suppress_small=True)}")


def one_cell():
    section("One cell: 4 (input_dim) in 2 (hidden_size), one time step")
    cell = mg.nn.rnn_cell.BasicRNNCell(num_units=2)
    x_data = np.array([[h]], np.float32)                       # [batch 1, time 1, 4]
    outputs, _states = mg.nn.dynamic_rnn(cell, x_data, dtype=mg.float32)
    show("x_data", x_data)
    show("outputs", outputs)

    section("Unfolding to n sequences: 'hello', 5 time steps")
    x_data = np.array([[h, e, l, l, o]], np.float32)            # [1, 5, 4]
    outputs, _states = mg.nn.dynamic_rnn(cell, x_data, dtype=mg.float32)
    show("outputs", outputs)


def batches():
    section("Batching input: 'hello', 'eolll', 'lleel' through BasicLSTMCell(2)")
    cell = mg.nn.rnn_cell.BasicLSTMCell(num_units=2, state_is_tuple=True)
    x_data = HELLO.astype(np.float32)                           # [3, 5, 4]
    outputs, _states = mg.nn.dynamic_rnn(cell, x_data, dtype=mg.float32)
    show("outputs", outputs)

    section("Dynamic length: sequence_length [5, 3, 4] (outputs past the end are zero)")
    outputs, states = mg.nn.dynamic_rnn(cell, x_data, sequence_length=[5, 3, 4],
                                        dtype=mg.float32)
    show("outputs", outputs)
    show("final state c", states.c)
    show("final state h", states.h)

    section("Feeding an initial state: cell.zero_state(batch_size, float32)")
    initial_state = cell.zero_state(3, mg.float32)
    outputs, _states = mg.nn.dynamic_rnn(cell, x_data, initial_state=initial_state,
                                         dtype=mg.float32)
    show("outputs", outputs)


def arange_cells():
    section("Input data np.arange(45).reshape(3, 5, 3): BasicRNNCell, BasicLSTMCell, GRUCell(5)")
    x_data = ARANGE.astype(np.float32)
    show("x_data", x_data)
    for cell, seq_len in ((mg.nn.rnn_cell.BasicRNNCell(5), [5, 3, 4]),
                          (mg.nn.rnn_cell.BasicLSTMCell(5), None),
                          (mg.nn.rnn_cell.GRUCell(5), None)):
        outputs, _states = mg.nn.dynamic_rnn(cell, x_data, sequence_length=seq_len,
                                             dtype=mg.float32)
        what = type(cell).__name__ + (f", sequence_length {seq_len}" if seq_len else "")
        show(f"{what}: outputs", outputs)


def flatten_softmax():
    section("Flatten-based softmax: [batch, time, hidden] -> [-1, hidden] @ W -> back")
    hidden_size, sequence_length, num_classes = 3, 5, 5
    x_data = mg.constant(ARANGE.astype(np.float32))
    x_for_softmax = mg.reshape(x_data, [-1, hidden_size])
    softmax_w = mg.constant(np.arange(15, dtype=np.float32).reshape(hidden_size, num_classes))
    outputs = mg.matmul(x_for_softmax, softmax_w)
    outputs = mg.reshape(outputs, [-1, sequence_length, num_classes])
    show("outputs", outputs)


def sequence_losses():
    section("sequence_loss: mean cross-entropy over the steps")
    y_data = mg.constant(np.array([[1, 1, 1]], np.int32))
    weights = mg.constant(np.ones((1, 3), np.float32))
    predictions = {
        "prediction": [[0.2, 0.7], [0.6, 0.2], [0.2, 0.9]],
        "prediction1": [[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]],
        "prediction2": [[0.1, 0.9], [0.1, 0.9], [0.1, 0.9]],
        "prediction3": [[1, 0], [1, 0], [1, 0]],
        "prediction4": [[0, 1], [1, 0], [0, 1]],
    }
    losses = {}
    for name, p in predictions.items():
        logits = mg.constant(np.array([p], np.float32))
        losses[name] = float(mg.seq2seq.sequence_loss(logits=logits, targets=y_data,
                                                      weights=weights))
        print(f"{name:12} {p} -> loss {losses[name]:.6f}")
    return losses


def joint_fit(steps):
    section(f"All six demos trained together: Adam(0.01), {steps} steps (parity case)")
    case = RnnBasics()
    data = case.data(None, np.float32)
    weights = case.init_weights(np.random.default_rng(0), np.float32)
    trainer = case.build_minigrad({k: np.asarray(v, np.float32) for k, v in weights.items()},
                                  data, np.float32)
    loss = None
    for i in range(steps):
        loss = float(trainer.step(i))
        if i % 10 == 0 or i == steps - 1:
            print(f"step {i:3d}  loss {loss:.6f}")
    return loss


def main(argv=None):
    args = parse_args(argv)
    resolve_data_dir(args.data_dir)
    mg.random.set_seed(args.seed)
    one_cell()
    batches()
    arange_cells()
    flatten_softmax()
    losses = sequence_losses()
    joint_fit(args.steps)
    return losses


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
