"""`tf.layers` and `tf.contrib.layers` in graph mode, with TF1's naming and reuse rules.

A layer is minigrad's eager Dense (minigrad/layers/core.py), created once, when the graph is
built; its weights are `tf.get_variable`s of the layer's variable scope, and each call records
one Operation whose function is the eager layer's call, so the math is minigrad's own.

Names and reuse follow tf_keras/src/legacy_tf_layers/base.py (`Layer.__init__`, `_set_scope`,
`__call__`) and tensorflow/contrib/layers/python/layers/layers.py (`fully_connected`):
- a layer given a name takes `variable_scope(name)` when it is made; an unnamed one takes
  `variable_scope(None, default_name="dense")` on its first call: dense, dense_1, ... under
  the current scope, restarting in a re-entered scope (so a reused scope's unnamed layers find
  the first pass's variables);
- its variables are `<scope>/kernel` and `<scope>/bias`, made by get_variable under the scope
  with reuse=`reuse`: an existing name without reuse is TF's ValueError ("... already exists,
  disallowed"), reuse=True on a new name too; later calls of the same layer object reuse;
- the ops go under the name scope the layer's variable scope first opened ("dense/BiasAdd",
  then the activation, "dense/Relu").
`fully_connected` opens `variable_scope(scope, default_name="fully_connected", reuse=reuse)`
and names its variables `weights` and `biases`; its defaults are relu and xavier_initializer.
"""
import types

import numpy as np

from minigrad.compat.v1 import initializers as _init
from minigrad.compat.v1.graph import Tensor, get_default_graph, make_op
from minigrad.compat.v1.variables import get_variable, variable_scope
from minigrad.layers.core import Dense as _EagerDense

REGULARIZATION_LOSSES = "regularization_losses"


def _graph_tensor(inputs):
    if isinstance(inputs, Tensor):
        return inputs
    from minigrad.compat.v1.ops import constant
    return constant(np.asarray(inputs))


class _Core(_EagerDense):
    """minigrad's eager Dense with no activation, whose weights are tf.get_variable's of the
    variable scope current when it builds, under TF's names ('kernel'/'bias', or contrib's
    'weights'/'biases'), with the layer's initializers and regularizers."""

    def __init__(self, units, use_bias, names, inits, regularizers, trainable):
        super().__init__(units, None, use_bias, name="core", trainable=trainable)
        self._names, self._inits, self._regs = names, inits, regularizers
        self.graph_variables = []

    def add_weight(self, name, shape, dtype, init, trainable=True):
        graph = get_default_graph()
        before = set(graph._var_store)
        var = get_variable(self._names[name], shape, dtype, initializer=self._inits[name],
                           trainable=self.trainable)
        regularizer = self._regs.get(name)
        if regularizer is not None and var.name[:-2] not in before:   # new variables only
            loss = regularizer(var)
            if loss is not None:
                graph.add_to_collection(REGULARIZATION_LOSSES, loss)
        self.graph_variables.append(var)
        self._weights.append(var.handle)
        return var.handle


def _unsupported(layer, **given):
    for key, value in given.items():
        if value is not None:
            raise NotImplementedError(f"{layer}: {key} is not supported by minigrad.compat.v1")


class Layer:
    """TF1's graph layer: its variable scope (taken by name when made, or by default name on
    the first call), reuse flag, and variables."""

    _base_name = "layer"

    def __init__(self, trainable=True, name=None, dtype=None, _scope=None, _reuse=None,
                 **kwargs):
        self.trainable, self._reuse, self.built = trainable, _reuse, False
        self.dtype = dtype
        self._scope = self._op_scope = None
        if isinstance(name, str) and name:        # a named layer's default scope is its name
            self.name = self._base_name = name
        else:
            self.name = self._base_name
        if _scope:
            with variable_scope(_scope) as captured:
                self._scope, self._op_scope = captured, _current_name_scope()

    def _set_scope(self):
        if self._scope is not None:
            return
        opener = variable_scope(self._base_name) if self._reuse else \
            variable_scope(None, default_name=self._base_name)
        with opener as captured:
            self._scope, self._op_scope = captured, _current_name_scope()

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError(f'No name available for layer scope because the layer "{self.name}"'
                             f' has not been used yet. The scope name is determined the first '
                             f'time the layer instance is called.')
        return self._scope.name

    def apply(self, inputs, *args, **kwargs):
        return self(inputs, *args, **kwargs)


