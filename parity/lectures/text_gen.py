"""Deck 003: character text generation on the Nietzsche corpus. Windows of 40 characters (a new
one every 3) and the character after each; one LSTM(128) reads a window one-hot, its last
output through a dense layer to the next character's logits; softmax cross-entropy,
AdamOptimizer(0.01), batches of 128 windows. Every 1000 iterations it writes 200 characters:
from a random window of the text, it draws the next character from the predicted distribution
sharpened or flattened by a temperature (numpy, as the deck samples), appends it and slides
the window.

Data: <data_dir>/nietzsche/nietzsche.txt, lower-cased; without a data directory, the embedded
Sonnet 18 (minigrad.data.chars.SONNET_18), lower-cased. Batch i is the i-th 128 windows in text
order, wrapping around (the deck shuffles its windows once; this order is fixed so that both
engines train alike). The samples draw from a numpy generator seeded by the lecture's `seed`.
"""
import types

import numpy as np

from minigrad.data import chars as char_data
from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf

maxlen = 40             # the windows' length
step = 3                # a new window every 3 characters
batch_size = 128
n_hidden = 128
learning_rate = 0.01
display_step = 1000     # 200 characters written every 1000 iterations
sample_length = 200


def sample(preds, temperature=1.0, rng=np.random):
    """An index drawn from the probabilities `preds`, reweighted by `temperature`."""
    preds = np.asarray(preds).astype('float64')
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = rng.multinomial(1, preds, 1)
    return np.argmax(probas)


def corpus(data_dir):
    """The lower-cased text: Nietzsche's under data_dir (a DataError names the file when it is
    missing), else the embedded sonnet."""
    if data_dir is None:
        return char_data.SONNET_18.lower()
    return char_data.load_text(data_dir, "nietzsche", lower=True)


@register
class TextGen(Lecture):
    name = "text_gen"
    deck = "003: text generation, Nietzsche"
    title = "char windows of 40 -> LSTM(128) -> next char, Adam(0.01); 200 sampled chars"
    needs = "nietzsche"
    steps = 10000
    loss = "cost"
    temperatures = (0.2, 0.5, 1.0, 1.2)
    seed = 0

    def __init__(self):
        self.rng = np.random.RandomState(self.seed)

    def data(self, data_dir, dtype):
        text = corpus(data_dir)
        chars = sorted(list(set(text)))
        char_indices = dict((c, i) for i, c in enumerate(chars))
        indices_char = dict((i, c) for i, c in enumerate(chars))

        # cut the text in semi-redundant sequences of maxlen characters
        sentences = []
        next_chars = []
        for i in range(0, len(text) - maxlen, step):
            sentences.append(text[i: i + maxlen])
            next_chars.append(text[i + maxlen])
        ids = np.array([char_indices[c] for c in text], np.int64)
        starts = np.arange(0, len(text) - maxlen, step)
        return types.SimpleNamespace(
            text=text, chars=chars, char_indices=char_indices, indices_char=indices_char,
            n_windows=len(sentences), x_ids=ids[starts[:, None] + np.arange(maxlen)],
            y_ids=ids[starts + maxlen], dtype=dtype)

    def vectorize(self, data, x_ids):
        """One-hot windows [n, maxlen, len(chars)] (the deck's x[i, t, char_indices[char]] = 1)."""
        return np.eye(len(data.chars), dtype=data.dtype)[x_ids]

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        n_chars = len(data.chars)
        X = tf.placeholder(f, [None, maxlen, n_chars])
        Y = tf.placeholder(f, [None, n_chars])

        cell = tf.contrib.rnn.BasicLSTMCell(n_hidden)
        outputs, states = tf.nn.dynamic_rnn(cell, X, dtype=f)
        logits = tf.layers.dense(outputs[:, -1], n_chars)
        prediction = tf.nn.softmax(logits)

        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
        optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)
        return types.SimpleNamespace(X=X, Y=Y, logits=logits, prediction=prediction, cost=cost,
                                     optimizer=optimizer)

    def batch(self, data, i):
        """Batch i: windows i*128 ... of the text, wrapping around."""
        idx = (i * batch_size + np.arange(batch_size)) % data.n_windows
        return data.x_ids[idx], data.y_ids[idx]

    def feed(self, g, data, i):
        x_ids, y_ids = self.batch(data, i)
        return {g.X: self.vectorize(data, x_ids),
                g.Y: np.eye(len(data.chars), dtype=data.dtype)[y_ids]}

    def fetches(self, g):
        return {"train": g.optimizer, "cost": g.cost}

    def generate(self, g, sess, data):
        """The deck's report: for each temperature, 200 characters from a random window."""
        lines = []
        start_index = self.rng.randint(0, len(data.text) - maxlen - 1)
        for diversity in self.temperatures:
            lines.append(f"----- diversity: {diversity}")
            sentence = data.text[start_index: start_index + maxlen]
            generated = ""
            lines.append(f'----- Generating with seed: "{sentence}"')
            for i in range(sample_length):
                x_pred = self.vectorize(data, [[data.char_indices[c] for c in sentence]])
                preds = sess.run(g.prediction, feed_dict={g.X: x_pred})[0]
                next_index = sample(preds, diversity, self.rng)
                next_char = data.indices_char[next_index]
                generated += next_char
                sentence = sentence[1:] + next_char
            lines.append(generated)
        return "\n".join(lines)

    def log(self, g, sess, data, i, values):
        if i % display_step:
            return None
        return f"iteration {i} loss: {values['cost']!s}\n" + self.generate(g, sess, data)

    def finish(self, g, sess, data):
        return {"generated": self.generate(g, sess, data)}

    def outputs(self, g, sess, data):
        x_ids, _ = self.batch(data, 0)
        return {"logits[:128]": sess.run(g.logits, {g.X: self.vectorize(data, x_ids)})}
