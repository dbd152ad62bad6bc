"""Support for the RNN tests of minigrad.compat.v1: a fixed start, and `tf.contrib` for the
TensorFlow side.

`run_both_fixed`: run_both, with both engines starting from seeded numpy values (loaded into
TensorFlow's variables after its initializer, then copied to minigrad's by order, as run_both
copies). TF's own initial values are not reproducible here: tf_keras's legacy cells draw their
kernels with seeds of their own (stateless_random_uniform), not from the graph seed, so two
runs of one program in a process start differently, and tolerances would be judged on a new
draw each time.

TensorFlow 2's tf.compat.v1 has no contrib. The lectures' programs use tf.contrib.rnn and
tf.contrib.seq2seq, so under TensorFlow a program gets tf.compat.v1 with this `contrib`:
contrib.rnn is TF's own tf.nn.rnn_cell (which TF 1.x's contrib.rnn re-exported) with
static_rnn and static_bidirectional_rnn; contrib.seq2seq.sequence_loss is TF 1.x's
(tensorflow/contrib/seq2seq/python/ops/loss.py: the weighted sparse softmax cross-entropy,
summed and divided by the summed weights + 1e-12) composed from TF ops; and
contrib.layers.fully_connected for the linear layer the lectures put after an RNN.
"""
import types

import numpy as np

from minigrad.testing.tf1_compare import Sync, run_in_graph, tf_v1


def sequence_loss(tf, logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True):
    num_classes = tf.shape(logits)[2]
    crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.reshape(targets, [-1]), logits=tf.reshape(logits, [-1, num_classes]))
    crossent *= tf.reshape(weights, [-1])
    if average_across_timesteps and average_across_batch:
        return tf.reduce_sum(crossent) / (tf.reduce_sum(weights) + 1e-12)
    crossent = tf.reshape(crossent, tf.shape(logits)[:2])
    if average_across_timesteps or average_across_batch:
        axis = [1] if average_across_timesteps else [0]
        return tf.reduce_sum(crossent, axis=axis) / (tf.reduce_sum(weights, axis=axis) + 1e-12)
    return crossent


def fully_connected(tf, inputs, num_outputs, activation_fn=None, scope=None):
    """TF 1.x's tf.contrib.layers.fully_connected for a 2-D input, from TF ops: variables
    `fully_connected/weights` [in, out] and `fully_connected/biases` (uniquified scope), then
    activation_fn(x @ weights + biases). TF's default activation is relu; the lectures pass
    activation_fn=None, the only form this stand-in takes."""
    if activation_fn is not None:
        raise NotImplementedError("this stand-in only takes activation_fn=None")
    with tf.variable_scope(scope, default_name="fully_connected"):
        weights = tf.get_variable("weights", [inputs.shape[-1], num_outputs],
                                  dtype=inputs.dtype)
        biases = tf.get_variable("biases", [num_outputs], dtype=inputs.dtype,
                                 initializer=tf.zeros_initializer())
        return tf.nn.bias_add(tf.matmul(inputs, weights), biases)


class WithContrib:
    """tensorflow.compat.v1 plus `contrib` (every other attribute is the module's own)."""

    def __init__(self, tf):
        self._tf = tf
        rnn = {name: getattr(tf.nn.rnn_cell, name) for name in dir(tf.nn.rnn_cell)
               if not name.startswith("_")}
        rnn.update(static_rnn=tf.nn.static_rnn,
                   static_bidirectional_rnn=tf.nn.static_bidirectional_rnn)
        self.contrib = types.SimpleNamespace(
            rnn=types.SimpleNamespace(**rnn),
            seq2seq=types.SimpleNamespace(
                sequence_loss=lambda *a, **k: sequence_loss(tf, *a, **k)),
            layers=types.SimpleNamespace(
                fully_connected=lambda *a, **k: fully_connected(tf, *a, **k)))

    def __getattr__(self, name):
        return getattr(self._tf, name)


def with_contrib(program):
    """`program(tf, ...)` given a tf that has contrib (minigrad's has its own)."""
    def run(tf, *args, **kwargs):
        return program(tf if hasattr(tf, "contrib") else WithContrib(tf), *args, **kwargs)
    run.__name__ = program.__name__
    return run


class FixedStart(Sync):
    """On the first engine (TensorFlow), load seeded values into the trainable variables,
    then record them; the second engine loads the recorded values."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def __call__(self, sess):
        if self.recorded is None:
            rng = np.random.default_rng(self.seed)
            with sess.graph.as_default():
                for v in sess.graph.get_collection("trainable_variables"):
                    shape = v.shape.as_list()
                    # glorot-uniform's range for matrices, +-0.5 for vectors (biases too)
                    limit = np.sqrt(6.0 / (shape[0] + shape[-1])) if len(shape) > 1 else 0.5
                    dtype = v.dtype.base_dtype.as_numpy_dtype
                    v.load(rng.uniform(-limit, limit, shape).astype(dtype), sess)
        super().__call__(sess)


def run_both_fixed(program, *args, seed=0, **kwargs):
    """(TensorFlow's result, minigrad's result), both from the same seeded start."""
    import minigrad.compat.v1 as mg_tf
    sync = FixedStart(seed)
    want = run_in_graph(tf_v1(), program, *args, sync=sync, **kwargs)
    got = run_in_graph(mg_tf, program, *args, sync=sync.replay(), **kwargs)
    return want, got
