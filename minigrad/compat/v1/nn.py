"""`tf.nn` in graph mode: minigrad's nn functions recorded as Operations (TF1 spellings)."""
from minigrad.compat.v1.ops import (_tf1_dim, dropout, log_softmax, relu, sigmoid, softmax, tanh,
                                    wrap)
import minigrad as mg

softmax_cross_entropy_with_logits = wrap(mg.nn.softmax_cross_entropy_with_logits,
                                         "SoftmaxCrossEntropyWithLogits", _tf1_dim)
softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits
sparse_softmax_cross_entropy_with_logits = wrap(mg.nn.sparse_softmax_cross_entropy_with_logits,
                                                "SparseSoftmaxCrossEntropyWithLogits")
sigmoid_cross_entropy_with_logits = wrap(mg.nn.sigmoid_cross_entropy_with_logits,
                                         "logistic_loss")
bias_add = wrap(mg.nn.bias_add, "BiasAdd")
l2_loss = wrap(mg.nn.l2_loss, "L2Loss")

# the recurrent part lives in minigrad/compat/v1/rnn.py
from minigrad.compat.v1.rnn import (bidirectional_dynamic_rnn, dynamic_rnn, rnn_cell,  # noqa
                                    static_bidirectional_rnn, static_rnn)
