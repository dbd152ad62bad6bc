"""`mg.keras`: Keras' namespaces. `mg.keras.layers` holds the same layers as `mg.layers` under
Keras' dtype policy (float32 unless dtype= is given; floating inputs cast to it), where
`mg.layers` follows tf.layers (the dtype of the first input)."""
import types

from minigrad import layers as _layers
from minigrad import optimizers   # noqa: F401


def _keras(cls):
    return type(cls.__name__, (cls,), {"_autocast": True, "__doc__": cls.__doc__,
                                       "__module__": "minigrad.keras.layers"})


layers = types.ModuleType("minigrad.keras.layers", "Keras-policy layers (see minigrad.keras)")
layers.Layer = _layers.Layer
for _cls in (_layers.Dense, _layers.SimpleRNN, _layers.LSTM, _layers.GRU):
    setattr(layers, _cls.__name__, _keras(_cls))