def _current_name_scope():
    scope = get_default_graph().get_name_scope()
    return scope + "/" if scope else ""


class Dense(Layer):
    """tf.layers.Dense: outputs = activation(inputs @ kernel + bias)."""

    _base_name = "dense"
    _weight_names = {"kernel": "kernel", "bias": "bias"}

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 trainable=True, name=None, **kwargs):
        _unsupported("Dense", activity_regularizer=activity_regularizer,
                     kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.units, self.activation, self.use_bias = int(units), activation, bool(use_bias)
        inits = {"kernel": kernel_initializer,
                 "bias": bias_initializer if bias_initializer is not None else _init.Zeros()}
        self._core = _Core(self.units, self.use_bias, self._weight_names, inits,
                           {"kernel": kernel_regularizer, "bias": bias_regularizer}, trainable)

    def __call__(self, inputs):
        inputs = _graph_tensor(inputs)
        graph = inputs.graph
        with graph.as_default():
            self._set_scope()
            depth = None if inputs._shape is None else inputs._shape[-1]
            if depth is None:
                raise ValueError(f"The last dimension of the inputs to a Dense layer should "
                                 f"be defined. Found None. Full input shape received: "
                                 f"{inputs.shape} ({inputs.name})")
            reuse = True if self.built else self._reuse
            with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
                if not self.built:
                    self._build(depth, inputs.dtype)
                with graph.name_scope(self._op_scope or None):
                    y = make_op("Dense", self._core, (inputs,),
                                name="BiasAdd" if self.use_bias else "MatMul")
                    return self.activation(y) if self.activation is not None else y

    def _build(self, depth, dtype):
        """Make the weights (the eager layer builds on a zeros row of the input's depth)."""
        self._core(np.zeros((1, int(depth)), dtype.np))
        self.built = True

    # --- TF's weight properties ----------------------------------------------------------------
    @property
    def variables(self):
        return list(self._core.graph_variables)

    weights = variables

    @property
    def trainable_variables(self):
        return self.variables if self.trainable else []

    trainable_weights = trainable_variables

    @property
    def kernel(self):
        return self.variables[0] if self.built else None

    @property
    def bias(self):
        return self.variables[1] if self.built and self.use_bias else None


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """tf.layers.dense: a Dense layer named `name` (or dense, dense_1, ...) applied to
    `inputs`; kernel glorot_uniform (get_variable's default), bias zeros."""
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """tf.layers.dropout: rate is the fraction dropped; only when `training` (a Python bool or
    a bool Tensor, e.g. a placeholder)."""
    from minigrad.compat.v1.ops import dropout as nn_dropout, where
    inputs = _graph_tensor(inputs)
    graph = inputs.graph
    with graph.as_default(), graph.name_scope(name or "dropout"):
        if isinstance(training, Tensor):
            dropped = nn_dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)
            return where(training, dropped, inputs)
        if not training or (not isinstance(rate, Tensor) and rate == 0):
            from minigrad.compat.v1.ops import identity
            return identity(inputs)
        return nn_dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)


def flatten(inputs, name=None, data_format="channels_last"):
    """tf.layers.flatten: [batch, ...] -> [batch, product of the rest]."""
    from minigrad.compat.v1.ops import reshape
    inputs = _graph_tensor(inputs)
    if inputs._shape is None or any(d is None for d in inputs._shape[1:]):
        raise ValueError(f"flatten: the non-batch dimensions of the input must be known, got "
                         f"shape {inputs.shape}")
    if data_format == "channels_first" and len(inputs._shape) > 2:
        raise NotImplementedError("flatten: channels_first is not supported")
    width = int(np.prod(inputs._shape[1:]))
    return reshape(inputs, [-1, width], name=name or "flatten")


