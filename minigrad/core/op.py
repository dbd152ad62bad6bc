"""Op: one call of an operation, and, once recorded, a node of the graph.

An op class gives its forward on ndarrays and its backward (vector-Jacobian product) side by
side. An instance holds the attributes of one call (axis, strides, ...), so a recorded node
knows enough to run its forward again on new inputs. Every op class is listed in `REGISTRY`.
"""
import numpy as np

REGISTRY = {}      # op type name -> Op subclass


def register(cls):
    """Class decorator: list an op in the registry under its class name."""
    if cls.__name__ in REGISTRY:
        raise ValueError(f"op {cls.__name__} registered twice")
    REGISTRY[cls.__name__] = cls
    return cls


class Op:
    """Base of every op. Subclasses define `forward(*xs)` and `backward(*gys)`.

    Inside backward: `self.xs` are the input arrays, `self.ys` the output arrays, `self.needs[i]`
    tells whether input i wants a gradient (skip work when it does not). backward returns one
    gradient per input (None for no gradient); broadcasting is undone by the engine, not here.
    """

    differentiable = True      # False: never recorded (argmax, equal, one_hot ...)
    tf_name = None             # TensorFlow's public name, for tables and tools

    # set when the op is recorded (class-level defaults keep an unrecorded call cheap)
    inputs = ()          # input Tensors
    xs = ys = ()         # input / output arrays
    out_ids = ()         # identities of the output Tensors
    needs = ()           # per input: does it want a gradient in this backward pass
    _tapes = 0           # how many live tapes hold this node

    def __init__(self, **attrs):
        self.attrs = attrs
        self.__dict__.update(attrs)
        self.name = type(self).__name__

    @property
    def type(self):
        return type(self).__name__

    @property
    def output_shapes(self):
        return [y.shape for y in self.ys]

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError(f"{self.type} has no gradient")

    def release(self):
        """Free what the backward pass needed (a non-persistent tape calls this once used)."""
        self.inputs = self.xs = self.ys = ()

    def __repr__(self):
        ins = ", ".join(str(tuple(x.shape)) for x in self.xs)
        outs = ", ".join(str(tuple(y.shape)) for y in self.ys)
        attrs = "".join(f", {k}={v!r}" for k, v in self.attrs.items() if np.isscalar(v)
                        or isinstance(v, (tuple, list, str, type(None))))
        return f"<{self.name}: {self.type}({ins}{attrs}) -> {outs}>"
