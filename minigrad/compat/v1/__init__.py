"""`import minigrad.compat.v1 as tf`: a TensorFlow 1 program runs with only its import changed.

Graph construction (placeholders, variables, ops), `tf.Session().run(fetches, feed_dict)` and
the TF1 training API, built on minigrad's own ops, cells and optimizers: a Session compiles the
part of the graph it runs into an `mg.function` plan once per feed signature, then replays it.
"""
import types as _types

from minigrad.core import (bool_ as bool, float16, float32, float64, int32, int64, uint8,
                           as_dtype, DType)
from minigrad.core import errors
from minigrad.core.dtypes import as_dtype as _as_dtype
from minigrad.compat.v1.graph import (Graph, Operation, Tensor, control_dependencies,
                                      get_default_graph, reset_default_graph)
from minigrad.compat.v1.ops import (abs, add, argmax, argmin, cast, clip_by_value, concat,
                                    constant, divide, dropout as _dropout, equal, exp,
                                    expand_dims, fill, gather, gradients, greater, greater_equal,
                                    group, identity, less, less_equal, log, matmul, maximum,
                                    minimum, multiply, negative, no_op, not_equal, one_hot,
                                    ones, ones_like, placeholder, placeholder_with_default, pow,
                                    random_normal, random_uniform, rank, reduce_max,
                                    reduce_mean, reduce_min, reduce_sum, reshape,
                                    set_random_seed, sigmoid, size, split, sqrt, square,
                                    squeeze, stack, stop_gradient, subtract, tanh, transpose,
                                    truncated_normal, unstack, where, zeros, zeros_like)
from minigrad.compat.v1.ops import mg_shape as shape, range as range  # noqa: A001
from minigrad.compat.v1.session import InteractiveSession, Session, get_default_session
from minigrad.compat.v1.variables import (AUTO_REUSE, Variable, VariableScope, get_variable,
                                          get_variable_scope, global_variables,
                                          global_variables_initializer, initialize_all_variables,
                                          local_variables, local_variables_initializer,
                                          trainable_variables, variable_scope,
                                          variables_initializer)
from minigrad.compat.v1 import ops as _ops
from minigrad.compat.v1 import train as _train
from minigrad.compat.v1 import saver as _saver
from minigrad.compat.v1 import initializers, layers, nn  # noqa: E402
from minigrad.compat.v1 import contrib  # noqa: E402


def name_scope(name, default_name=None, values=None):
    return get_default_graph().name_scope(name if name is not None else default_name)


class device:
    """`with tf.device("/CPU:0"):` placement; minigrad runs every op on the CPU."""

    def __init__(self, device_name):
        self.device_name = device_name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def disable_eager_execution():
    """Graph mode is all this module has: nothing to switch off."""


def disable_v2_behavior():
    """Nothing to switch off: this module only has TF1's behaviour."""


def executing_eagerly():
    return False


log = log
to_float = lambda x, name="ToFloat": cast(x, float32, name=name)   # noqa: E731
to_int32 = lambda x, name="ToInt32": cast(x, int32, name=name)     # noqa: E731
truediv = divide
div = divide
mul = multiply
sub = subtract
neg = negative

math = _types.SimpleNamespace(
    log=log, exp=exp, sqrt=sqrt, square=square, abs=abs, add=add, subtract=subtract,
    multiply=multiply, divide=divide, maximum=maximum, minimum=minimum, sigmoid=sigmoid,
    tanh=tanh, equal=equal, reduce_sum=reduce_sum, reduce_mean=reduce_mean,
    reduce_max=reduce_max, argmax=argmax)
random = _types.SimpleNamespace(normal=random_normal, uniform=random_uniform,
                                truncated_normal=truncated_normal, set_random_seed=set_random_seed)
train = _types.SimpleNamespace(
    Optimizer=_train.Optimizer, GradientDescentOptimizer=_train.GradientDescentOptimizer,
    MomentumOptimizer=_train.MomentumOptimizer, RMSPropOptimizer=_train.RMSPropOptimizer,
    AdamOptimizer=_train.AdamOptimizer, get_global_step=_train.get_global_step,
    get_or_create_global_step=_train.get_or_create_global_step,
    create_global_step=_train.create_global_step, Saver=_saver.Saver,
    latest_checkpoint=_saver.latest_checkpoint, get_checkpoint_state=_saver.get_checkpoint_state,
    checkpoint_exists=_saver.checkpoint_exists,
    update_checkpoint_state=_saver.update_checkpoint_state)
dtypes = _types.SimpleNamespace(float16=float16, float32=float32, float64=float64, int32=int32,
                                int64=int64, uint8=uint8, bool=bool, as_dtype=_as_dtype,
                                DType=DType)
GraphKeys = _types.SimpleNamespace(GLOBAL_VARIABLES="variables",
                                   TRAINABLE_VARIABLES="trainable_variables",
                                   LOCAL_VARIABLES="local_variables",
                                   GLOBAL_STEP="global_step", SUMMARIES="summaries")


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    return ref.assign(value, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    return ref.assign_add(value, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    return ref.assign_sub(value, name=name)


_NOT_OPS = {"function", "trace", "init_scope"}


def is_tensor(x):
    return isinstance(x, Tensor)


def __getattr__(name):
    """tf.summary, loaded on first use (it imports minigrad.graph and minigrad.summary, which
    a program without summaries never needs); any other public function of minigrad, as a
    graph function (`tf.<name>(...)` records `mg.<name>(...)` as an Operation)."""
    if name == "summary":
        import importlib
        return importlib.import_module("minigrad.compat.v1.summary")
    import minigrad as _mg
    fn = getattr(_mg, name, None)
    if fn is None or not callable(fn) or isinstance(fn, (type, _types.ModuleType)) or \
            name.startswith("_") or name in _NOT_OPS:
        raise AttributeError(f"module 'minigrad.compat.v1' has no attribute '{name}'")
    graph_fn = _ops.wrap(fn, "".join(p.capitalize() for p in name.split("_")))
    globals()[name] = graph_fn
    return graph_fn


# --- TF1 names from nn.py, initializers.py and losses.py --------------------------------------
from minigrad.compat.v1 import losses  # noqa: E402
from minigrad.compat.v1.initializers import (  # noqa: E402
    constant_initializer, glorot_normal_initializer, glorot_uniform_initializer,
    ones_initializer, orthogonal_initializer, random_normal_initializer,
    random_uniform_initializer, truncated_normal_initializer, uniform_unit_scaling_initializer,
    variance_scaling_initializer, zeros_initializer)
from minigrad.compat.v1.nn import count_nonzero, multinomial, slice  # noqa: E402, A004

random.categorical = nn.categorical
random.multinomial = multinomial
math.count_nonzero = count_nonzero
math.in_top_k = nn.in_top_k
GraphKeys.LOSSES = losses.LOSSES
GraphKeys.REGULARIZATION_LOSSES = losses.REGULARIZATION_LOSSES
arg_max, arg_min = argmax, argmin          # TF1's older names (tf.arg_max(x, dimension))
from minigrad.compat.v1.config import ConfigProto, GraphOptions, OptimizerOptions  # noqa: E402
