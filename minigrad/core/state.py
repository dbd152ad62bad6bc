"""The engine's state: what is active right now, per thread, as TensorFlow keeps it.

TensorFlow keeps the stack of recording tapes, the name scope, the function being traced and
the op callbacks (`enable_check_numerics`) in thread-local storage (`tape.py`'s tape stack,
`context._thread_local_data`, `op_callbacks`): two threads, each with its own tape, never see
each other's. minigrad does the same; everything else reads and changes this state through the
names below, never through another module's globals. Imports nothing.
"""
import threading


class _State(threading.local):
    def __init__(self):
        self.tapes = []           # GradientTapes recording now, innermost last
        self.scopes = []          # the name_scope stack
        self.tracer = None        # the mg.function trace in progress (core.function)
        self.lifted = None        # the tracer an init_scope paused: variables may be made there
        self.captures = []        # open mg.graph.capture() blocks
        self.check_numerics = False
        self.creators = []        # variable creators (graph mode), innermost last


_state = _State()


def active_tapes():
    """The tapes recording in this thread, innermost last (the list itself: read, do not
    mutate)."""
    return _state.tapes


def push_tape(tape):
    _state.tapes.append(tape)


def pop_tape(tape):
    _state.tapes.remove(tape)


def tracer():
    """The mg.function trace in progress in this thread, or None."""
    return _state.tracer


def set_tracer(tracer):
    """Install `tracer` (None to end the trace); returns the one it replaces."""
    old, _state.tracer = _state.tracer, tracer
    return old


def variable_creator_tracer():
    """The trace a Variable made now belongs to (also inside an init_scope), or None."""
    return _state.tracer or _state.lifted


class init_scope:
    """`with mg.init_scope():` runs eagerly, outside any trace and any tape, as TF's
    `tf.init_scope` does: layers create their weights here so that their initial values are
    drawn once, when the variable is made, not replayed by mg.function on every call."""

    def __enter__(self):
        s = _state
        self._saved = (s.tapes, s.tracer, s.lifted)
        s.lifted = s.tracer or s.lifted
        s.tapes, s.tracer = [], None
        return self

    def __exit__(self, *exc):
        _state.tapes, _state.tracer, _state.lifted = self._saved


def scopes():
    """The name_scope stack of this thread, outermost first (read, do not mutate)."""
    return _state.scopes


def scope_prefix():
    """'outer/inner/' for the scopes active now, '' outside any."""
    return "".join(s + "/" for s in _state.scopes)


def scoped_name(name):
    """`name` under the active name scopes: 'outer/inner/name'."""
    return scope_prefix() + name


class name_scope:
    """`with mg.name_scope("layer1"):` prefixes the names of the nodes recorded inside."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        _state.scopes.append(self.name)
        return scope_prefix()

    def __exit__(self, *exc):
        _state.scopes.pop()


def active_captures():
    """The open mg.graph.capture() blocks of this thread, outermost first (read only)."""
    return _state.captures


def push_capture(block):
    _state.captures.append(block)


def pop_capture(block):
    # by identity: an equal block elsewhere must not be taken for it
    index = next(k for k, c in enumerate(_state.captures) if c is block)
    del _state.captures[index]


def checking_numerics():
    return _state.check_numerics


def set_check_numerics(on):
    _state.check_numerics = bool(on)


class variable_creator_scope:
    """`with variable_creator_scope(fn):` layers make their weights through
    `fn(name, shape, dtype, init, trainable)` (init: a callable giving the initial array)
    instead of as eager Variables, as TF's `variable_creator_scope` lets graph mode do."""

    def __init__(self, creator):
        self.creator = creator

    def __enter__(self):
        _state.creators.append(self.creator)
        return self

    def __exit__(self, *exc):
        _state.creators.pop()


def variable_creator():
    """The innermost variable creator of this thread, or None (eager Variables)."""
    return _state.creators[-1] if _state.creators else None
