"""`mg.compat.v1`: TensorFlow 1's graph mode under TF1's names (import minigrad.compat.v1 as tf).
Imported on first use, so `import minigrad` stays light."""
import importlib


def __getattr__(name):
    if name == "v1":
        return importlib.import_module("minigrad.compat.v1")
    raise AttributeError(name)
