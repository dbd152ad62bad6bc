"""TF1's `tf.train` in graph mode: optimizers whose minimize() returns an Operation.

A graph optimizer is a recipe (minigrad's optimizer class and its arguments); each Session
makes its own minigrad optimizer from it on the first update it runs, so slots (RMSProp's
mean square, Adam's moments and step count) live in the session, like the variables.
`minimize` = `compute_gradients` (tf.gradients of the loss with respect to the trainable
variables) + `apply_gradients` (one Operation calling the session's optimizer on the handles).
"""
from minigrad import train as eager_train
from minigrad.compat.v1.graph import get_default_graph, make_op
from minigrad.compat.v1.ops import gradients
from minigrad.compat.v1.runtime import current_run
from minigrad.compat.v1.variables import (GLOBAL_STEP, GLOBAL_VARIABLES, Variable,
                                          trainable_variables)


class Optimizer:
    _eager = None

    def __init__(self, *args, **kwargs):
        self._args, self._kwargs = args, kwargs
        self._name = kwargs.get("name") or self._eager.__name__.replace("Optimizer", "")
        self._eager(*args, **kwargs)        # the argument checks of the eager class, now

    def get_name(self):
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=1, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        var_list = list(var_list if var_list is not None else trainable_variables())
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        pairs = list(grads_and_vars)
        live = [(g, v) for g, v in pairs if g is not None]
        if not live:
            raise ValueError(f"No gradients provided for any variable, check your graph for ops "
                             f"that do not support gradients, between variables "
                             f"{[v.name for _, v in pairs]} and loss.")
        grads, variables = [g for g, _ in live], [v for _, v in live]
        step = [global_step] if global_step is not None else []
        return make_op("Apply" + self._name, self._apply_body, (grads, variables, step),
                       name=name or self._name, effect=True)

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=1,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list, grad_loss=grad_loss)
        return self.apply_gradients(grads_and_vars, global_step, name)

    def _apply_body(self, grads, handles, step):
        session = current_run().session
        opt = session._optimizers.get(self)
        if opt is None:
            opt = session._optimizers[self] = self._eager(*self._args, **self._kwargs)
        opt.apply_gradients(zip(grads, handles))
        for s in step:
            s.assign_add(1)


def _graph_optimizer(eager_cls):
    return type(eager_cls.__name__, (Optimizer,), {"_eager": eager_cls,
                                                   "__doc__": eager_cls.__doc__})


GradientDescentOptimizer = _graph_optimizer(eager_train.GradientDescentOptimizer)
MomentumOptimizer = _graph_optimizer(eager_train.MomentumOptimizer)
RMSPropOptimizer = _graph_optimizer(eager_train.RMSPropOptimizer)
AdamOptimizer = _graph_optimizer(eager_train.AdamOptimizer)


def get_global_step(graph=None):
    g = graph or get_default_graph()
    steps = g.get_collection(GLOBAL_STEP)
    return steps[0] if steps else None


def get_or_create_global_step(graph=None):
    """The graph's global step: an int64 scalar variable 'global_step', not trainable."""
    step = get_global_step(graph)
    if step is None:
        import numpy as np
        step = Variable(np.int64(0), trainable=False, name="global_step",
                        collections=[GLOBAL_VARIABLES, GLOBAL_STEP])
    return step


create_global_step = get_or_create_global_step

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "RMSPropOptimizer",
           "AdamOptimizer", "get_global_step", "get_or_create_global_step"]
