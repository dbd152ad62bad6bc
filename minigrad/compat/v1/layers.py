"""`tf.layers` and `tf.contrib.layers` in graph mode (TF1 naming and reuse rules)."""