# --- tf.contrib.layers --------------------------------------------------------------------------
class _FullyConnected(Dense):
    _base_name = "fully_connected"
    _weight_names = {"kernel": "weights", "bias": "biases"}


class _Default:
    """contrib's default for an argument, told apart from an explicit None (linear output, no
    biases)."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return self.what


_RELU, _XAVIER, _ZEROS = _Default("tf.nn.relu"), _Default("xavier_initializer()"), \
    _Default("tf.zeros_initializer()")


def fully_connected(inputs, num_outputs, activation_fn=_RELU, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=_XAVIER,
                    weights_regularizer=None, biases_initializer=_ZEROS,
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
    """tf.contrib.layers.fully_connected: activation_fn(inputs @ weights + biases), variables
    `<scope>/weights` and `<scope>/biases` (scope "fully_connected", "fully_connected_1", ...).
    Defaults: activation_fn tf.nn.relu (activation_fn=None: linear), weights
    xavier_initializer(), biases zeros (biases_initializer=None: no biases)."""
    _unsupported("fully_connected", normalizer_fn=normalizer_fn,
                 normalizer_params=normalizer_params)
    activation_fn = _relu if activation_fn is _RELU else activation_fn
    if weights_initializer is _XAVIER:
        weights_initializer = _init.xavier_initializer()
    use_bias = biases_initializer is not None
    if biases_initializer is _ZEROS:
        biases_initializer = _init.Zeros()
    inputs = _graph_tensor(inputs)
    with inputs.graph.as_default(), variable_scope(
            scope, default_name="fully_connected", reuse=reuse) as sc:
        layer = _FullyConnected(num_outputs, None, use_bias, weights_initializer,
                                biases_initializer, weights_regularizer, biases_regularizer,
                                trainable=trainable, name=sc.name, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs)
        for var, key in zip(layer.variables, ("weights", "biases")):
            _add_to_collections(var, variables_collections, key)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        for c in _as_list(outputs_collections):
            inputs.graph.add_to_collection(c, outputs)
        return outputs


def _relu(x):
    from minigrad.compat.v1.ops import relu
    return relu(x)


def _as_list(collections):
    if collections is None:
        return []
    return [collections] if isinstance(collections, str) else list(collections)


def _add_to_collections(var, collections, key):
    if isinstance(collections, dict):
        collections = collections.get(key)
    for c in _as_list(collections):
        var.graph.add_to_collection(c, var)


def l2_regularizer(scale, scope=None):
    """tf.contrib.layers.l2_regularizer: weights -> scale * l2_loss(weights) (None for scale
    0)."""
    if scale < 0.0:
        raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
    if scale == 0.0:
        return lambda _: None

    def l2(weights):
        from minigrad.compat.v1.nn import l2_loss
        from minigrad.compat.v1.ops import multiply
        return multiply(np.asarray(scale, weights.dtype.np), l2_loss(weights),
                        name=scope or "l2_regularizer")
    return l2


def _contrib_flatten(inputs, outputs_collections=None, scope=None):
    """tf.contrib.layers.flatten: [batch, ...] -> [batch, product of the rest]."""
    inputs = _graph_tensor(inputs)
    with inputs.graph.as_default(), inputs.graph.name_scope(scope or "Flatten"):
        out = flatten(inputs)
    for c in _as_list(outputs_collections):
        inputs.graph.add_to_collection(c, out)
    return out


def linear(inputs, num_outputs, **kwargs):
    """tf.contrib.layers.linear: fully_connected with no activation."""
    return fully_connected(inputs, num_outputs, activation_fn=None, **kwargs)


# what `tf.contrib.layers` holds (contrib/layers/__init__.py's names that the lectures use)
contrib_layers = types.SimpleNamespace(
    fully_connected=fully_connected, linear=linear, flatten=_contrib_flatten,
    l2_regularizer=l2_regularizer, xavier_initializer=_init.xavier_initializer,
    xavier_initializer_conv2d=_init.xavier_initializer_conv2d,
    variance_scaling_initializer=_init.contrib_variance_scaling_initializer)

__all__ = ["Layer", "Dense", "dense", "dropout", "flatten", "contrib_layers"]
