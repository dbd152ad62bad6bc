"""minigrad's benchmark suite: `python -m benchmarks` (see benchmarks/__main__.py).

    models.py   training step of each parity case, minigrad vs TensorFlow's modes and peers
    peers/      the PyTorch eager and JAX jit peers of every model
    micro.py    op dispatch, matmul, conv2d, max_pool, LSTM, softmax xent, optimizer updates
    startup.py  import time, first training step (cold / warm caches)
    profile.py  where an XOR step's time goes
    report.py   BENCHMARKS.md, the ratio chart, the targets of issue 14
    worker.py   the measuring subprocess; env.py its threads and the machine's description
"""
