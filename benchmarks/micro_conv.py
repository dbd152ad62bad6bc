"""Kernel-level timings of minigrad.kernels.conv / .pool on the lecture CNNs' layers.

    python -m benchmarks.micro_conv [--tf] [--rounds N] [--dtype float32|float64|both]

Layers: mnist_cnn's two (5x5, 1->8 and 8->16, SAME, batch 100) and TextCNN's three (filter
heights 2, 3, 4 across the 128-wide embedding, 128 filters, VALID, batch 64, 36 tokens: the
synthetic data's longest sentence). For each layer: forward, backward_input, backward_filter
and "step" = the forward then both backwards (backward_filter given the forward's patches, as
the op runs them): by the method choose_method picks ("auto"), and where that is the direct
kernels for any of the three, by each method forced.
GFLOP/s count 2*n*oh*ow*kh*kw*cin*cout per kernel, 3x that per step.

Everything is interleaved: each round times every entry once (the best of 3 calls), numpy's
1024^3 matmul included, and an entry's number is its median over the rounds, so all of them
saw the same machine load (the load average before and after is printed). --tf adds
TensorFlow's own Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter ops (eager, float32) to
the rounds.
"""
import argparse
import os
import statistics
import time

import numpy as np

from minigrad.kernels import conv, pool

# (name, x shape, filter shape, padding)
LAYERS = [("mnist_cnn conv1", (100, 28, 28, 1), (5, 5, 1, 8), "SAME"),
          ("mnist_cnn conv2", (100, 14, 14, 8), (5, 5, 8, 16), "SAME"),
          ("text_cnn conv h2", (64, 36, 128, 1), (2, 128, 1, 128), "VALID"),
          ("text_cnn conv h3", (64, 36, 128, 1), (3, 128, 1, 128), "VALID"),
          ("text_cnn conv h4", (64, 36, 128, 1), (4, 128, 1, 128), "VALID")]
KERNELS = ("fwd", "bwd_input", "bwd_filter", "step")


def geometry(xs, ws, padding):
    """(output (oh, ow), pads) for stride 1."""
    out, pads = [], []
    for a in (0, 1):
        o, before, after = conv.conv_output_size(xs[1 + a], ws[a], 1, 1, padding)
        out.append(o)
        pads.append((before, after))
    return tuple(out), tuple(pads)


def layer_flops(xs, ws, padding):
    (oh, ow), _ = geometry(xs, ws, padding)
    return 2 * xs[0] * oh * ow * int(np.prod(ws))


