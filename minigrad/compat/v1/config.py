"""TF1's session configuration messages: `tf.ConfigProto`, `tf.GraphOptions`,
`tf.OptimizerOptions`, with TF's field names and defaults.

minigrad reads one field: `graph_options.optimizer_options.global_jit_level`. ON_1 or ON_2
makes the Session compile the plans it replays with minigrad.jit (TF1's XLA auto-clustering
switch); the other fields are kept for programs that set them and otherwise ignored (minigrad
runs on the CPU, with the threads of its BLAS).

    config = tf.ConfigProto()
    config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    sess = tf.Session(config=config)
"""


class _Message:
    """A protocol message: keyword fields only, defaults for the rest, unknown names refused
    with protobuf's errors; message fields start as empty messages."""

    _fields = {}

    def __init__(self, **kwargs):
        for name, default in self._fields.items():
            object.__setattr__(self, name, default() if isinstance(default, type) else default)
        for name, value in kwargs.items():
            if name not in self._fields:
                raise ValueError(f'Protocol message {type(self).__name__} has no "{name}" '
                                 f'field.')
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in self._fields:
            raise AttributeError(f'Assignment not allowed (no field "{name}" in protocol '
                                 f'message object).')
        object.__setattr__(self, name, value)

    def __eq__(self, other):
        return type(other) is type(self) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields)

    def __repr__(self):
        set_ = [f"{f}={getattr(self, f)!r}" for f, d in self._fields.items()
                if not isinstance(d, type) and getattr(self, f) != d or
                isinstance(d, type) and getattr(self, f) != d()]
        return f"{type(self).__name__}({', '.join(set_)})"


class OptimizerOptions(_Message):
    # opt_level
    L1, L0 = 0, -1
    # GlobalJitLevel
    DEFAULT, OFF, ON_1, ON_2 = 0, -1, 1, 2
    _fields = {"do_common_subexpression_elimination": False, "do_constant_folding": False,
               "max_folded_constant_in_bytes": 0, "do_function_inlining": False,
               "opt_level": 0, "global_jit_level": 0, "cpu_global_jit": False}


class GraphOptions(_Message):
    _fields = {"enable_recv_scheduling": False, "optimizer_options": OptimizerOptions,
               "build_cost_model": 0, "build_cost_model_after": 0, "infer_shapes": False,
               "place_pruned_graph": False, "enable_bfloat16_sendrecv": False,
               "timeline_step": 0}


class ConfigProto(_Message):
    _fields = {"device_count": None, "intra_op_parallelism_threads": 0,
               "inter_op_parallelism_threads": 0, "use_per_session_threads": False,
               "placement_period": 0, "device_filters": None, "gpu_options": None,
               "allow_soft_placement": False, "log_device_placement": False,
               "graph_options": GraphOptions, "operation_timeout_in_ms": 0,
               "isolate_session_state": False}


def jit_enabled(config):
    """Whether a Session with this config compiles its plans (global_jit_level ON_1/ON_2)."""
    level = getattr(getattr(getattr(config, "graph_options", None), "optimizer_options",
                            None), "global_jit_level", 0)
    return level in (OptimizerOptions.ON_1, OptimizerOptions.ON_2)


__all__ = ["ConfigProto", "GraphOptions", "OptimizerOptions"]
