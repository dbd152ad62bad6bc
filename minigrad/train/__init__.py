"""`mg.train`: TensorFlow 1's optimizers, with TF1's exact update forms (fused kernels)."""
import numpy as np

from minigrad.kernels import lazy

K = lazy("optim")
from minigrad.train.optimizer import Optimizer
from minigrad.train.checkpoint import Checkpoint


# Below this many elements GradientDescent updates in numpy: `var -= g * lr` rounds exactly as
# the fused kernel does (a product, then a difference), and a model that needs no other kernel
# (XOR, softmax regression) then never starts numba (about 1 s: its import and the first cached
# kernel's load). Larger variables take the kernel: one pass, no temporary.
_SGD_NUMPY_MAX = 1 << 16


class GradientDescentOptimizer(Optimizer):
    """var -= lr * g"""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(learning_rate, name)

    def _update(self, var, g, slots):
        if var.size > _SGD_NUMPY_MAX:
            K.sgd_update(var, g, self._lr())
            return
        if g.shape != var.shape or g.dtype != var.dtype:
            raise ValueError("optimizer slot or gradient differs from the variable in shape "
                             "or dtype")
        var -= g * var.dtype.type(np.float32(self._lr()))     # TF1 holds lr as a float32


class MomentumOptimizer(Optimizer):
    """accum = accum * momentum + g; var -= lr * accum
    (nesterov: var -= lr*g + lr*momentum*accum)"""
    slot_names = ("momentum",)

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(learning_rate, name)
        self.momentum, self.use_nesterov = momentum, use_nesterov

    def _update(self, var, g, slots):
        K.momentum_update(var, slots["momentum"], g, self._lr(), self.momentum,
                          self.use_nesterov)


class RMSPropOptimizer(Optimizer):
    """ms += (g*g - ms)*(1-decay); mom = mom*momentum + lr*g/sqrt(ms+eps); var -= mom.

    TF1: the mean-square slot starts at ONES; epsilon is inside the square root.
    """
    slot_names = ("rms", "momentum", "mg")
    slot_init = {"rms": 1}

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(learning_rate, name)
        self.decay, self.momentum, self.epsilon, self.centered = decay, momentum, epsilon, centered

    def _update(self, var, g, slots):
        if self.centered:
            K.centered_rmsprop_update(var, slots["mg"], slots["rms"], slots["momentum"], g,
                                      self._lr(), self.decay, self.momentum, self.epsilon)
        else:
            K.rmsprop_update(var, slots["rms"], slots["momentum"], g, self._lr(), self.decay,
                             self.momentum, self.epsilon)


class AdamOptimizer(Optimizer):
    """alpha = lr*sqrt(1-b2^t)/(1-b1^t); m += (g-m)(1-b1); v += (g*g-v)(1-b2);
    var -= m*alpha/(sqrt(v)+eps)   (t = 1 on the first step; epsilon-hat, outside the sqrt)"""
    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(learning_rate, name)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.beta1_power = self.beta2_power = None

    def _prepare_step(self):
        # TF1 keeps beta^t in float32 variables, multiplied by float32(beta) after each step
        b1, b2 = np.float32(self.beta1), np.float32(self.beta2)
        if self.beta1_power is None:
            self.beta1_power, self.beta2_power = b1, b2
        else:
            self.beta1_power, self.beta2_power = self.beta1_power * b1, self.beta2_power * b2

    def _update(self, var, g, slots):
        K.apply_adam(var, slots["m"], slots["v"], g, float(self.beta1_power),
                     float(self.beta2_power), self._lr(), self.beta1, self.beta2, self.epsilon)


__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "RMSPropOptimizer",
           "AdamOptimizer", "Checkpoint"]
