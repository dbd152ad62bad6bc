"""`mg.optimizers`: Keras 3's optimizers (SGD, RMSprop, Adam) with Keras's exact forms."""
from minigrad.kernels import lazy

K = lazy("optim")
from minigrad.train.optimizer import Optimizer


class SGD(Optimizer):
    """m = m*momentum - lr*g; w += m  (nesterov: w += m*momentum - lr*g); plain: w -= lr*g"""
    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD"):
        super().__init__(learning_rate, name)
        self.momentum, self.nesterov = momentum, nesterov

    def _update(self, var, g, slots):
        K.keras_sgd_update(var, slots["momentum"], g, self._lr(), self.momentum, self.nesterov)


class RMSprop(Optimizer):
    """v = rho*v + (1-rho)*g*g; w -= lr*g/sqrt(v + eps)  (Keras: v starts at ZEROS, eps 1e-7)"""
    slot_names = ("velocity", "momentum", "average_gradient")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop"):
        super().__init__(learning_rate, name)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _update(self, var, g, slots):
        if self.centered:
            K.keras_centered_rmsprop_update(var, slots["average_gradient"], slots["velocity"],
                                            slots["momentum"], g, self._lr(), self.rho,
                                            self.momentum, self.epsilon)
        else:
            K.keras_rmsprop_update(var, slots["velocity"], slots["momentum"], g, self._lr(),
                                   self.rho, self.momentum, self.epsilon)


class Adam(Optimizer):
    """Keras 3 Adam: as TF1's form with epsilon 1e-7."""
    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adam"):
        super().__init__(learning_rate, name)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _update(self, var, g, slots):
        K.keras_adam_update(var, slots["m"], slots["v"], g, self._lr(), self.beta_1,
                            self.beta_2, self.epsilon, self.iterations + 1)


__all__ = ["SGD", "RMSprop", "Adam"]
