"""The model-level parity harness.

A case builds one tutorial network twice, in minigrad and in TensorFlow (as the lecture writes
it), from the same initial weights and the same batches, and returns a Run for each engine:
per-step losses, final outputs and final weights. `compare` turns two Runs into a verdict
against the case's stated tolerance.
"""
import time
from dataclasses import dataclass, field

import numpy as np

CASES = {}


def register_case(cls):
    CASES[cls.name] = cls
    return cls


@dataclass
class Run:
    losses: list
    outputs: dict = field(default_factory=dict)     # name -> ndarray, after training
    weights: dict = field(default_factory=dict)     # name -> ndarray, after training
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)       # e.g. accuracy, decoded text

    @property
    def sec_per_step(self):
        return self.seconds / max(1, len(self.losses))


@dataclass
class Tolerance:
    """Per-step loss must agree within `loss_rtol` (relative) over the first `steps` steps
    (None: all); final outputs and weights within `tensor_atol + tensor_rtol * |tf|`."""
    loss_rtol: float
    steps: int = None
    tensor_rtol: float = None
    tensor_atol: float = None
    why: str = ""


class Trainer:
    """One engine's model, built and ready: `step(i)` trains on batch i and returns the loss
    (computed before the update, as `sess.run([cost, train])` does)."""

    def step(self, i):
        raise NotImplementedError

    def outputs(self):
        return {}

    def weights(self):
        return {}

    def extra(self):
        return {}


class Case:
    """Subclasses set name, steps, and implement data, init_weights, and the builders
    build_minigrad / build_tf (tf.compat.v1 Session, as the lecture) returning Trainers.
    build_tf2 (a tf.function / Keras reference) is optional."""
    name = None
    steps = 100
    ci_steps = 5
    needs = None                # a data set name in ../shared/data, if the case can use one
    description = ""

    def tolerance(self, dtype):
        if np.dtype(dtype) == np.float64:
            return Tolerance(1e-9, None, 1e-7, 1e-9, "float64: same formulas, summation order "
                                                      "only")
        return Tolerance(1e-5, 100, 1e-3, 1e-4, "float32: TF's assertAllClose scale; chaotic "
                                                "training amplifies last-bit differences later")

    def data(self, data_dir, dtype):
        raise NotImplementedError

    def init_weights(self, rng, dtype):
        raise NotImplementedError

    def build_minigrad(self, weights, data, dtype, compiled=False):
        """compiled=True: the training step wrapped in mg.function (traced once, replayed)."""
        raise NotImplementedError

    def build_tf(self, weights, data, dtype, device="cpu"):
        raise NotImplementedError

    build_tf2 = None


@dataclass
class Comparison:
    case: str
    dtype: str
    device: str
    steps: int
    max_abs_dloss: float
    max_rel_dloss: float
    drift_rel_dloss: float          # over every step, reported even where not judged
    max_abs_doutput: float
    max_abs_dweight: float
    tolerance: str
    passed: bool
    first_failure: str
    mg_sec_per_step: float
    tf_sec_per_step: float
    mg_extra: dict = field(default_factory=dict)
    tf_extra: dict = field(default_factory=dict)
    mg_losses: list = field(default_factory=list)
    tf_losses: list = field(default_factory=list)


def _rel(a, b):
    return np.abs(a - b) / np.maximum(np.abs(b), np.finfo(np.float64).tiny)


def compare(case, dtype, device, mg, tf):
    tol = case.tolerance(dtype)
    a, b = np.asarray(mg.losses, np.float64), np.asarray(tf.losses, np.float64)
    n = len(b) if tol.steps is None else min(tol.steps, len(b))
    rel = _rel(a, b)
    failure = ""
    bad = np.nonzero(~(rel[:n] <= tol.loss_rtol))[0]
    if len(a) != len(b):
        failure = f"{len(a)} minigrad losses but {len(b)} TensorFlow losses"
    elif len(bad):
        s = int(bad[0])
        failure = (f"loss diverged first at step {s}: minigrad {a[s]:.10g}, TensorFlow "
                   f"{b[s]:.10g} (relative {rel[s]:.2e} > {tol.loss_rtol:g})")
    dout, fail_out = _tensors_diff("output", mg.outputs, tf.outputs, tol)
    dw, fail_w = _tensors_diff("weight", mg.weights, tf.weights, tol)
    judged_whole_run = tol.steps is None or tol.steps >= len(b)
    if not failure and judged_whole_run:
        failure = fail_out or fail_w
    return Comparison(
        case=case.name, dtype=np.dtype(dtype).name, device=device, steps=len(b),
        max_abs_dloss=float(np.max(np.abs(a[:n] - b[:n]))) if n else 0.0,
        max_rel_dloss=float(np.max(rel[:n])) if n else 0.0,
        drift_rel_dloss=float(np.max(rel)) if len(rel) else 0.0,
        max_abs_doutput=dout, max_abs_dweight=dw,
        tolerance=_describe(tol, judged_whole_run), passed=not failure, first_failure=failure,
        mg_sec_per_step=mg.sec_per_step, tf_sec_per_step=tf.sec_per_step,
        mg_extra=mg.extra, tf_extra=tf.extra, mg_losses=list(map(float, a)),
        tf_losses=list(map(float, b)))