def kernel_calls(xs, ws, padding, dtype, method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    out, pads = geometry(xs, ws, padding)
    args = ((1, 1), (1, 1), pads)
    m = None if method == "auto" else method
    gy = rng.standard_normal((xs[0],) + out + ws[3:]).astype(dtype)
    fwd = lambda: conv.conv2d_forward(x, w, *args, method=m)                 # noqa: E731
    bwd_in = lambda: conv.conv2d_backward_input(gy, w, xs, *args, method=m)  # noqa: E731
    bwd_f = lambda: conv.conv2d_backward_filter(x, gy, ws, *args, method=m)  # noqa: E731

    def step():       # as the op runs it: the forward's patches go to backward_filter
        _, patches = fwd()
        bwd_in()
        conv.conv2d_backward_filter(x, gy, ws, *args, patches=patches)
    return {"fwd": fwd, "bwd_input": bwd_in, "bwd_filter": bwd_f, "step": step}


def tf_calls(tf, xs, ws, padding):
    rng = np.random.default_rng(0)
    out, _ = geometry(xs, ws, padding)
    x = tf.constant(rng.standard_normal(xs).astype(np.float32))
    w = tf.constant(rng.standard_normal(ws).astype(np.float32))
    gy = tf.constant(rng.standard_normal((xs[0],) + out + ws[3:]).astype(np.float32))
    s = [1, 1, 1, 1]
    fwd = lambda: tf.raw_ops.Conv2D(input=x, filter=w, strides=s, padding=padding)  # noqa
    bwd_in = lambda: tf.raw_ops.Conv2DBackpropInput(                              # noqa: E731
        input_sizes=xs, filter=w, out_backprop=gy, strides=s, padding=padding)
    bwd_f = lambda: tf.raw_ops.Conv2DBackpropFilter(                              # noqa: E731
        input=x, filter_sizes=ws, out_backprop=gy, strides=s, padding=padding)
    return {"fwd": fwd, "bwd_input": bwd_in, "bwd_filter": bwd_f,
            "step": lambda: (fwd(), bwd_in(), bwd_f())}


def best_of(fn, calls=3):
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def interleaved(entries, rounds):
    """{key: median seconds over the rounds}; each round times every entry once, in order."""
    for fn in entries.values():
        fn()                                    # compile, fill caches
    times = {key: [] for key in entries}
    for _ in range(rounds):
        for key, fn in entries.items():
            times[key].append(best_of(fn))
    return {key: statistics.median(v) for key, v in times.items()}


def methods(xs, ws, dtype):
    """"auto", and each method auto uses somewhere beside it forced for every kernel."""
    used = {conv.choose_method(xs, ws, dtype=dtype),
            conv.choose_method(xs, ws, "backward_input", dtype)}
    return ("auto",) + (("im2col", "direct") if "direct" in used else ())


def measure(dtype, rounds, tf=None):
    """Median seconds of every (layer, method, kernel), TF's (float32) and numpy's matmul."""
    a, b = (np.random.default_rng(1).random((1024, 1024)).astype(dtype) for _ in range(2))
    entries = {("matmul",): lambda: a @ b}
    for name, xs, ws, padding in LAYERS:
        for method in methods(xs, ws, dtype):
            for k, fn in kernel_calls(xs, ws, padding, dtype, method).items():
                entries[(name, method, k)] = fn
        if tf is not None and dtype == np.float32:
            for k, fn in tf_calls(tf, xs, ws, padding).items():
                entries[(name, "tf", k)] = fn
    return interleaved(entries, rounds)


def report(dtype, med):
    ceiling = 2 * 1024 ** 3 / med[("matmul",)] / 1e9
    print(f"{np.dtype(dtype).name}: numpy 1024^3 matmul {ceiling:.1f} GFLOP/s (median)")
    total_f = total_t = 0.0
    for name, xs, ws, padding in LAYERS:
        flops = layer_flops(xs, ws, padding)
        method = conv.choose_method(xs, ws, dtype=dtype)
        if conv.choose_method(xs, ws, "backward_input", dtype) != method:
            method += " (backward_input: im2col)"
        print(f"  {name} {xs}*{ws} {padding}, auto = {method}:")
        for m in methods(xs, ws, dtype) + (("tf",) if (name, "tf", "step") in med else ()):
            t = {k: med[(name, m, k)] for k in KERNELS}
            rate = 3 * flops / t["step"] / 1e9
            ks = "  ".join(f"{k} {t[k] * 1e3:.3f}" for k in KERNELS)
            print(f"    {m:7s} {ks} ms; step {rate:.1f} GFLOP/s ({rate / ceiling:.0%} of matmul)")
        total_f += 3 * flops
        total_t += med[(name, "auto", "step")]
    rate = total_f / total_t / 1e9
    print(f"  all layers, auto: {total_t * 1e3:.2f} ms, {rate:.1f} GFLOP/s "
          f"({rate / ceiling:.0%} of numpy's matmul)")


def pool_rows(dtype, rounds):
    rng = np.random.default_rng(0)
    entries = {}
    for shape in ((100, 28, 28, 8), (100, 14, 14, 16)):
        x = rng.standard_normal(shape).astype(dtype)
        geo = ((2, 2), (2, 2), ((0, 0), (0, 0)))
        y, am = pool.max_pool_forward(x, *geo)
        gy = rng.standard_normal(y.shape).astype(dtype)
        entries[(shape, "max fwd")] = lambda x=x: pool.max_pool_forward(x, *geo)
        entries[(shape, "max bwd")] = lambda gy=gy, am=am, s=shape: pool.max_pool_backward(
            gy, am, s)
        entries[(shape, "avg fwd")] = lambda x=x: pool.avg_pool_forward(x, *geo)
        entries[(shape, "avg bwd")] = lambda gy=gy, s=shape: pool.avg_pool_backward(gy, s, *geo)
    med = interleaved(entries, rounds)
    for shape in ((100, 28, 28, 8), (100, 14, 14, 16)):
        print(f"  pool 2x2/2 on {shape}: " + "  ".join(
            f"{k} {med[(shape, k)] * 1e3:.3f}" for k in ("max fwd", "max bwd", "avg fwd",
                                                           "avg bwd")) + " ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tf", action="store_true", help="time TensorFlow's conv ops beside")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    opts = ap.parse_args()
    tf = None
    if opts.tf:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
    dtypes = [np.float32, np.float64] if opts.dtype == "both" else [np.dtype(opts.dtype).type]
    for dtype in dtypes:
        load = os.getloadavg()[0]
        med = measure(dtype, opts.rounds, tf)
        report(dtype, med)
        pool_rows(dtype, opts.rounds)
        print(f"  (load average {load:.2f} before, {os.getloadavg()[0]:.2f} after, "
              f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
