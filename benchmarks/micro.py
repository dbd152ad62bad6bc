"""Micro-benchmarks, written once against TensorFlow's names so that the same code runs with
`E = minigrad` or `E = tensorflow` (eager): op dispatch, matmul, conv2d, max_pool, one LSTM
layer, softmax cross-entropy and the optimizer updates.

Each benchmark returns rows {"what", "us" (median per call), "min_us", optional "gflops"}; an op
the engine does not have yet gives {"status": "..."} instead. numpy's float32 matmul is measured
in the minigrad worker, in the same run, as the machine's practical ceiling.
"""
import statistics
import time

import numpy as np

F32 = np.float32


class Timer:
    """Median over `repeat` batches; each batch calls fn enough times to last `batch_s`."""

    def __init__(self, quick):
        self.repeat, self.batch_s = (3, 0.01) if quick else (7, 0.08)
        self.quick = quick

    def __call__(self, fn):
        fn()
        fn()                                # warm-up: numba compiles, caches fill
        n, t = 1, self._batch(fn, 1)
        while t < self.batch_s:
            n = max(n * 2, int(n * self.batch_s / max(t, 1e-9) * 1.2))
            t = self._batch(fn, n)
        times = [t] + [self._batch(fn, n) for _ in range(self.repeat - 1)]
        return statistics.median(times) / n, min(times) / n

    @staticmethod
    def _batch(fn, n):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - t0


def row(what, timed, flops=None, per=1):
    """A result row; `per` divides the call time (e.g. a chain of `per` ops)."""
    med, lo = timed
    r = {"what": what, "us": med / per * 1e6, "min_us": lo / per * 1e6}
    if flops:
        r["gflops"] = flops / med / 1e9
    return r


def _rng():
    return np.random.default_rng(0)


# --- op dispatch --------------------------------------------------------------------------
CHAIN = 25        # blocks of 4 ops: matmul, add, tanh, multiply


def bench_dispatch(E, name, timer):
    rng = _rng()
    x, w, b, s = (rng.standard_normal(sh).astype(F32) * 0.5 for sh in
                  [(4, 4), (4, 4), (4,), (4, 4)])
    cx, cw, cb, cs = (E.constant(a) for a in (x, w, b, s))
    vw, vb = E.Variable(w), E.Variable(b)
    ops = 4 * CHAIN

    def chain(w, b):
        y = cx
        for _ in range(CHAIN):
            y = E.tanh(E.matmul(y, w) + b) * cs
        return y

    def chain_tape():
        with E.GradientTape() as tape:
            loss = E.reduce_sum(chain(vw, vb))
        return tape.gradient(loss, [vw, vb])

    rows = [row("one add, 4x4 (us/op)", timer(lambda: E.add(cx, cs))),
            row(f"chain of {ops} tiny ops, forward (us/op)", timer(lambda: chain(cw, cb)),
                per=ops),
            row("same chain, forward+backward under a tape (us/op)", timer(chain_tape),
                per=ops + 1)]
    rows.append(_maybe("same chain, forward+backward, traced once by E.function (us/op)",
                       lambda: row("", timer(E.function(chain_tape)), per=ops + 1)))
    if name == "minigrad":
        def np_chain():
            y = x
            for _ in range(CHAIN):
                y = np.tanh(y @ w + b) * s
            return y
        rows.append(row("same chain in raw numpy, forward (us/op)", timer(np_chain), per=ops))
    return rows


def _maybe(what, make):
    """A row that may not exist yet in the engine (mg.function): its error, not the suite's."""
    try:
        return dict(make(), what=what)
    except Exception as e:
        return {"what": what, "status": f"error: {type(e).__name__}: {e}"[:200]}


# --- matmul -------------------------------------------------------------------------------
def bench_matmul(E, name, timer):
    sizes = (64, 256, 512) if timer.quick else (64, 256, 512, 1024)
    rng, rows = _rng(), []
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(F32) for _ in range(2))
        ca, cb = E.constant(a), E.constant(b)
        rows.append(row(f"matmul {n}x{n}, forward", timer(lambda: E.matmul(ca, cb)),
                        2 * n ** 3))
        if name == "minigrad":
            rows.append(row(f"numpy matmul {n}x{n} (ceiling)", timer(lambda: a @ b), 2 * n ** 3))
    n = 256 if timer.quick else 512
    a, b = (rng.standard_normal((n, n)).astype(F32) for _ in range(2))
    va, vb = E.Variable(a), E.Variable(b)

    def fwd_bwd():
        with E.GradientTape() as tape:
            y = E.matmul(va, vb)
        return tape.gradient(y, [va, vb])
    rows.append(row(f"matmul {n}x{n}, forward+backward", timer(fwd_bwd), 3 * 2 * n ** 3))
    return rows