def _describe(tol, judged_whole_run):
    steps = "all steps" if tol.steps is None else f"first {tol.steps} steps"
    s = f"loss rel <= {tol.loss_rtol:g} ({steps})"
    if judged_whole_run and tol.tensor_rtol is not None:
        s += f"; tensors <= {tol.tensor_atol:g} + {tol.tensor_rtol:g}*|tf|"
    return s


def _tensors_diff(kind, mine, theirs, tol):
    worst, failure = 0.0, ""
    for name in theirs:
        if name not in mine:
            return float("nan"), f"{kind} '{name}' missing in minigrad's run"
        a, b = np.asarray(mine[name], np.float64), np.asarray(theirs[name], np.float64)
        if a.shape != b.shape:
            return float("nan"), f"{kind} '{name}': shape {a.shape} vs TensorFlow's {b.shape}"
        d = np.abs(a - b)
        worst = max(worst, float(d.max()) if d.size else 0.0)
        if tol.tensor_rtol is not None and not failure:
            over = d > tol.tensor_atol + tol.tensor_rtol * np.abs(b)
            if over.any():
                at = tuple(int(i) for i in np.unravel_index(np.argmax(d - np.abs(b) *
                                                                      tol.tensor_rtol), d.shape))
                failure = (f"{kind} '{name}' differs at {at}: minigrad {a[at]:.10g}, "
                           f"TensorFlow {b[at]:.10g}")
    return worst, failure


def run_case(case, dtype, steps=None, data_dir=None, device="cpu", seed=0, progress=None,
             compiled=False):
    """Run one case in both engines from the same initial weights; return a Comparison."""
    steps = case.steps if steps is None else steps
    data = case.data(data_dir, dtype)
    weights = case.init_weights(np.random.default_rng(seed), dtype)
    weights = None if weights is None else {k: np.asarray(v, dtype) for k, v in weights.items()}
    trainers = {"tensorflow": case.build_tf(_copy(weights), data, dtype, device)}
    if weights is None:         # a lecture's own initial values, taken from TF's session
        weights = trainers["tensorflow"].initial_weights()
    trainers["minigrad"] = (case.build_minigrad(_copy(weights), data, dtype, compiled=True)
                            if compiled else case.build_minigrad(_copy(weights), data, dtype))
    runs = {}
    for engine in ("minigrad", "tensorflow"):
        tick = progress(f"{case.name} {np.dtype(dtype).name} {engine}", steps) if progress \
            else None
        runs[engine] = train(trainers[engine], steps, tick)
    return compare(case, dtype, device, runs["minigrad"], runs["tensorflow"])


def _copy(weights):
    return None if weights is None else {k: np.array(v, copy=True) for k, v in weights.items()}


def train(trainer, steps, tick=None):
    """Run `steps` training steps; time only the loop."""
    losses, t0 = [], time.perf_counter()
    for i in range(steps):
        losses.append(float(trainer.step(i)))
        if tick:
            tick()
    seconds = time.perf_counter() - t0
    if tick:
        getattr(tick, "close", lambda: None)()
    return Run(losses, trainer.outputs(), trainer.weights(), seconds, trainer.extra())


class LectureCase(Case):
    """A case that is a lecture program (parity.lectures) run by each engine's Session: the
    model is written once, in the deck's TF1 code. `init_weights` may return None: then the
    minigrad run starts from TensorFlow's initial values, copied by variable name.
    `lecture_options`: attributes set on the lecture (the benchmarks time the training step
    alone: {"summaries": False})."""
    lecture = None
    lecture_options = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        lec = cls.lecture
        cls.name = cls.__dict__.get("name", lec.name)
        cls.description = cls.__dict__.get("description", f"{lec.title} (deck {lec.deck})")
        cls.steps = cls.__dict__.get("steps", lec.steps)

    def data(self, data_dir, dtype):
        return self.lecture().data(data_dir, np.dtype(dtype).name)

    def init_weights(self, rng, dtype):
        return None

    def build_minigrad(self, weights, data, dtype, compiled=False):
        """The deck's program under minigrad.compat.v1 (a Session's plan is always compiled)."""
        return self.build_tf(weights, data, dtype, "cpu", engine="minigrad")

    def build_tf(self, weights, data, dtype, device="cpu", engine="tensorflow"):
        from parity.lectures import LectureTrainer
        from parity.tf_env import tf1_api
        _, v1, placement = tf1_api(device, engine)
        lecture = self.lecture()
        for key, value in self.lecture_options.items():
            setattr(lecture, key, value)
        return LectureTrainer(lecture, v1, dtype, data, weights, placement)
