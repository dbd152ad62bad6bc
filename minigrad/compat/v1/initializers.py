"""TF1's initializers, with TF1's defaults (tensorflow/python/ops/init_ops.py)."""