# --- conv2d and max_pool (the lecture CNNs' layers) -----------------------------------------
def _conv_layers(quick):
    """(what, x shape, filter shape, padding): mnist_cnn's two layers and TextCNN's middle one
    (filter height 3 across the 128-wide embedding, 128 filters, 36 tokens)."""
    b, t = (10, 8) if quick else (100, 64)
    return [(f"mnist_cnn conv1 {b}x28x28x1 * 5x5x1x8 SAME", (b, 28, 28, 1), (5, 5, 1, 8),
             "SAME"),
            (f"mnist_cnn conv2 {b}x14x14x8 * 5x5x8x16 SAME", (b, 14, 14, 8), (5, 5, 8, 16),
             "SAME"),
            (f"text_cnn conv {t}x36x128x1 * 3x128x1x128 VALID", (t, 36, 128, 1),
             (3, 128, 1, 128), "VALID")]


def _conv_out(xs, fs, padding):
    if padding == "SAME":
        return xs[1], xs[2]
    return xs[1] - fs[0] + 1, xs[2] - fs[1] + 1


def bench_conv2d(E, name, timer):
    """Forward and forward+backward (both gradients) per layer; in the minigrad worker also
    numpy's 1024^3 matmul, timed between the layers' rows so that it sees the same load (its
    median over those timings is the row)."""
    if not hasattr(E.nn, "conv2d"):
        return {"status": "mg.nn.conv2d not in the package yet"}
    rng, rows = _rng(), []
    a, b = (rng.standard_normal((1024, 1024)).astype(F32) for _ in range(2))
    ceiling = []

    def numpy_matmul():
        if name == "minigrad":
            ceiling.append(timer(lambda: a @ b))
    numpy_matmul()
    for what, xs, fs, padding in _conv_layers(timer.quick):
        x = E.constant(rng.standard_normal(xs).astype(F32))
        f = E.Variable(rng.standard_normal(fs).astype(F32) * 0.1)
        oh, ow = _conv_out(xs, fs, padding)
        flops = 2 * xs[0] * oh * ow * fs[0] * fs[1] * fs[2] * fs[3]
        ct = E.constant(rng.standard_normal((xs[0], oh, ow, fs[3])).astype(F32))
        conv = lambda: E.nn.conv2d(x, f, [1, 1, 1, 1], padding)    # noqa: E731

        def fwd_bwd():
            with E.GradientTape() as tape:
                tape.watch(x)
                y = conv()
            return tape.gradient(y, [x, f], output_gradients=ct)
        rows.append(row(f"{what}, forward", timer(conv), flops))
        rows.append(row(f"{what}, forward+backward", timer(fwd_bwd), 3 * flops))
        numpy_matmul()
    if ceiling:
        med = statistics.median(t[0] for t in ceiling)
        rows.append(row("numpy matmul 1024x1024, timed between the conv rows",
                        (med, min(t[1] for t in ceiling)), 2 * 1024 ** 3))
    return rows


def bench_max_pool(E, name, timer):
    if not hasattr(E.nn, "max_pool"):
        return {"status": "mg.nn.max_pool not in the package yet"}
    rng = _rng()
    shape = (10 if timer.quick else 100, 28, 28, 32)
    x = E.constant(rng.standard_normal(shape).astype(F32))
    pool = lambda: E.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")    # noqa: E731
    ct = E.constant(rng.standard_normal((shape[0], 14, 14, 32)).astype(F32))

    def fwd_bwd():
        with E.GradientTape() as tape:
            tape.watch(x)
            y = pool()
        return tape.gradient(y, x, output_gradients=ct)
    what = f"max_pool 2x2/2 SAME on {'x'.join(map(str, shape))}"
    return [row(f"{what}, forward", timer(pool)), row(f"{what}, forward+backward",
                                                      timer(fwd_bwd))]


# --- one LSTM layer over a sequence (the RNN MNIST shapes) --------------------------------
def _lstm_api(E, name):
    """(dynamic_rnn, BasicLSTMCell) from the engine, or None."""
    ns = E.compat.v1.nn if name == "tf" else E.nn
    cells = getattr(ns, "rnn_cell", None)
    dyn = getattr(ns, "dynamic_rnn", None)
    cell = getattr(cells, "BasicLSTMCell", None) or getattr(ns, "BasicLSTMCell", None)
    return (dyn, cell) if dyn and cell else None


