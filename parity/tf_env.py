"""TensorFlow, imported only here and only when a parity run needs it, with parity's settings."""
import os


def import_tf(device="cpu"):
    """TF with TF1 cells available (tf-keras), oneDNN off (fixed summation order), quiet logs.

    device="gpu": TensorFloat-32 off and op determinism on, so float32 results are comparable.
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"        # must precede the first tensorflow import
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    if device == "gpu":
        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.config.experimental.enable_op_determinism()
    return tf


def tf_device_name(device):
    return "/GPU:0" if device == "gpu" else "/CPU:0"


def gpu_available():
    tf = import_tf()
    return bool(tf.config.list_physical_devices("GPU"))


def tf1_api(device="cpu", engine="tensorflow"):
    """(tf, tf.compat.v1, device placement) for a TF1 program run by `engine`: TensorFlow, or
    minigrad.compat.v1 (then all three are minigrad's, and placement is the CPU)."""
    if engine == "minigrad":
        import minigrad.compat.v1 as v1
        return v1, v1, v1.device(tf_device_name("cpu"))
    tf = import_tf(device)
    return tf, tf.compat.v1, tf.device(tf_device_name(device))
