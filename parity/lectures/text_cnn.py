"""Deck 000: a CNN for text classification on the movie-review polarity sentences.

    input_x [batch, seq] -> embedding W (uniform(-1, 1)) -> expand_dims -> [batch, seq, emb, 1]
    for each filter size 2, 3, 4 (name scope conv-maxpool-N): conv2d VALID [N, emb, 1, 128] +
    b (0.1), relu, max_pool over the whole sentence
    concat -> [batch, 384] -> dropout(keep_prob fed) -> scores = h W + b -> predictions
    loss = mean sparse softmax cross-entropy; AdamOptimizer(1e-3, beta1=0.5); batch 64

Data: <data_dir>/rt-polarity (5331 + 5331 sentences) when a data directory is given, else
minigrad.data.text.synthetic_polarity; clean_str tokens with <START>/<END>, <PAD> to the longest
sentence, a 90/10 split with seed 10; batch i of a fixed order (seeded permutations).
"""
import types

import numpy as np

from minigrad.data import text
from parity.lectures import Lecture, register


class TextData:
    """Token ids [n, seq] (int32), sparse labels (1 = positive), split 90/10, seeded batches."""

    def __init__(self, data_dir, batch_size=64, seed=0):
        sentences, labels = (text.load_polarity(data_dir, one_hot=False) if data_dir else
                             text.synthetic_polarity(seed=seed, one_hot=False))
        self.vocab = text.Vocabulary().build(sentences)
        ids, _ = self.vocab.encode(sentences, add_start_end=True)
        ids = ids.astype(np.int32)
        self.x, self.test_x, self.y, self.test_y = text.train_test_split(ids, labels.astype(
            np.int32), 0.1, seed=10)
        self.seq_len, self.batch_size = ids.shape[1], batch_size
        self._rng, self._order = np.random.RandomState(seed), np.zeros(0, np.int64)

    def batch(self, i):
        b = self.batch_size
        while len(self._order) < (i + 1) * b:
            self._order = np.concatenate([self._order, self._rng.permutation(len(self.x))])
        idx = self._order[i * b:(i + 1) * b]
        return self.x[idx], self.y[idx]


@register
class TextCnn(Lecture):
    name = "text_cnn"
    deck = "000: CNN for text classification"
    title = ("movie-review polarity: embedding 128, conv 2/3/4 x 128, max-over-time, dropout, "
             "dense 2, Adam(1e-3, beta1=0.5), batch 64")
    needs = "rt-polarity"
    steps = 100
    loss = "loss"
    evaluate_every = 100
    embedding_size = 128
    filter_sizes = (2, 3, 4)
    num_filters = 128
    dropout_keep_prob = 0.5             # fed while training; 1.0 for evaluation

    def data(self, data_dir, dtype):
        return TextData(data_dir)

    def build(self, tf, dtype, data):
        f = getattr(tf, dtype)
        sequence_length, num_classes, vocab_size = data.seq_len, 2, len(data.vocab)
        embedding_size, filter_sizes, num_filters = (self.embedding_size, self.filter_sizes,
                                                     self.num_filters)
        input_x = tf.placeholder(tf.int32, [None, sequence_length], name="input_x")
        input_y = tf.placeholder(tf.int32, [None], name="input_y")
        dropout_keep_prob = tf.placeholder(f, name="dropout_keep_prob")

        with tf.device("/cpu:0"), tf.name_scope("embedding"):
            W = tf.Variable(tf.random_uniform([vocab_size, embedding_size], -1.0, 1.0, dtype=f),
                            name="W")
            embedded_chars = tf.nn.embedding_lookup(W, input_x)
            embedded_chars_expanded = tf.expand_dims(embedded_chars, -1)

        pooled_outputs = []
        for filter_size in filter_sizes:
            with tf.name_scope("conv-maxpool-%s" % filter_size):
                filter_shape = [filter_size, embedding_size, 1, num_filters]
                W = tf.Variable(tf.truncated_normal(filter_shape, stddev=0.1, dtype=f), name="W")
                b = tf.Variable(tf.constant(0.1, shape=[num_filters], dtype=f), name="b")
                conv = tf.nn.conv2d(embedded_chars_expanded, W, strides=[1, 1, 1, 1],
                                    padding="VALID", name="conv")
                h = tf.nn.relu(tf.nn.bias_add(conv, b), name="relu")
                pooled = tf.nn.max_pool(h, ksize=[1, sequence_length - filter_size + 1, 1, 1],
                                        strides=[1, 1, 1, 1], padding="VALID", name="pool")
                pooled_outputs.append(pooled)

        num_filters_total = num_filters * len(filter_sizes)
        h_pool = tf.concat(pooled_outputs, 3)
        h_pool_flat = tf.reshape(h_pool, [-1, num_filters_total])

        with tf.name_scope("dropout"):
            h_drop = tf.nn.dropout(h_pool_flat, dropout_keep_prob)

        with tf.name_scope("output"):
            W = tf.get_variable("W", shape=[num_filters_total, num_classes], dtype=f,
                                initializer=tf.glorot_uniform_initializer())
            b = tf.Variable(tf.constant(0.1, shape=[num_classes], dtype=f), name="b")
            scores = tf.matmul(h_drop, W) + b
            predictions = tf.argmax(scores, 1, name="predictions")

        with tf.name_scope("loss"):
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=scores,
                                                                    labels=input_y)
            loss = tf.reduce_mean(losses)

        with tf.name_scope("accuracy"):
            correct_predictions = tf.equal(tf.cast(predictions, tf.int32), input_y)
            accuracy = tf.reduce_mean(tf.cast(correct_predictions, f), name="accuracy")

        train_op = tf.train.AdamOptimizer(1e-3, beta1=0.5).minimize(loss)
        return types.SimpleNamespace(input_x=input_x, input_y=input_y, keep=dropout_keep_prob,
                                     scores=scores, loss=loss, accuracy=accuracy,
                                     train_op=train_op)

    def feed(self, g, data, i):
        x_batch, y_batch = data.batch(i)
        return {g.input_x: x_batch, g.input_y: y_batch, g.keep: self.dropout_keep_prob}

    def fetches(self, g):
        return {"train_op": g.train_op, "loss": g.loss, "accuracy": g.accuracy}

    def _dev(self, g, sess, data):
        return sess.run([g.loss, g.accuracy], {g.input_x: data.test_x, g.input_y: data.test_y,
                                                g.keep: 1.0})

    def log(self, g, sess, data, i, values):
        line = f"step {i + 1}, loss {values['loss']:g}, acc {values['accuracy']:g}"
        if (i + 1) % self.evaluate_every == 0:
            loss, accuracy = self._dev(g, sess, data)
            line += f"\n\nEvaluation:\nstep {i + 1}, loss {loss:g}, acc {accuracy:g}\n"
        return line

    def finish(self, g, sess, data):
        loss, accuracy = self._dev(g, sess, data)
        return {"dev loss": float(loss), "dev accuracy": float(accuracy)}

    def outputs(self, g, sess, data):
        return {"scores": sess.run(g.scores, {g.input_x: data.test_x[:100], g.keep: 1.0})}
