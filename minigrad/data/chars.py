"""Character data for the char-RNN lectures (hunkim/DeepLearningZeroToAll lab 12, char-rnn).

    d = chars.hihello()               # x "hihell" -> y "ihello", d.x [1, 6], d.one_hot(d.x)
    d = chars.sentence_windows()      # the "if you want to build a ship" sentence: 170 windows
    vocab = chars.CharVocab(chars.load_text())
"""
import os
from dataclasses import dataclass

import numpy as np

from minigrad.data import DataError, find_file, resolve_data_dir

SHIP_SENTENCE = ("if you want to build a ship, don't drum up people together to "
                 "collect wood and don't assign them tasks and work, but rather "
                 "teach them to long for the endless immensity of the sea.")

# Sonnet 18 (public domain): the text `load_text` gives when there is no data directory.
SONNET_18 = """Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
"""

TEXTS = {  # name -> (folder, file, where to get it)
    "tinyshakespeare": ("tinyshakespeare", "input.txt", "karpathy/char-rnn "
                        "data/tinyshakespeare/input.txt"),
    "nietzsche": ("nietzsche", "nietzsche.txt", "https://s3.amazonaws.com/text-datasets/"
                  "nietzsche.txt (the Keras text-generation example)"),
}


class CharVocab:
    """Characters <-> ids, sorted so ids do not depend on Python's string hashing."""

    def __init__(self, text):
        self.idx2char = sorted(set(text))
        self.char2idx = {c: i for i, c in enumerate(self.idx2char)}

    def __len__(self):
        return len(self.idx2char)

    def encode(self, s):
        """int64 ids of the characters of `s`."""
        return np.array([self.char2idx[c] for c in s], np.int64)

    def decode(self, ids):
        return "".join(self.idx2char[i] for i in np.asarray(ids).reshape(-1))


@dataclass
class CharData:
    """Input ids `x` [batch, seq], target ids `y` (next characters) and the vocabulary."""
    x: np.ndarray
    y: np.ndarray
    idx2char: list

    @property
    def char2idx(self):
        return {c: i for i, c in enumerate(self.idx2char)}

    @property
    def num_classes(self):
        return len(self.idx2char)

    def one_hot(self, ids):
        """float32 one-hot rows of `ids` [..., num_classes]."""
        return np.eye(self.num_classes, dtype=np.float32)[np.asarray(ids)]


def hihello():
    """Lab 12-1 "hihello": idx2char ``['h', 'i', 'e', 'l', 'o']``, x "hihell", y "ihello"."""
    return CharData(np.array([[0, 1, 0, 2, 3, 3]], np.int64),
                    np.array([[1, 0, 2, 3, 3, 4]], np.int64), ["h", "i", "e", "l", "o"])


def char_sequence(sentence=" if you want you"):
    """Lab 12-2: one sequence, x = sentence[:-1], y = sentence[1:] as ids.

    NOTE: the lecture's ``list(set(sample))`` order changes from run to run; here it is sorted.
    """
    vocab = CharVocab(sentence)
    ids = vocab.encode(sentence)
    return CharData(ids[None, :-1].copy(), ids[None, 1:].copy(), vocab.idx2char)


def sentence_windows(sentence=SHIP_SENTENCE, seq_length=10):
    """Lab 12-4: every window ``x = s[i:i+L]``, ``y = s[i+1:i+L+1]`` for i < len(s) - L
    (170 windows of 10 for the ship sentence)."""
    vocab = CharVocab(sentence)
    ids = vocab.encode(sentence)
    n = len(ids) - seq_length
    idx = np.arange(max(n, 0))[:, None] + np.arange(seq_length)[None, :]
    return CharData(ids[idx], ids[idx + 1], vocab.idx2char)


def load_text(path=None, name="tinyshakespeare", lower=False):
    """A UTF-8 corpus: `path` (a file, or a data directory holding `name`'s folder), else the
    data directory's `name` ("tinyshakespeare" or "nietzsche"), else the embedded `SONNET_18`.
    ``lower=True`` lower-cases, as the Keras Nietzsche example."""
    if name not in TEXTS:
        raise ValueError(f"name must be one of {sorted(TEXTS)}, not {name!r}")
    folder, file, where = TEXTS[name]
    path = resolve_data_dir(None) if path is None else os.fspath(path)
    if path is None:
        text = SONNET_18
    else:
        if os.path.isdir(path):
            path = find_file(path, folder, [file], f"get it from {where}")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise DataError(f"missing text file {path!r}; get it from {where}") from None
        except UnicodeDecodeError as e:
            raise DataError(f"{path!r} is not UTF-8: {e}") from None
    return text.lower() if lower else text


def char_batches(ids, batch_size, seq_length):
    """char-rnn batches: `ids` cut into `batch_size` rows, then (x, y) blocks of
    `seq_length` columns with y shifted one character ahead; the ragged tail is dropped."""
    ids = np.asarray(ids)
    n_batches = (len(ids) - 1) // (batch_size * seq_length)
    if n_batches == 0:
        raise ValueError("text too short for one batch; lower batch_size or seq_length")
    keep = n_batches * batch_size * seq_length
    x = ids[:keep].reshape(batch_size, -1)
    y = ids[1:keep + 1].reshape(batch_size, -1)
    return [(x[:, i:i + seq_length], y[:, i:i + seq_length])
            for i in range(0, x.shape[1], seq_length)]
