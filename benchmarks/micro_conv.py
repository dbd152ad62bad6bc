"""Kernel-level timings of minigrad.kernels.conv / .pool on the MNIST CNNs' layers.

    python -m benchmarks.micro_conv [--tf] [--reps N]

For each layer: forward, backward_input, backward_filter alone, and "step" = forward then both
backwards on the same x (the training pattern: backward_filter reuses the forward's patches),
in ms and GFLOP/s, next to numpy's float32/float64 1024^3 matmul GFLOP/s in the same process.
--tf adds TensorFlow's own Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter / MaxPool ops
(eager, float32), timed interleaved with minigrad's so both see the same machine load.
Times are the best of N single calls: on a shared machine the minimum is the stable statistic.
"""
import argparse
import os
import time

import numpy as np

from minigrad.kernels import conv, pool

# (name, x shape, filter shape): the lecture CNN (5x5, 8 and 16 filters) and the micro suite's
LAYERS = [("cnn5x5 conv1", (100, 28, 28, 1), (5, 5, 1, 8)),
          ("cnn5x5 conv2", (100, 14, 14, 8), (5, 5, 8, 16)),
          ("cnn3x3 conv1", (100, 28, 28, 1), (3, 3, 1, 32)),
          ("cnn3x3 conv2", (100, 14, 14, 32), (3, 3, 32, 64))]
SAME = ((1, 1), (1, 1))


def best_ms(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def matmul_gflops(dtype, reps):
    a, b = (np.random.default_rng(0).random((1024, 1024)).astype(dtype) for _ in range(2))
    return 2 * 1024 ** 3 / best_ms(lambda: a @ b, reps) / 1e6


def _pads(xs, ws):
    return tuple(conv.conv_output_size(xs[1 + a], ws[a], 1, 1, "SAME")[1:] for a in (0, 1))


def kernel_calls(xs, ws, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    args = SAME + (_pads(xs, ws),)
    gy = rng.standard_normal(xs[:3] + ws[3:]).astype(dtype)
    fwd = lambda: conv.conv2d_forward(x, w, *args)                      # noqa: E731
    bwd_in = lambda: conv.conv2d_backward_input(gy, w, xs, *args)       # noqa: E731
    bwd_f = lambda: conv.conv2d_backward_filter(x, gy, ws, *args)       # noqa: E731

    def step():       # as the op runs it: the forward's patches go to backward_filter
        _, patches = fwd()
        bwd_in()
        conv.conv2d_backward_filter(x, gy, ws, *args, patches=patches)
    return {"fwd": fwd, "bwd_input": bwd_in, "bwd_filter": bwd_f, "step": step}


def tf_calls(tf, xs, ws):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal(xs).astype(np.float32))
    w = tf.constant(rng.standard_normal(ws).astype(np.float32))
    gy = tf.constant(rng.standard_normal(xs[:3] + ws[3:]).astype(np.float32))
    s = [1, 1, 1, 1]
    fwd = lambda: tf.raw_ops.Conv2D(input=x, filter=w, strides=s, padding="SAME")  # noqa: E731
    bwd_in = lambda: tf.raw_ops.Conv2DBackpropInput(                              # noqa: E731
        input_sizes=xs, filter=w, out_backprop=gy, strides=s, padding="SAME")
    bwd_f = lambda: tf.raw_ops.Conv2DBackpropFilter(                              # noqa: E731
        input=x, filter_sizes=ws, out_backprop=gy, strides=s, padding="SAME")
    return {"fwd": fwd, "bwd_input": bwd_in, "bwd_filter": bwd_f,
            "step": lambda: (fwd(), bwd_in(), bwd_f())}


def timed(calls, reps, other=None):
    """Best ms per entry; with `other`, the two sets alternate call by call."""
    mine, theirs = {}, {}
    for key, fn in calls.items():
        fn()
        if other is not None:
            other[key]()
        a = b = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            a = min(a, time.perf_counter() - t)
            if other is not None:
                t = time.perf_counter()
                other[key]()
                b = min(b, time.perf_counter() - t)
        mine[key], theirs[key] = a * 1e3, b * 1e3
    return mine, theirs


def pool_rows(dtype, reps):
    rng = np.random.default_rng(0)
    rows = []
    for shape in ((100, 28, 28, 8), (100, 14, 14, 16), (100, 28, 28, 32)):
        x = rng.standard_normal(shape).astype(dtype)
        geo = ((2, 2), (2, 2), ((0, 0), (0, 0)))
        y, am = pool.max_pool_forward(x, *geo)
        gy = rng.standard_normal(y.shape).astype(dtype)
        rows.append((shape, best_ms(lambda: pool.max_pool_forward(x, *geo), reps),
                     best_ms(lambda: pool.max_pool_backward(gy, am, shape), reps),
                     best_ms(lambda: pool.avg_pool_forward(x, *geo), reps),
                     best_ms(lambda: pool.avg_pool_backward(gy, shape, *geo), reps)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tf", action="store_true", help="time TensorFlow's conv ops beside")
    ap.add_argument("--reps", type=int, default=30)
    opts = ap.parse_args()
    tf = None
    if opts.tf:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
    for dtype in (np.float32, np.float64):
        ceiling = matmul_gflops(dtype, max(3, opts.reps // 5))
        print(f"{dtype.__name__}: numpy 1024^3 matmul {ceiling:.1f} GFLOP/s")
        for name, xs, ws in LAYERS:
            flops = 2 * np.prod(xs[:3]) * np.prod(ws)
            other = tf_calls(tf, xs, ws) if tf is not None and dtype == np.float32 else None
            mine, theirs = timed(kernel_calls(xs, ws, dtype), opts.reps, other)
            line = "  ".join(f"{k} {v:.3f}" for k, v in mine.items())
            rate = 3 * flops / mine["step"] / 1e6
            print(f"  {name} {xs}*{ws}: {line} ms; step {rate:.1f} GFLOP/s "
                  f"({rate / ceiling:.0%} of matmul)")
            if other is not None:
                print("      TF: " + "  ".join(f"{k} {v:.3f}" for k, v in theirs.items()) + " ms")
        for shape, *ts in pool_rows(dtype, opts.reps):
            print(f"  pool 2x2/2 on {shape}: max fwd {ts[0]:.3f} bwd {ts[1]:.3f}  "
                  f"avg fwd {ts[2]:.3f} bwd {ts[3]:.3f} ms")


if __name__ == "__main__":
    main()
