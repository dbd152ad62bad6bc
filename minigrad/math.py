"""`mg.math.*`: TensorFlow's math namespace, aliases of the ops."""
from minigrad.ops import (abs, add, argmax, argmin, divide, equal, exp, greater, greater_equal,
                          less, less_equal, log, log1p, maximum, minimum, multiply, negative,
                          not_equal, pow, reciprocal, reduce_max, reduce_mean, reduce_min,
                          reduce_sum, sigmoid, sqrt, square, subtract, tanh)
from minigrad.ops.nn import log_softmax, softmax

truediv = divide
