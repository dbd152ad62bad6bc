"""What is running now, per thread: the default sessions and the Session.run being traced.

The bottom of compat.v1: graph.py asks it for the default session (`Tensor.eval`), op bodies
ask it for the run in progress (its session, its tape), session.py sets both.
"""
import threading


class _Local(threading.local):
    def __init__(self):
        self.sessions = []      # default sessions, innermost last
        self.run = None         # the _Run being traced in this thread


_local = _Local()


class Run:
    """One traced Session.run: the session whose variables and optimizers it uses, and the
    tape that records it when a gradient is among its ops (else None)."""

    def __init__(self, session, tape):
        self.session, self.tape = session, tape

    def __enter__(self):
        self._saved, _local.run = _local.run, self
        return self

    def __exit__(self, *exc):
        _local.run = self._saved


def current_run():
    """The Session.run being traced in this thread (None outside one, e.g. while the graph is
    being built)."""
    return _local.run


class default_session:
    """`with sess.as_default():` makes `sess` the session of `t.eval()` and `op.run()`."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        _local.sessions.append(self.session)
        return self.session

    def __exit__(self, *exc):
        _local.sessions.remove(self.session)


def get_default_session():
    return _local.sessions[-1] if _local.sessions else None


def default_session_for(item, what, session=None):
    sess = session or get_default_session()
    if sess is None:
        raise ValueError(f"Cannot {what} {getattr(item, 'name', item)}: no default session is "
                         f"registered. Use `with sess.as_default()` or pass an explicit "
                         f"session: `{what}(session=sess)`")
    if sess.graph is not item.graph:
        raise ValueError(f"Cannot use the given session to {what} {item.name}: the item is "
                         f"not in the session's graph")
    return sess
