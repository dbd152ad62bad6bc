"""The environment a measurement runs in: thread counts, TensorFlow's settings, the machine.

Every measurement runs in a worker subprocess whose environment is built here, so that both
engines see the same number of threads and TensorFlow reads TF_ENABLE_ONEDNN_OPTS at import.
"""
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def worker_env(threads, onednn=False, numba_cache_dir=None):
    """os.environ for a worker: N threads for every pool, TF's oneDNN on or off, quiet TF."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    env["TF_USE_LEGACY_KERAS"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in
                                                      env.get("PYTHONPATH", "").split(os.pathsep)
                                                      if p])
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    return env


def configure_tf_threads(tf, threads):
    """Before TF runs any op: intra- and inter-op pools of `threads` threads each."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def peak_rss_mb():
    """This process's peak resident set size, in MiB (Linux reports ru_maxrss in KiB)."""
    import resource
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def load_average():
    """1-minute load average: other work on the machine, which the numbers then include."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed(module):
    """Whether `module` can be imported, without importing it."""
    import importlib.util
    return importlib.util.find_spec(module) is not None


def machine_info(threads):
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    libs = {d: _version(d) for d in ("numpy", "numba", "tensorflow-cpu", "tensorflow",
                                     "tf-keras", "torch", "jax", "jaxlib")}
    libs = {d: v for d, v in libs.items() if v}
    libs["minigrad"] = _version("minigrad") or _package_version()
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gib": mem,
            "load_at_start": load_average(),
            "python": platform.python_version(), "platform": platform.platform(),
            "threads": threads, "libraries": libs}


def _package_version():
    text = (ROOT / "minigrad" / "__init__.py").read_text()
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "unknown"
