"""TF1's recurrent API in graph mode: cells (tf.nn.rnn_cell, tf.contrib.rnn), dynamic_rnn,
static_rnn, sequence_loss."""
