"""Sentence polarity (Pang & Lee 2005) for the CNN-for-text lecture, and its preprocessing.

    x_text, y = text.load_polarity()       # cleaned sentences, one-hot [n, 2] ([0, 1] = positive)
    vocab = text.Vocabulary().build(x_text)
    ids, mask = vocab.encode(x_text)        # padded to the longest sentence
    x_train, x_dev, y_train, y_dev = text.train_test_split(ids, y)
"""
import re

import numpy as np

from minigrad.data import DataError, find_file, resolve_data_dir

HOW_TO_GET = ("get rt-polarity.pos/.neg (saved as pos.txt/neg.txt) from "
              "https://www.cs.cornell.edu/people/pabo/movie-review-data/ (sentence polarity v1.0)"
              " or dennybritz/cnn-text-classification-tf data/rt-polaritydata/")

_CLEAN_RULES = [  # the lecture's clean_str, in its order
    (r"[^A-Za-z0-9(),!?\'\`]", " "), (r"\'s", " 's"), (r"\'ve", " 've"), (r"n\'t", " n't"),
    (r"\'re", " 're"), (r"\'d", " 'd"), (r"\'ll", " 'll"), (r",", " , "), (r"!", " ! "),
    (r"\(", " ( "), (r"\)", " ) "), (r"\?", " ? "), (r"\s{2,}", " "),
]
_CLEAN_RULES = [(re.compile(p), r) for p, r in _CLEAN_RULES]


def clean_str(s):
    """The lecture's ``clean_str``: keep letters, digits and ``(),!?'` ``, split clitics
    ('s 've n't 're 'd 'll) and ``, ! ( ) ?`` into tokens, squeeze spaces, lower-case.

    NOTE: the lecture's ``" \\( "`` replacements left a backslash in "\\(" "\\)" "\\?"; not here.
    """
    for pattern, repl in _CLEAN_RULES:
        s = pattern.sub(repl, s)
    return s.strip().lower()


def tokenize(s):
    """``clean_str(s).split()``."""
    return clean_str(s).split()


def _read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f]
    except UnicodeDecodeError as e:
        raise DataError(f"{path!r} is not UTF-8 ({e}); the original Latin-1 release decodes "
                        "as cp1252") from None


def load_polarity(data_dir=None, clean=True, one_hot=True, seed=0):
    """(sentences, labels): positives then negatives, as ``load_data_and_labels``.

    Reads ``rt-polarity/pos.txt`` and ``neg.txt`` (UTF-8, one sentence a line); labels are
    one-hot int64 ``[0, 1]`` positive / ``[1, 0]`` negative, or 1 / 0 with ``one_hot=False``.
    With no data directory, `synthetic_polarity` (``seed``).
    """
    data_dir = resolve_data_dir(data_dir)
    if data_dir is None:
        return synthetic_polarity(seed=seed, clean=clean, one_hot=one_hot)
    pos, neg = (_read_lines(find_file(data_dir, "rt-polarity", [n, "rt-polarity." + n[:3]],
                                      HOW_TO_GET)) for n in ("pos.txt", "neg.txt"))
    return _finish(pos, neg, clean, one_hot)


def _finish(pos, neg, clean, one_hot):
    x = [clean_str(s) if clean else s for s in pos + neg]
    y = np.array([1] * len(pos) + [0] * len(neg), np.int64)
    return x, (np.eye(2, dtype=np.int64)[y] if one_hot else y)


_POS = ("moving funny brilliant charming delightful gripping beautiful smart warm fresh "
        "touching clever superb engaging witty").split()
_NEG = ("dull boring tedious flat clumsy lifeless bland stale messy pointless awkward "
        "predictable shallow tiresome dreary").split()
_NEUTRAL = ("the film movie story director cast script plot acting its this a an is and "
            "of with as it's picture scenes characters performance").split()
_INTENS = "very really quite so often too".split()


