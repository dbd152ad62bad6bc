"""Reliability: the same numbers in every process, flat memory over many steps, and threads
that train side by side getting what they would get one after another."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import ROOT


def _env(**extra):
    """The subprocess imports this checkout's minigrad, whatever is installed."""
    path = [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), **extra)


# --- determinism across processes -----------------------------------------------------------
# A CNN + LSTM: conv2d 3x3 1->4 SAME + bias, relu, max_pool 2x2/2, the 4 rows of the pooled
# [4, 4, 4] image as 4 steps of 16 into dynamic_rnn(LSTMCell(8)) (the fused LSTM kernels), the
# last output through a dense 3, softmax cross-entropy, RMSProp; eager and under mg.function,
# float64 and float32. The LSTM's weights come from mg.random's seeded stream (glorot_uniform).
_CNN_LSTM = """
import hashlib
import numpy as np
import minigrad as mg


class CnnLstm:
    def __init__(self, dtype, seed):
        mg.random.set_seed(seed)
        rng = np.random.default_rng(seed)
        self.W = mg.Variable((0.3 * rng.standard_normal((3, 3, 1, 4))).astype(dtype))
        self.b = mg.Variable(np.zeros(4, dtype))
        self.V = mg.Variable((0.3 * rng.standard_normal((8, 3))).astype(dtype))
        self.c = mg.Variable(np.zeros(3, dtype))
        self.cell = mg.nn.rnn_cell.LSTMCell(8, dtype=dtype)

    def loss(self, x, y):
        h = mg.nn.relu(mg.nn.bias_add(mg.nn.conv2d(x, self.W, [1, 1, 1, 1], "SAME"), self.b))
        h = mg.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        rows = mg.reshape(h, [-1, 4, 16])
        out, _ = mg.nn.dynamic_rnn(self.cell, rows, dtype=self.W.dtype)
        logits = mg.matmul(out[:, -1], self.V) + self.c
        return mg.reduce_mean(mg.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def variables(self):
        return [self.W, self.b, self.V, self.c] + list(self.cell.trainable_variables)


def batches(dtype, n, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((5, 8, 8, 1)).astype(dtype),
             np.eye(3, dtype=dtype)[rng.integers(0, 3, 5)]) for _ in range(n)]


def trainer(model, opt):
    def step(x, y):
        with mg.GradientTape() as tape:
            loss = model.loss(x, y)
        vs = model.variables()
        opt.apply_gradients(zip(tape.gradient(loss, vs), vs))
        return loss
    return step


def digest(variables):
    return hashlib.sha256(b"".join(v.numpy().tobytes() for v in variables)).hexdigest()[:16]
"""

_DETERMINISM = _CNN_LSTM + """
for dtype in (np.float64, np.float32):
    for compiled in (False, True):
        model = CnnLstm(dtype, seed=0)
        step = trainer(model, mg.train.RMSPropOptimizer(0.01))
        step = mg.function(step) if compiled else step
        losses = [float(step(mg.constant(x), mg.constant(y))).hex()
                  for x, y in batches(dtype, 4)]
        print(np.dtype(dtype).name, "compiled" if compiled else "eager", *losses,
              digest(model.variables()))
"""


def _train_in_fresh_process(hash_seed):
    done = subprocess.run([sys.executable, "-c", _DETERMINISM], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=_env(PYTHONHASHSEED=str(hash_seed)))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_training_is_bit_identical_across_processes():
    """Two fresh interpreters (with different str hash seeds, so nothing may depend on set or
    dict order of strings, ids or addresses) print the same loss bits and weight digests."""
    first, second = _train_in_fresh_process(1), _train_in_fresh_process(2)
    assert len(first) == 4 and all(len(line.split()) == 2 + 4 + 1 for line in first), first
    assert first == second
    by_mode = {tuple(line.split()[:2]): line.split()[2:] for line in first}
    # the replay does exactly the eager arithmetic, and training moved the loss
    assert by_mode["float64", "eager"] == by_mode["float64", "compiled"]
    assert by_mode["float32", "eager"] == by_mode["float32", "compiled"]
    assert len(set(by_mode["float64", "eager"][:4])) == 4


# --- memory stays flat over many steps --------------------------------------------------------
# A fresh process, so the heap holds no free memory that earlier tests left (which a leak could
# fill without RSS moving). A tiny MLP (x [4, 3], 3-5-1 tanh, squared error): 10,000 eager
# steps with GradientDescent, then 10,000 mg.function steps with Adam, each after 500 warm-up
# steps. Prints the RSS growth of each run, and how many engine objects (ops, tensors, tapes)
# are alive before and after it, and of the last eager step's tape and nodes, how many outlive
# the step: with the garbage collector off (freed by reference counts) and after gc.collect().
_MEMORY = """
import gc, os, sys, weakref
import numpy as np
import minigrad as mg
from minigrad.core.op import Op
from minigrad.core.tensor import Tensor

LEAK = int(sys.argv[1])       # bytes retained per step, to show that the bound sees a leak
rng = np.random.default_rng(0)
x = mg.constant(rng.standard_normal((4, 3)).astype(np.float32))
y = mg.constant(rng.standard_normal((4, 1)).astype(np.float32))
kept, refs = [], []


def trainer(opt):
    ps = [mg.Variable(rng.standard_normal(s).astype(np.float32))
          for s in [(3, 5), (5,), (5, 1), (1,)]]

    def step(x, y):
        with mg.GradientTape() as tape:
            h = mg.tanh(mg.matmul(x, ps[0]) + ps[1])
            loss = mg.reduce_mean(mg.square(mg.matmul(h, ps[2]) + ps[3] - y))
        refs[:] = [weakref.ref(tape)] + [weakref.ref(n) for n in tape.nodes]
        opt.apply_gradients(zip(tape.gradient(loss, ps), ps))
        return loss
    return step


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def engine_objects():
    return sum(isinstance(o, (Op, Tensor, mg.GradientTape)) for o in gc.get_objects())


def run(name, step):
    for _ in range(500):
        step(x, y)
    gc.collect()
    objects = engine_objects()      # (its list of every object is freed before the RSS)
    before = rss()
    for _ in range(10_000):
        step(x, y)
        if LEAK:
            kept.append(bytearray(LEAK))
    gc.collect()
    growth = rss() - before
    print(name, growth, objects, engine_objects())


eager = trainer(mg.train.GradientDescentOptimizer(0.01))
run("eager", eager)
gc.disable()
eager(x, y)
print("nodes", len(refs), sum(r() is not None for r in refs), end=" ")
gc.enable()
gc.collect()
print(sum(r() is not None for r in refs))
run("compiled", mg.function(trainer(mg.train.AdamOptimizer(0.01))))
"""

