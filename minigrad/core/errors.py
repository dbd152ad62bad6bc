"""`mg.errors`: TensorFlow's error classes (tensorflow/python/framework/errors_impl.py).

An OpError carries the node it came from (`op`, may be None) and a message; the subclasses
keep TF's names so that `except tf.errors.InvalidArgumentError` works under either engine.
"""


class OpError(Exception):
    def __init__(self, node_def, op, message):
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self):
        return self.message


class InvalidArgumentError(OpError):
    """A bad value: NaN/Inf under check_numerics, a fed value of the wrong shape."""


class FailedPreconditionError(OpError):
    """The state is not ready: a variable read before its initializer ran."""


class NotFoundError(OpError):
    pass


class AlreadyExistsError(OpError):
    pass


class OutOfRangeError(OpError):
    pass


class UnimplementedError(OpError):
    pass


class InternalError(OpError):
    pass
