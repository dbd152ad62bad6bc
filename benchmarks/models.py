"""Training-step time of every tutorial model, minigrad against TensorFlow's modes and peers.

The networks are the parity cases' (parity.harness.CASES): each mode builds its engine's Trainer
with the case's builder, from the same initial weights and data. Each mode lives in its own
persistent worker process; after a warm-up the parent asks them in turn, A B C A B C ..., to time
K steps, so slow drifts of this noisy machine fall on every mode alike.
"""
import inspect
import json
import math
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from benchmarks.env import ROOT, installed, worker_env

# mode -> engine, builder, TF's oneDNN switch. Order = column order in the report.
MODES = {
    "minigrad":           dict(engine="minigrad", builder="minigrad"),
    "minigrad_compiled":  dict(engine="minigrad", builder="minigrad_compiled"),
    "minigrad_session":   dict(engine="minigrad", builder="minigrad_session"),
    "minigrad_jit":       dict(engine="minigrad", builder="minigrad_jit"),
    "tf_session":         dict(engine="tf", builder="tf"),
    "tf_function":        dict(engine="tf", builder="tf2"),
    "tf_eager":           dict(engine="tf", builder="tf2_eager"),
    "tf_session_onednn":  dict(engine="tf", builder="tf", onednn=True),
    "tf_function_onednn": dict(engine="tf", builder="tf2", onednn=True),
    "torch_eager":        dict(engine="torch", builder="torch"),
    "jax_jit":            dict(engine="jax", builder="jax"),
}
MG_MODES = [m for m, s in MODES.items() if s["engine"] == "minigrad"]
TF_MODES = [m for m, s in MODES.items() if s["engine"] == "tf"]
PEER_MODES = ["torch_eager", "jax_jit"]
PEER_MODULE = {"torch_eager": "torch", "jax_jit": "jax"}


def build_trainer(case, mode, dtype, data=None, options=None):
    """The case's Trainer for one mode, from seed-0 weights and the case's default data (or
    `data`, already made); `options`: more lecture options (tests/test_peers.py)."""
    weights = case.init_weights(np.random.default_rng(0), dtype)
    weights = None if weights is None else {k: np.asarray(v, dtype) for k, v in weights.items()}
    # the training step alone: a lecture's TensorBoard summaries are not part of it (the
    # peers write none)
    case.lecture_options = {"summaries": False, **(options or {})}
    data = case.data(None, dtype) if data is None else data
    builder = MODES[mode]["builder"]
    if builder == "minigrad":
        return case.build_minigrad(weights, data, dtype)
    if builder == "minigrad_compiled":        # the step traced once by mg.function, replayed
        return case.build_minigrad(weights, data, dtype, compiled=True)
    if builder == "minigrad_session":         # the TF1 program under minigrad.compat.v1
        return case.build_tf(weights, data, dtype, "cpu", engine="minigrad")
    if builder == "minigrad_jit":             # the same step compiled by minigrad.jit
        return _jit_trainer(case, weights, data, dtype)
    if builder == "tf":
        return case.build_tf(weights, data, dtype, "cpu")
    if builder in ("tf2", "tf2_eager"):
        return case.build_tf2(weights, data, dtype, eager=builder == "tf2_eager")
    from benchmarks import peers
    return peers.build(builder, case, weights, data, dtype)


class _JitV1:
    """minigrad.compat.v1 whose Sessions have TF1's XLA switch on (global_jit_level ON_1)."""

    def __init__(self, v1):
        self._v1 = v1

    def __getattr__(self, name):
        return getattr(self._v1, name)

    def Session(self, target="", graph=None, config=None):
        v1 = self._v1
        config = config or v1.ConfigProto(graph_options=v1.GraphOptions(
            optimizer_options=v1.OptimizerOptions(global_jit_level=v1.OptimizerOptions.ON_1)))
        return v1.Session(target, graph, config)


