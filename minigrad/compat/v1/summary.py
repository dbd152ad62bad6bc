"""`tf.summary` in graph mode (TF1): summary ops, merge_all, FileWriter."""
