"""`mg.keras`: the Keras namespaces minigrad has, as `tf.keras.layers` / `tf.keras.optimizers`."""
from minigrad import layers, optimizers   # noqa: F401