def bench_lstm(E, name, timer):
    api = _lstm_api(E, name)
    if api is None:
        return {"status": "mg.nn.dynamic_rnn / BasicLSTMCell not in the package yet"}
    dynamic_rnn, BasicLSTMCell = api
    b, t, i, h = (16 if timer.quick else 128), 28, 28, 128
    x = E.constant(_rng().standard_normal((b, t, i)).astype(F32))
    cell = BasicLSTMCell(h)
    run = lambda: dynamic_rnn(cell, x, dtype=E.float32)[0]    # noqa: E731
    run()                                                      # creates the cell's weights

    def fwd_bwd():
        with E.GradientTape() as tape:
            tape.watch(x)
            y = run()
            loss = E.reduce_sum(y)
        return tape.gradient(loss, [x] + list(tape.watched_variables()))
    flops = t * 2 * b * (i + h) * 4 * h
    what = f"LSTM {h} units, batch {b}, {t} steps of {i}"
    return [row(f"{what}, forward", timer(run), flops),
            row(f"{what}, forward+backward", timer(fwd_bwd), 3 * flops)]


# --- softmax cross-entropy ----------------------------------------------------------------
def bench_softmax_xent(E, name, timer):
    rng, rows = _rng(), []
    for n, c in ((100, 10), (128, 1000)):
        logits = E.constant(rng.standard_normal((n, c)).astype(F32))
        labels = E.constant(np.eye(c, dtype=F32)[rng.integers(0, c, n)])
        xent = lambda: E.nn.softmax_cross_entropy_with_logits(labels=labels,   # noqa: E731
                                                              logits=logits)

        def fwd_bwd():
            with E.GradientTape() as tape:
                tape.watch(logits)
                loss = E.reduce_mean(xent())
            return tape.gradient(loss, logits)
        rows.append(row(f"softmax xent {n}x{c}, forward", timer(xent)))
        rows.append(row(f"softmax xent {n}x{c}, forward+backward", timer(fwd_bwd)))
    return rows


# --- optimizer updates --------------------------------------------------------------------
def _optimizers(E, name):
    v1 = E.compat.v1.train if name == "tf" else E.train
    keras = E.keras.optimizers if name == "tf" else E.optimizers
    return [("train.GradientDescentOptimizer", lambda: v1.GradientDescentOptimizer(0.01)),
            ("train.MomentumOptimizer", lambda: v1.MomentumOptimizer(0.01, 0.9)),
            ("train.RMSPropOptimizer", lambda: v1.RMSPropOptimizer(0.01)),
            ("train.AdamOptimizer", lambda: v1.AdamOptimizer(0.001)),
            ("optimizers.SGD(momentum=0.9)", lambda: keras.SGD(0.01, momentum=0.9)),
            ("optimizers.RMSprop", lambda: keras.RMSprop(0.001)),
            ("optimizers.Adam", lambda: keras.Adam(0.001))]


def bench_optimizers(E, name, timer):
    rng, rows = _rng(), []
    sizes = (100, 100_000) if timer.quick else (100, 1_000_000)
    for what, make in _optimizers(E, name):
        for n in sizes:
            v = E.Variable(rng.standard_normal(n).astype(F32))
            g = E.constant(rng.standard_normal(n).astype(F32) * 1e-3)
            opt = make()
            rows.append(row(f"{what}, {n} floats",
                            timer(lambda: opt.apply_gradients([(g, v)]))))
    return rows


SUITE = {"dispatch": bench_dispatch, "matmul": bench_matmul, "conv2d": bench_conv2d,
         "max_pool": bench_max_pool, "lstm": bench_lstm, "softmax_xent": bench_softmax_xent,
         "optimizers": bench_optimizers}


def run(name, E, names, quick):
    """Run the selected benchmarks with engine module E ("minigrad" or "tf")."""
    timer, out = Timer(quick), {}
    for key, fn in SUITE.items():
        if names and key not in names:
            continue
        try:
            out[key] = fn(E, name, timer)
        except Exception as e:      # one missing piece must not sink the others
            out[key] = {"status": f"error: {type(e).__name__}: {e}"[:300]}
    if name == "minigrad" and (not names or "profile" in names):
        from benchmarks.profile import profile_model
        out["profile"] = profile_model("xor", steps=300 if quick else 3000)
        if not quick:       # the models whose targets are hardest: where their steps go
            out["profiles"] = {m: profile_model(m, steps=n) for m, n in PROFILED.items()}
    return out


# the models whose targets are hardest, and those near their best peer (a row from 1.0 to 1.3x
# counts only with a bound measured in the same run): steps to profile each
PROFILED = {"mnist_cnn": 40, "lstm_mnist": 100, "stock_lstm": 300, "text_cnn": 20,
            "char_seq": 1000, "char_stacked": 60, "hihello": 1000, "keras_lstm": 60,
            "keras_gru": 60, "rnn_mnist": 200, "rnn_mnist_static": 200,
            "rnn_mnist_static_stacked": 100, "rnn_basics": 200}
