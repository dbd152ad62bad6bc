"""`mg.nn`: activations, softmax and losses (and, later, conv, pooling and recurrent layers)."""
from minigrad.ops import relu, sigmoid, tanh
from minigrad.ops.nn import (bias_add, l2_loss, log_softmax, sigmoid_cross_entropy_with_logits,
                             softmax, softmax_cross_entropy_with_logits,
                             sparse_softmax_cross_entropy_with_logits)

softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits
from minigrad.nn import rnn_cell
from minigrad.nn.embedding_ops import embedding_lookup
from minigrad.nn.rnn import dynamic_rnn, static_rnn
from minigrad.ops.conv import avg_pool, avg_pool2d, conv2d, max_pool, max_pool2d
from minigrad.nn.dropout import dropout
