"""Dense (Keras) and dense (TF1's functional form, the tutorials' fully_connected)."""
from minigrad.core.state import scoped_name
from minigrad.layers.base import Layer, activation_fn
from minigrad.ops import matmul, reshape
from minigrad.ops._convert import tensor
from minigrad.ops.nn import bias_add


class Dense(Layer):
    """y = act(x @ kernel + bias) on the last axis; kernel [in, units], bias [units]."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, dtype=None, trainable=True, **kwargs):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.units = int(units)
        self.activation = activation_fn(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer or "glorot_uniform"
        self.bias_initializer = bias_initializer or "zeros"
        self._input_depth = None

    def build(self, depth, dtype):
        self.kernel = self.add_weight("kernel", (depth, self.units), dtype,
                                      self.kernel_initializer)
        self.bias = (self.add_weight("bias", (self.units,), dtype, self.bias_initializer)
                     if self.use_bias else None)

    def __call__(self, inputs):
        x = self._cast_input(tensor(inputs))
        if x.ndim < 2:
            raise ValueError(f"{self._describe()}: inputs must have rank >= 2, got shape "
                             f"{list(x.shape)}")
        if not self.built:
            self.dtype = self.dtype or x.dtype
            self.build(x.shape[-1], self.dtype)
            self._input_depth, self.built = x.shape[-1], True
        elif x.shape[-1] != self._input_depth:
            raise ValueError(f"{self._describe()} was built for inputs [..., "
                             f"{self._input_depth}] but got inputs of shape {list(x.shape)}")
        lead = x.shape[:-1]
        y = matmul(x if x.ndim == 2 else reshape(x, [-1, x.shape[-1]]), self.kernel)
        if self.use_bias:
            y = bias_add(y, self.bias)
        if x.ndim != 2:
            y = reshape(y, list(lead) + [self.units])
        return self.activation(y) if self.activation is not None else y


_DENSE = {}      # scoped name -> Dense, the layers that mg.layers.dense created


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer="zeros", trainable=True, name=None, reuse=None, **kwargs):
    """TF1's functional dense: the output of a Dense layer applied to `inputs`.

    Choice (eager has no graph to build once): a call without `name` creates a new layer
    (named 'dense', 'dense_1', ... as TF1 does); a call whose `name` (under the current
    mg.name_scope) was used before applies THAT layer again, as reuse=tf.AUTO_REUSE would,
    so a step function calling dense(..., name='fc') trains one set of weights. Every layer
    made here is listed by `dense_layers()`; `clear_dense_layers()` forgets them.
    """
    key = scoped_name(name) if name else None
    layer = _DENSE.get(key) if key else None
    if layer is None:
        layer = Dense(units, activation, use_bias, kernel_initializer, bias_initializer,
                      name=key, trainable=trainable)
        _DENSE[layer.name] = layer
    elif layer.units != units:
        raise ValueError(f"dense: layer '{key}' exists with {layer.units} units, asked for "
                         f"{units}")
    return layer(inputs)


def dense_layers():
    """The layers mg.layers.dense created, by name, in creation order."""
    return dict(_DENSE)


def clear_dense_layers():
    _DENSE.clear()