# The bound: 1 MiB over 10,000 steps, about 100 bytes a step. A retained node (an Op with its
# attribute dict, input and output tuples and name) or a Tensor (object, dict, an ndarray header
# of ~110 bytes) is several hundred bytes, so 10,000 of them are several MB. Measured here with
# no leak: +4 KiB eager, +75 KiB compiled (once, in its first thousand steps, then flat); with
# 300 bytes retained a step: +3.6 MiB (malloc's overhead added), which the control run below
# must show; even 100 bytes a step gave +1.7 MiB. RSS moves in 4 KiB pages, far below 1 MiB.
GROWTH_BOUND = 1 << 20


def _memory_runs(leak):
    return subprocess.Popen([sys.executable, "-c", _MEMORY, str(leak)], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _parse(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    lines = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in out.splitlines()}
    assert set(lines) == {"eager", "compiled", "nodes"}, out
    return lines


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="no /proc (Linux only)")
def test_memory_flat_over_10000_eager_and_compiled_steps():
    clean, leaky = _memory_runs(0), _memory_runs(300)      # side by side: 2 cores
    clean, leaky = _parse(clean), _parse(leaky)
    for mode in ("eager", "compiled"):
        growth, objects_before, objects_after = clean[mode]
        assert growth < GROWTH_BOUND, f"{mode}: RSS grew {growth} bytes in 10,000 steps"
        assert objects_after == objects_before, (mode, objects_before, objects_after)
        assert leaky[mode][0] > GROWTH_BOUND, f"{mode}: a 300-byte leak a step went unseen"
    n, alive_without_gc, alive_after_gc = clean["nodes"]
    assert n >= 2, n                           # the tape and its nodes were watched
    # freed by reference counts at the end of the step (no cycles), not at some later gc
    assert alive_without_gc == 0 and alive_after_gc == 0


# --- threads training side by side -----------------------------------------------------------
THREADS, STEPS, TRIALS = 3, 200, 3


def _mlp_trainer(seed, compiled):
    """A 4-6-3 tanh MLP on its own data, its own RMSProp: (step(i) -> loss, variables)."""
    rng = np.random.default_rng(seed)
    ps = [mg.Variable(rng.standard_normal(s)) for s in [(4, 6), (6,), (6, 3), (3,)]]
    data = [(rng.standard_normal((5, 4)), rng.integers(0, 3, 5)) for _ in range(STEPS)]
    opt = mg.train.RMSPropOptimizer(0.01)

    def step(x, labels):
        with mg.GradientTape() as tape:
            with mg.name_scope(f"model{seed}"):
                logits = mg.matmul(mg.tanh(mg.matmul(x, ps[0]) + ps[1]), ps[2]) + ps[3]
                loss = mg.reduce_mean(mg.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=labels, logits=logits))
        opt.apply_gradients(zip(tape.gradient(loss, ps), ps))
        return loss
    run = mg.function(step) if compiled else step
    return lambda i: float(run(mg.constant(data[i][0]), mg.constant(data[i][1]))), ps


def _train(trainer, barrier=None):
    """Every loss and the final weights; with a barrier, each step starts in step with the
    other threads', so their ops interleave (the traces of mg.function too)."""
    step, ps = trainer
    losses = []
    for i in range(STEPS):
        if barrier is not None:
            barrier.wait(timeout=60)
        losses.append(step(i))
    return losses, [p.numpy() for p in ps]


def _in_threads(trainers):
    barrier, results, errors = threading.Barrier(len(trainers)), {}, []

    def work(k):
        try:
            results[k] = _train(trainers[k], barrier)
        except BaseException as e:      # a thread's failure would otherwise only be printed
            errors.append(e)
            barrier.abort()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(trainers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return [results[k] for k in range(len(trainers))]


@pytest.fixture
def switch_often():
    """Switch threads every microsecond (5 ms by default), so that one thread's tape,
    name scopes or trace is open while another records ops."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("compiled", [(False,) * THREADS, (True,) * THREADS, (False, True, False)],
                         ids=["eager", "function", "mixed"])
def test_threads_train_as_if_one_after_another(compiled, switch_often):
    """Each thread its own variables, tape, optimizer (and mg.function): bit for bit the losses
    and weights of training the same models one after another, in every trial."""
    expected = [_train(_mlp_trainer(k, compiled[k])) for k in range(THREADS)]
    for trial in range(TRIALS):
        got = _in_threads([_mlp_trainer(k, compiled[k]) for k in range(THREADS)])
        for k, ((losses, weights), (want_losses, want_weights)) in enumerate(
                zip(got, expected)):
            assert losses == want_losses, f"trial {trial}, thread {k}: losses differ"
            for a, b in zip(weights, want_weights):
                assert np.array_equal(a, b), f"trial {trial}, thread {k}: weights differ"
