"""Peers beyond TensorFlow: PyTorch eager and JAX jit, when installed.

Each module here registers, for the parity cases it covers, a Trainer class per builder
("torch", "jax") that takes `(case, weights, data, dtype)`: the case's own initial weights (by
the lecture's variable names), its batches and its optimizer as far as the library allows (each
class says what differs). A case may also give its own `build_torch` / `build_jax`. Every other
model reports "not implemented for this model".

    mlp.py        the XOR lecture's sigmoid networks
    cnn.py        the MNIST CNN
    recurrent.py  the MNIST-rows RNN / LSTM stacks (dynamic, static, time-major)
    keras.py      the Keras LSTM / GRU on MNIST rows
    sequences.py  the character lectures, the stock LSTM, the RNN basics
    text.py       MNIST softmax regression, the text CNN
    _cells.py     TF1's and Keras's cells as torch modules (TF weights mapped in) and JAX scans
    _tf1.py       TensorFlow's update rules (TF1's and Keras's Adam, float32 scalars) in torch
                  and JAX
tests/test_peers.py holds every peer to minigrad's float64 losses, 1e-12 relative.
"""
import importlib
import os
import pkgutil

_MODELS = {}          # (builder, case name) -> Trainer class
_LOADED = False


def register(builder, *names):
    """Class decorator: `cls(case, weights, data, dtype)` is `builder`'s peer for `names`."""
    def deco(cls):
        for name in names:
            _MODELS[builder, name] = cls
        return cls
    return deco


def _load():
    global _LOADED
    if not _LOADED:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _LOADED = True


def torch_device():
    """Where the torch peers put their tensors: $MINIGRAD_PEER_DEVICE, default "cpu" (JAX
    places by its own default backend)."""
    return os.environ.get("MINIGRAD_PEER_DEVICE", "cpu")


def peer_class(builder, case):
    """The registered Trainer class, or None (a case's own build_torch / build_jax)."""
    _load()
    return _MODELS.get((builder, case.name))


def supports(builder, case):
    _load()
    return getattr(case, f"build_{builder}", None) is not None or (builder, case.name) in _MODELS


def build(builder, case, weights, data, dtype):
    import numpy as np
    if builder == "jax" and np.dtype(dtype) == np.float64:
        import jax                      # a process-wide switch: JAX computes in float32 without it
        jax.config.update("jax_enable_x64", True)
    own = getattr(case, f"build_{builder}", None)
    if own is not None:
        return own(weights, data, dtype)
    _load()
    return _MODELS[builder, case.name](case, weights, data, dtype)
