"""`tf.contrib` for TensorFlow 2's tf.compat.v1, which has none: the parts the RNN lectures use.

The decks' programs write `tf.contrib.rnn.BasicLSTMCell`, `tf.contrib.seq2seq.sequence_loss` and
`tf.contrib.layers.fully_connected`. minigrad.compat.v1 has its own `contrib`; for TensorFlow,
`contrib_tf(tf)` gives tf.compat.v1 with this one (every other attribute is the module's own):

- contrib.rnn: TF's own tf.nn.rnn_cell (which TF 1.x's contrib.rnn re-exported), with
  static_rnn and static_bidirectional_rnn;
- contrib.seq2seq.sequence_loss: TF 1.x's (tensorflow/contrib/seq2seq/python/ops/loss.py: the
  weighted sparse softmax cross-entropy, summed and divided by the summed weights + 1e-12)
  composed from TF ops;
- contrib.layers.fully_connected for the linear layer the lectures put after an RNN
  (activation_fn=None, the only form the lectures use).
"""
import types


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


def contrib_tf(tf):
    """`tf` itself when it has contrib (minigrad.compat.v1), else tf with the stand-in."""
    return tf if hasattr(tf, "contrib") else WithContrib(tf)
