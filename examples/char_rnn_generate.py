"""Char-level text generation (char-rnn), in minigrad: learn a corpus, then write like it.

    windows of --seq-length characters, one-hot -> MultiRNNCell of BasicLSTMCell(--hidden-size)
    x --num-layers -> dynamic_rnn -> dense (logits per character) -> sequence_loss (the next
    character), AdamOptimizer(--learning-rate)

Then sampling: the network reads a prime string, and from then on each character is drawn from
softmax(logits / temperature) and fed back in, the LSTM state carried from one character to the
next. A low temperature (0.2) picks the likeliest characters, repetitive but well spelled; 1.0
samples the learned distribution itself; higher is wilder.

Corpora: tiny-shakespeare (<data-dir>/tinyshakespeare/input.txt, karpathy/char-rnn) or the
Nietzsche text of the Keras example (<data-dir>/nietzsche/nietzsche.txt, lower-cased as there).
With no data directory (and no $MINIGRAD_DATA_DIR) it learns the embedded Sonnet 18.

    python examples/char_rnn_generate.py                              # Sonnet 18, 500 steps
    python examples/char_rnn_generate.py --data-dir ../shared/data --corpus nietzsche \\
        --steps 3000 --temperature 0.2 0.5 1.0 1.2
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                                             # noqa: E402
from minigrad.data import DataError, chars, resolve_data_dir     # noqa: E402
from _common import log, progress  # noqa: E402  (examples/_common.py)

CORPORA = {"shakespeare": "tinyshakespeare", "nietzsche": "nietzsche"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None,
                   help="a directory holding tinyshakespeare/ or nietzsche/ (default: "
                        "$MINIGRAD_DATA_DIR, else the embedded Sonnet 18)")
    p.add_argument("--corpus", choices=sorted(CORPORA), default="shakespeare")
    p.add_argument("--steps", type=int, default=500, help="training steps (500)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-length", type=int, default=40)
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--temperature", type=float, nargs="+", default=[0.2, 0.5, 1.0, 1.5],
                   help="sampling temperatures, one sample each (0.2 0.5 1.0 1.5)")
    p.add_argument("--sample-length", type=int, default=300)
    p.add_argument("--prime", default=None, help="text to start from (default: the corpus's "
                                                   "first line)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--print-every", type=int, default=100)
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return p.parse_args(argv)


def load_corpus(data_dir, corpus):
    """(text, where it came from); DataError naming the missing file if data_dir lacks it."""
    where = resolve_data_dir(data_dir)
    name = CORPORA[corpus]
    text = chars.load_text(where, name=name, lower=corpus == "nietzsche")
    return text, (f"{name} from {where}" if where else "the embedded Sonnet 18")


class CharModel:
    """LSTM layers and a dense layer of logits over the vocabulary."""

    def __init__(self, vocab_size, hidden_size, num_layers):
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        cells = [mg.nn.rnn_cell.BasicLSTMCell(hidden_size) for _ in range(num_layers)]
        self.cell = mg.nn.rnn_cell.MultiRNNCell(cells, state_is_tuple=True)

    def logits(self, ids, initial_state=None):
        """ids [batch, time] -> (logits [batch, time, vocab], final state)."""
        batch, steps = ids.shape
        x_one_hot = mg.one_hot(ids, self.vocab_size, dtype=mg.float32)
        outputs, state = mg.nn.dynamic_rnn(self.cell, x_one_hot, initial_state=initial_state,
                                           dtype=mg.float32)
        x_for_fc = mg.reshape(outputs, [-1, self.hidden_size])
        logits = mg.layers.dense(x_for_fc, self.vocab_size, name="softmax")
        return mg.reshape(logits, [batch, steps, self.vocab_size]), state

    def loss(self, x, y):
        logits, _ = self.logits(x)
        weights = mg.ones(y.shape, dtype=mg.float32)
        return mg.seq2seq.sequence_loss(logits=logits, targets=y, weights=weights)

    @property
    def variables(self):
        return self.cell.trainable_weights + mg.layers.dense_layers()["softmax"].trainable_weights


def random_windows(ids, batch_size, seq_length, rng):
    """x, y [batch, seq_length]: windows at random places, y one character ahead of x."""
    starts = rng.integers(0, len(ids) - seq_length - 1, size=batch_size)
    idx = starts[:, None] + np.arange(seq_length)[None, :]
    return ids[idx], ids[idx + 1]


def sample(model, vocab, prime, length, temperature, rng):
    """`prime`, then `length` characters drawn one at a time from softmax(logits / T)."""
    logits, state = model.logits(mg.constant(vocab.encode(prime)[None, :]))
    last = logits.numpy()[0, -1].astype(np.float64)
    out = []
    for _ in range(length):
        z = last / temperature
        p = np.exp(z - z.max())
        c = int(rng.choice(len(p), p=p / p.sum()))
        out.append(vocab.idx2char[c])
        logits, state = model.logits(mg.constant(np.array([[c]], np.int64)), state)
        last = logits.numpy()[0, -1].astype(np.float64)
    return prime + "".join(out)


def main(argv=None):
    args = parse_args(argv)
    text, source = load_corpus(args.data_dir, args.corpus)
    vocab = chars.CharVocab(text)
    ids = vocab.encode(text)
    if len(ids) < args.seq_length + 2:
        raise DataError(f"the corpus has {len(ids)} characters, fewer than --seq-length + 2")
    print(f"corpus: {source}, {len(text):,} characters, {len(vocab)} distinct")
    mg.random.set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharModel(len(vocab), args.hidden_size, args.num_layers)
    model.logits(mg.constant(ids[None, :2]))                   # creates the variables
    optimizer = mg.train.AdamOptimizer(learning_rate=args.learning_rate)
    variables = model.variables
    print(f"model: {args.num_layers} x BasicLSTMCell({args.hidden_size}) + dense({len(vocab)}), "
          f"{sum(v.numpy().size for v in variables):,} weights")

    t0, recent = time.perf_counter(), []
    for step in progress(range(args.steps), "training", args.no_progress):
        x, y = random_windows(ids, args.batch_size, args.seq_length, rng)
        x, y = mg.constant(x), mg.constant(y)
        recent.append(float(optimizer.minimize(lambda: model.loss(x, y), var_list=variables)))
        if step % args.print_every == 0 or step == args.steps - 1:
            log(f"step {step:5d}  loss {np.mean(recent):.4f}")
            recent = []
    seconds = time.perf_counter() - t0
    print(f"({args.steps} steps in {seconds:.1f} s)")

    prime = args.prime or text.splitlines()[0][:20] or text[:20]
    unknown = sorted(set(prime) - set(vocab.char2idx))
    if unknown:
        raise DataError(f"--prime has characters the corpus lacks: {unknown}")
    samples = {}
    for temperature in args.temperature:
        samples[temperature] = sample(model, vocab, prime, args.sample_length, temperature, rng)
        print(f"\n----- temperature {temperature:g} -----\n{samples[temperature]}")
    return samples


if __name__ == "__main__":
    try:
        main()
    except DataError as e:
        sys.exit(f"{os.path.basename(__file__)}: {e}")
