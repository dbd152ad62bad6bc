"""A persistent measuring process, driven by the parent over its stdin/stdout, one JSON per line.

    python -m benchmarks.worker '{"kind": "model", "model": "xor", "mode": "tf_session", ...}'

A model worker builds one engine's Trainer (the parity case's builder), runs one step, answers
{"ready": ...}, then obeys {"op": "warmup" | "time" | "rss" | "quit"}. A micro worker runs the
micro-benchmarks of one engine and answers once. Anything a library prints goes to stderr: the
protocol has stdout to itself.
"""
import importlib
import json
import os
import sys
import time
import traceback

T_START = time.perf_counter()


class Channel:
    """stdout reserved for the protocol; fd 1 redirected to stderr for everyone else."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)

    def send(self, **msg):
        self.out.write(json.dumps(msg) + "\n")
        self.out.flush()

    def commands(self):
        for line in sys.stdin:
            if line.strip():
                yield json.loads(line)


def _import_engine(engine, threads):
    """Import the engine under test (TF with its thread pools set before any op)."""
    if engine == "tf":
        from parity.tf_env import import_tf
        from benchmarks.env import configure_tf_threads
        tf = import_tf()
        configure_tf_threads(tf, threads)
        return tf
    if engine == "torch":
        import torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
        return torch
    if engine == "jax":
        import jax
        return jax
    import minigrad
    return minigrad


class ModelWorker:
    def __init__(self, spec):
        t0 = time.perf_counter()        # imports: numpy and this harness's too, then the engine
        import numpy as np
        from benchmarks.models import MODES, build_trainer
        mode = MODES[spec["mode"]]
        _import_engine(mode["engine"], spec["threads"])
        importlib.import_module(spec["module"])          # registers the case
        from parity.harness import CASES
        t1 = time.perf_counter()
        self.case = CASES[spec["model"]]()
        dtype = np.dtype(spec["dtype"])
        data = self.case.data(None, dtype)
        t_data = time.perf_counter()
        self.trainer = build_trainer(self.case, spec["mode"], dtype, data)
        t2 = time.perf_counter()
        self.i = 0
        self.period = max(1, int(self.case.steps or 1))
        self.loss = self.step()
        t3 = time.perf_counter()
        self.info = {"import_s": t1 - t0, "build_s": t2 - t1, "data_s": t_data - t1,
                     "first_step_s": t3 - t2,
                     "since_start_s": t3 - T_START,
                     "tf_in_process": "tensorflow" in sys.modules}

    def step(self):
        loss = self.trainer.step(self.i % self.period)
        self.i += 1
        return loss

    def warmup(self, seconds, min_steps):
        """Run for `seconds` (and `min_steps`); the estimate comes from the last quarter only,
        after compilation and caches have settled."""
        n = self._run_for(seconds * 0.75, min_steps)[0]
        m, s = self._run_for(seconds * 0.25, 1)
        return {"ms": s / m * 1e3, "steps": n + m}

    def _run_for(self, seconds, min_steps):
        t0, n = time.perf_counter(), 0
        while n < min_steps or time.perf_counter() - t0 < seconds:
            self.step()
            n += 1
        return n, time.perf_counter() - t0

    def time(self, steps, settle_s=0.0):
        """ms per step over `steps` steps, after `settle_s` seconds of untimed ones."""
        if settle_s:
            self._run_for(settle_s, 1)
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = self.step()
        ms = (time.perf_counter() - t0) / steps * 1e3
        return {"ms": ms, "loss": float(loss)}


def run_model(chan, spec):
    from benchmarks.env import peak_rss_mb
    w = ModelWorker(spec)
    chan.send(ready=True, **w.info)
    for cmd in chan.commands():
        op = cmd["op"]
        if op == "warmup":
            chan.send(**w.warmup(cmd["seconds"], cmd["min_steps"]))
        elif op == "time":
            chan.send(**w.time(cmd["steps"], cmd.get("settle_s", 0.0)))
        elif op == "rss":
            chan.send(peak_rss_mb=peak_rss_mb())
        elif op == "quit":
            break
        else:
            chan.send(error=f"unknown op {op!r}")


def run_micro(chan, spec):
    from benchmarks import micro
    engine = _import_engine(spec["engine"], spec["threads"])
    chan.send(result=micro.run(spec["engine"], engine, spec["names"], spec["quick"]))


def main(argv):
    chan = Channel()
    spec = json.loads(argv[0])
    try:
        {"model": run_model, "micro": run_micro}[spec["kind"]](chan, spec)
    except Exception as e:          # report, never hang the parent
        tb = traceback.format_exc(limit=4)
        chan.send(error=f"{type(e).__name__}: {e}", traceback=tb)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
