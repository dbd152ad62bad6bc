"""`mg.nn.dynamic_rnn` and `mg.nn.static_rnn`, with TF1's sequence_length semantics: at steps
t >= sequence_length[b] row b's output is zero and its state is carried unchanged, so the final
state is the state after step len-1 (the initial state when len is 0).

Two paths give the same numbers (tests/test_rnn.py holds them to 1e-12 in float64):
- fused: a cell that can (BasicRNNCell, BasicLSTMCell, plain LSTMCell, GRUCell, and a
  MultiRNNCell of them) runs the whole sequence as one graph node per layer (ops/rnn.py);
- composite: the cell's own step, T times, masked with `where`: anything else (DropoutWrapper,
  peepholes, projections, clipping, other activations, concatenated states).
"""
import numpy as np

from minigrad.core import Tensor, int64
from minigrad.ops import cast, expand_dims, less, stack, unstack, where, zeros_like
from minigrad.ops._convert import tensor
from minigrad.ops.rnn import fused_enabled, fused_kernels  # noqa: F401  (the switch)


def _describe(cell):
    return cell._describe() if hasattr(cell, "_describe") else type(cell).__name__


def _sequence_length(cell, sequence_length, B, T):
    """An int64 tensor [B] with values in [0, T], or None; ValueError naming the cell if not.

    The lengths stay a tensor (a Tensor given is cast by an op, not read into Python), so a
    function traced with them (mg.function, a Session's plan) takes new lengths on each call;
    the sequence ops check the range again on every run."""
    if sequence_length is None:
        return None
    L = np.asarray(sequence_length.numpy() if hasattr(sequence_length, "numpy")
                   else sequence_length)
    if L.dtype.kind not in "iu" and not (L.dtype.kind == "f" and np.all(L == np.round(L))):
        raise ValueError(f"{_describe(cell)}: sequence_length must be integers, got {L.dtype}")
    if L.shape != (B,):
        raise ValueError(f"{_describe(cell)}: sequence_length must have shape [{B}] (the batch "
                         f"size), got shape {list(L.shape)}")
    if B and (L.min() < 0 or L.max() > T):
        raise ValueError(f"{_describe(cell)}: sequence_length values must be in [0, {T}] "
                         f"(the time axis has {T} steps), got {L.tolist()}")
    if isinstance(sequence_length, Tensor):
        return sequence_length if sequence_length.dtype == int64 else \
            cast(sequence_length, int64)
    return tensor(L.astype(np.int64))


def _prepare(cell, x, initial_state, dtype, B, T):
    cell.build_for([B, x.shape[-1]], x.dtype)
    if initial_state is None:
        return cell.zero_state(B, dtype or x.dtype)
    return cell.check_state(initial_state, B, "initial_state")


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Run `cell` over inputs [B, T, I] ([T, B, I] if time_major) -> (outputs, final_state)."""
    x = tensor(inputs)
    if x.ndim != 3:
        raise ValueError(f"dynamic_rnn ({_describe(cell)}): inputs must have rank 3 "
                         f"[{'time, batch' if time_major else 'batch, time'}, depth], got shape "
                         f"{list(x.shape)}")
    T, B = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    seq = _sequence_length(cell, sequence_length, B, T)
    state = _prepare(cell, x, initial_state, dtype, B, T)
    if fused_enabled() and cell.fusable() and T > 0:
        bm = not time_major
        return cell.fused_run(x, state, seq, (bm, bm))
    steps = unstack(x, axis=0 if time_major else 1)
    outputs, state = _steps(cell, steps, state, seq)
    return stack(outputs, axis=0 if time_major else 1), state


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Run `cell` over a list of T inputs [B, I] -> (list of T outputs, final_state)."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError(f"static_rnn ({_describe(cell)}): inputs must be a non-empty list of "
                        f"[batch, depth] tensors")
    xs = [tensor(x) for x in inputs]
    shapes = [list(x.shape) for x in xs]
    if any(len(s) != 2 or s != shapes[0] for s in shapes):
        raise ValueError(f"static_rnn ({_describe(cell)}): inputs must all be [batch, depth] "
                         f"of one shape, got shapes {shapes}")
    T, B = len(xs), shapes[0][0]
    seq = _sequence_length(cell, sequence_length, B, T)
    state = _prepare(cell, xs[0], initial_state, dtype, B, T)
    if fused_enabled() and cell.fusable():
        y, state = cell.fused_run(stack(xs, 0), state, seq, (False, False))
        return unstack(y, axis=0), state
    return _steps(cell, xs, state, seq)


def _steps(cell, xs, state, seq):
    """The composite: the cell's step per time step; past a row's end, output zero and the
    state carried (one `where` per tensor, only at steps where some row has ended)."""
    outputs = []
    for t, x_t in enumerate(xs):
        out, new_state = cell.call(x_t, state)
        if seq is not None:      # ops, not numpy: the lengths may change from call to call
            keep = expand_dims(less(np.int64(t), seq), 1)
            out = where(keep, out, zeros_like(out))
            new_state = _select(keep, new_state, state)
        outputs.append(out)
        state = new_state
    return outputs, state


def _select(keep, new, old):
    if isinstance(new, tuple):
        items = [_select(keep, n, o) for n, o in zip(new, old)]
        return type(new)(*items) if hasattr(new, "_fields") else tuple(items)
    return where(keep, new, old)
