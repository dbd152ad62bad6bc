"""The optimizer protocol shared by TF1's train.*Optimizer and Keras's optimizers.*.

A subclass names its slots and gives `_update(var, g, slots)`, which calls one fused kernel from
`minigrad.kernels.optim` on flat views: the variable is written in place.
"""
import numpy as np

from minigrad.core import GradientTape, Tensor, Variable
from minigrad.core.function import record_effect


class Optimizer:
    slot_names = ()          # per-variable state, created on first use
    slot_init = {}           # slot name -> initial fill value (default 0)

    def __init__(self, learning_rate, name):
        self.learning_rate = learning_rate
        self.name = name
        self.iterations = 0   # completed apply_gradients calls (Keras) / global step (TF1)
        self._slots = {}      # var id -> {slot name: ndarray}
        self._vars = {}       # var id -> Variable, in first-seen order

    def minimize(self, loss, var_list=None, tape=None):
        """`loss` is a callable (TF2 style): record it, differentiate, apply. Returns the loss."""
        if not callable(loss):
            raise TypeError(f"{self.name}.minimize: loss must be a callable returning a scalar "
                            f"tensor (eager mode), got {type(loss).__name__}")
        with GradientTape() as tape:
            value = loss()
        var_list = list(var_list() if callable(var_list) else var_list or
                        tape.watched_variables())
        grads = tape.gradient(value, var_list)
        self.apply_gradients(zip(grads, var_list))
        return value

    def compute_gradients(self, loss, var_list=None):
        with GradientTape() as tape:
            value = loss()
        var_list = list(var_list or tape.watched_variables())
        return list(zip(tape.gradient(value, var_list), var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        pairs = [(g, v) for g, v in grads_and_vars]
        live = [(g, v) for g, v in pairs if g is not None]
        if not live:
            raise ValueError(f"{self.name}: no gradients provided for any variable: "
                             f"{[v.name for _, v in pairs]}")
        self._apply_step(live)
        # under mg.function, the same update replays on each call's new gradients
        grads = [g if isinstance(g, Tensor) else Tensor(np.asarray(g)) for g, _ in live]
        variables = [v for _, v in live]
        record_effect(lambda *gs: self._apply_step(list(zip(gs, variables))), grads)
        if global_step is not None:
            global_step.assign_add(1)

    def _apply_step(self, live):
        self._prepare_step()
        for g, v in live:
            self._apply_one(g, v)
        self.iterations += 1

    def _apply_one(self, g, v):
        if not isinstance(v, Variable):
            raise TypeError(f"{self.name}: can only update Variables, got {type(v).__name__}")
        g = g.numpy() if isinstance(g, Tensor) else np.asarray(g)
        if g.shape != v._value.shape:
            raise ValueError(f"{self.name}: gradient shape {g.shape} does not match variable "
                             f"'{v.name}' of shape {v._value.shape}")
        flat_g = np.ascontiguousarray(g, dtype=v._value.dtype).reshape(-1)
        self._update(v._value.reshape(-1), flat_g, self._slots_for(v))

    def _slots_for(self, v):
        slots = self._slots.get(v._id)
        if slots is None:
            slots = {s: np.full(v._value.size, self.slot_init.get(s, 0), v._value.dtype)
                     for s in self.slot_names}
            self._slots[v._id], self._vars[v._id] = slots, v
        return slots

    def get_slot(self, var, name):
        return self._slots[var._id][name].reshape(var._value.shape)

    def get_slot_names(self):
        return list(self.slot_names)

    def variables(self):
        return [v for v in self._vars.values()]

    def _prepare_step(self):
        """Per-step scalars (Adam's bias correction); most optimizers have none."""

    def _update(self, var, g, slots):
        raise NotImplementedError

    def _lr(self):
        lr = self.learning_rate
        return float(lr(self.iterations) if callable(lr) else lr)
