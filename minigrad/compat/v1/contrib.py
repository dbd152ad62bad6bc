"""`tf.contrib` (TensorFlow 1.x; gone from TF 2): the parts the TF1 lectures use.

- `tf.contrib.rnn`: the cells of tf.nn.rnn_cell, static_rnn, static_bidirectional_rnn;
- `tf.contrib.seq2seq.sequence_loss`;
- `tf.contrib.layers`: see the marked place below.
"""
import types

from minigrad.compat.v1 import rnn as _rnn

rnn = types.SimpleNamespace(
    RNNCell=_rnn.RNNCell, BasicRNNCell=_rnn.BasicRNNCell, BasicLSTMCell=_rnn.BasicLSTMCell,
    LSTMCell=_rnn.LSTMCell, GRUCell=_rnn.GRUCell, MultiRNNCell=_rnn.MultiRNNCell,
    DropoutWrapper=_rnn.DropoutWrapper, LSTMStateTuple=_rnn.LSTMStateTuple,
    ResidualWrapper=_rnn.ResidualWrapper, EmbeddingWrapper=_rnn.EmbeddingWrapper,
    InputProjectionWrapper=_rnn.InputProjectionWrapper,
    OutputProjectionWrapper=_rnn.OutputProjectionWrapper,
    static_rnn=_rnn.static_rnn, static_bidirectional_rnn=_rnn.static_bidirectional_rnn)

seq2seq = types.SimpleNamespace(sequence_loss=_rnn.sequence_loss)

# --- tf.contrib.layers ------------------------------------------------------------------------
# (fully_connected, xavier_initializer, ...) is added here, as `layers = ...`, by its owner.
from minigrad.compat.v1 import layers as _layers  # noqa: E402

layers = _layers.contrib_layers