def synthetic_polarity(n=2000, seed=0, clean=True, one_hot=True):
    """`n` generated review-like sentences (the first ``n // 2`` positive), deterministic in
    `seed`, returned as `load_polarity` does. Each has 6-20 neutral words and one to three
    sentiment words, mostly of its class; "not" before a word flips it, as in real reviews."""
    rng = np.random.default_rng(seed)
    # NOTE: word = lexicon[rng.integers(0, len(lexicon))] draws what rng.choice(lexicon) draws,
    # without choice's per-call conversion of the list (3x faster for n = 2000)
    pick = lambda words, size=None: words[rng.integers(0, len(words), size)]  # noqa: E731
    neutral, pos, neg, intens = (np.array(w, object) for w in (_NEUTRAL, _POS, _NEG, _INTENS))
    ends = np.array([" .", " !", " , really ."], object)
    sentences = [[], []]
    for k in range(n):
        label = 1 if k < n // 2 else 0
        words = list(pick(neutral, rng.integers(6, 21)))
        for _ in range(rng.integers(1, 4)):
            own = rng.random() < 0.85
            flip = rng.random() < 0.15
            lexicon = pos if (label == 1) == (own != flip) else neg
            phrase = (["not"] if flip else []) + (
                [pick(intens)] if rng.random() < 0.3 else []) + [pick(lexicon)]
            at = rng.integers(0, len(words) + 1)
            words[at:at] = phrase
        sentences[1 - label].append(" ".join(words) + pick(ends))
    return _finish(sentences[0], sentences[1], clean, one_hot)


class Vocabulary:
    """Token ids: ``<PAD>`` = 0, ``<START>`` = 1, ``<END>`` = 2, ``<UNK>`` = 3, then tokens in
    order of first appearance (as TF's VocabularyProcessor, which had only 0 = unknown)."""

    PAD, START, END, UNK = "<PAD>", "<START>", "<END>", "<UNK>"

    def __init__(self, min_frequency=0):
        self.min_frequency = min_frequency
        self.idx2token = [self.PAD, self.START, self.END, self.UNK]
        self.token2idx = {t: i for i, t in enumerate(self.idx2token)}

    def __len__(self):
        return len(self.idx2token)

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @staticmethod
    def _tokens(sentence):
        return tokenize(sentence) if isinstance(sentence, str) else list(sentence)

    def build(self, sentences):
        """Add every token of `sentences` (strings are `tokenize`d) seen more than
        `min_frequency` times; returns self."""
        counts = {}
        for s in sentences:
            for t in self._tokens(s):
                counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():  # dicts keep first-appearance order
            if c > self.min_frequency and t not in self.token2idx:
                self.token2idx[t] = len(self.idx2token)
                self.idx2token.append(t)
        return self

    def encode(self, sentences, max_len=None, add_start_end=False):
        """(ids int64 [n, L], mask float32 [n, L]): ids padded with ``<PAD>`` to the longest
        sentence, or cut/padded to `max_len`; mask 1 on real tokens, 0 on padding."""
        rows = [[self.token2idx.get(t, self.unk_id) for t in self._tokens(s)]
                for s in sentences]
        if add_start_end:
            rows = [[self.start_id] + r + [self.end_id] for r in rows]
        length = max_len if max_len is not None else max((len(r) for r in rows), default=0)
        ids = np.zeros((len(rows), length), np.int64)
        for i, r in enumerate(rows):
            r = r[:length]
            ids[i, :len(r)] = r
        lengths = np.array([min(len(r), length) for r in rows], np.int64)
        return ids, (np.arange(length) < lengths[:, None]).astype(np.float32)

    def decode(self, ids):
        """Token lists for rows of ids, padding dropped."""
        return [[self.idx2token[i] for i in row if i != self.pad_id] for row in np.asarray(ids)]


def train_test_split(x, y, test_fraction=0.1, seed=10):
    """(x_train, x_test, y_train, y_test) as the lecture: ``np.random.seed(10)``, permute, the
    last ``int(test_fraction * n)`` shuffled examples are the test set. Lists stay lists."""
    n = len(y)
    if len(x) != n:
        raise ValueError(f"{len(x)} inputs but {n} labels")
    perm = np.random.RandomState(seed).permutation(n)
    cut = n - int(test_fraction * n)

    def take(a, idx):
        return [a[i] for i in idx] if isinstance(a, list) else np.asarray(a)[idx]
    return take(x, perm[:cut]), take(x, perm[cut:]), take(y, perm[:cut]), take(y, perm[cut:])
