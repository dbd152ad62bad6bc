"""`mg.layers`: Keras-layout layers (Dense, SimpleRNN, LSTM, GRU) and TF1's functional `dense`.
Their dtype is the first input's (tf.layers); `mg.keras.layers` has them under Keras' float32
policy."""
from minigrad.layers.base import Layer
from minigrad.layers.core import Dense, clear_dense_layers, dense, dense_layers
from minigrad.layers.recurrent import GRU, LSTM, SimpleRNN

__all__ = ["Layer", "Dense", "dense", "dense_layers", "clear_dense_layers", "SimpleRNN", "LSTM",
           "GRU"]