def _jit_trainer(case, weights, data, dtype):
    """minigrad.jit: a lecture's program under a Session configured for it, or a case's
    mg.function step (its compiled builder) made again with jit_compile=True."""
    from parity.harness import LectureCase
    if isinstance(case, LectureCase):              # as LectureCase.build_tf, another tf
        import minigrad.compat.v1 as v1
        from parity.lectures import LectureTrainer
        lecture = case.lecture()
        for key, value in case.lecture_options.items():
            setattr(lecture, key, value)
        return LectureTrainer(lecture, _JitV1(v1), dtype, data, weights, v1.device("/cpu:0"))
    from minigrad.core.function import Function
    trainer = case.build_minigrad(weights, data, dtype, compiled=True)
    for name, value in list(vars(trainer).items()):
        if isinstance(value, Function):
            setattr(trainer, name, Function(value.fn, jit_compile=True))
    return trainer


def unavailable(case, mode):
    """Why `mode` cannot run this case, or None when it can."""
    builder = MODES[mode]["builder"]
    from parity.harness import LectureCase
    if isinstance(case, LectureCase) and builder in ("minigrad", "minigrad_compiled"):
        return "a lecture program: minigrad runs it as a Session plan (minigrad_session)"
    if builder.startswith("tf2") and case.build_tf2 is None:
        return "no tf2 builder in this case"
    if builder in ("minigrad_compiled", "minigrad_jit") and not isinstance(case, LectureCase) \
            and "compiled" not in inspect.signature(case.build_minigrad).parameters:
        return "no compiled builder in this case"
    if builder == "minigrad_session" and \
            "engine" not in inspect.signature(case.build_tf).parameters:
        return "this case's TF1 program does not run under minigrad.compat.v1 yet"
    if mode in PEER_MODES:
        if not installed(PEER_MODULE[mode]):
            return f"{PEER_MODULE[mode]} not installed"
        from benchmarks import peers
        if not peers.supports(builder, case):
            return "not implemented for this model"
    return None


RECURRENT_WORDS = ("rnn", "lstm", "gru", "cell", "char", "stock")


def model_kind(case):
    """"recurrent", "cnn" or "mlp", read from the case's name, cell kind and description."""
    text = f"{case.name} {getattr(case, 'kind', '') or ''} {case.description}".lower()
    if any(w in text for w in RECURRENT_WORDS):
        return "recurrent"
    return "cnn" if "cnn" in text or "conv" in text else "mlp"


class WorkerError(RuntimeError):
    pass


class Worker:
    """Parent's handle on one worker process: send a command, wait for its one-line answer."""

    def __init__(self, spec, env):
        self.spec = spec
        self.log = tempfile.TemporaryFile()
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def recv(self, timeout=900):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerError(f"no answer in {timeout} s") from None
        if line is None:
            raise WorkerError(f"worker exited ({self.proc.wait()}): {self.stderr_tail()}")
        msg = json.loads(line)
        if "error" in msg:
            raise WorkerError(msg["error"])
        return msg

    def ask(self, timeout=900, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self.recv(timeout)

    def stderr_tail(self, n=600):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-n:].strip()

    def close(self):
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def model_spec(name, mode, dtype, threads):
    from parity.harness import CASES
    return {"kind": "model", "model": name, "module": CASES[name].__module__, "mode": mode,
            "dtype": np.dtype(dtype).name, "threads": threads}


def start_worker(name, mode, dtype, threads, numba_cache_dir=None):
    env = worker_env(threads, MODES[mode].get("onednn", False), numba_cache_dir)
    return Worker(model_spec(name, mode, dtype, threads), env)


def _stats(samples):
    return {"min_ms": min(samples), "median_ms": statistics.median(samples),
            "max_ms": max(samples)}


def bench_model(name, modes, opts, log=print):
    """Interleaved repetitions of every runnable mode on one model; one JSON-able record."""
    from parity.harness import CASES
    case = CASES[name]()
    results = {}
    workers = {}
    for mode in modes:
        why = unavailable(case, mode)
        if why:
            results[mode] = {"status": why}
        else:
            workers[mode] = start_worker(name, mode, opts.dtype, opts.threads)
    try:
        _ready(workers, results, log)
        steps = _warmup(workers, results, opts, log)
        _interleave(workers, results, steps, opts, log)
        _peak_rss(workers, results)
    finally:
        for w in workers.values():
            w.close()
    return _record(case, modes, results, opts)


def _peak_rss(workers, results):
    for mode, w in workers.items():
        try:
            results[mode]["peak_rss_mb"] = w.ask(op="rss")["peak_rss_mb"]
        except WorkerError:
            results[mode]["peak_rss_mb"] = None


def _drop(workers, results, mode, err, log):
    log(f"  {mode}: {err}")
    results[mode] = {"status": f"error: {err}"}
    workers.pop(mode).close()


def _ready(workers, results, log):
    for mode, w in list(workers.items()):
        try:
            msg = w.recv()
        except WorkerError as e:
            _drop(workers, results, mode, e, log)
            continue
        results[mode] = {"status": "ok", "ready_s": time.perf_counter() - w.t0,
                         "first_step_s": msg["first_step_s"], "build_s": msg["build_s"],
                         "tf_in_process": msg["tf_in_process"]}


def _warmup(workers, results, opts, log):
    """Warm each worker up, then size its repetition from one untimed trial repetition (the
    warm-up's own estimate can still include a late compilation)."""
    steps = {}
    for mode, w in list(workers.items()):
        try:
            msg = w.ask(op="warmup", seconds=opts.warmup_s, min_steps=opts.warmup_steps)
            trial = w.ask(op="time", steps=_steps_for(msg["ms"], opts))
        except WorkerError as e:
            _drop(workers, results, mode, e, log)
            continue
        steps[mode] = results[mode]["steps_per_rep"] = _steps_for(trial["ms"], opts)
        log(f"  {mode:20s} warm-up {msg['steps']:6d} steps, then {trial['ms']:9.4f} ms/step "
            f"-> {steps[mode]} steps per repetition")
    return steps


def _steps_for(ms, opts):
    return max(opts.min_steps, math.ceil(opts.rep_s / max(ms / 1e3, 1e-9)))


def _interleave(workers, results, steps, opts, log):
    samples = {mode: [] for mode in workers}
    for r in range(opts.repeat):
        for mode, w in list(workers.items()):
            try:
                msg = w.ask(op="time", steps=steps[mode], settle_s=opts.settle_s)
            except WorkerError as e:
                _drop(workers, results, mode, e, log)
                continue
            samples[mode].append(msg["ms"])
            results[mode]["last_loss"] = msg["loss"]
            time.sleep(opts.pause_s)   # the last worker's spinning threads go to sleep
    for mode in workers:
        results[mode].update(_stats(samples[mode]), samples_ms=samples[mode])
    log("  " + "  ".join(f"{m} {results[m]['median_ms']:.4g}" for m in workers) + " (ms)")


def _record(case, modes, results, opts):
    """minigrad_ms is minigrad's fastest mode (eager or mg.function), as tf_best_ms is TF's."""
    ok = {m: r for m, r in results.items() if r.get("status") == "ok"}
    mg_mode, mg = _best(ok, MG_MODES)
    best, tf = _best(ok, TF_MODES)
    for m, r in ok.items():
        r["ratio"] = mg / r["median_ms"] if mg and m not in MG_MODES else None
    rec = {"model": case.name, "description": case.description, "kind": model_kind(case),
           "dtype": np.dtype(opts.dtype).name, "threads": opts.threads,
           "repeat": opts.repeat, "minigrad_ms": mg, "minigrad_mode": mg_mode,
           "tf_best_ms": tf, "tf_best_mode": best,
           "ratio_vs_tf_best": mg / tf if mg and tf else None,
           "modes": {m: results[m] for m in modes if m in results}}
    for m in modes:
        for k in ("min_ms", "median_ms", "max_ms"):
            rec[f"{m}_{k}"] = results.get(m, {}).get(k)
    return rec


def _best(ok, modes):
    """(mode, median ms) of the fastest of `modes` that ran, or (None, None)."""
    ran = {m: ok[m]["median_ms"] for m in modes if m in ok}
    if not ran:
        return None, None
    m = min(ran, key=ran.get)
    return m, ran[m]
