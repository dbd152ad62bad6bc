"""Deck 002, lab 12: contrib's sequence_loss on four toy predictions of [1, 1, 1].

The deck prints 0.5967595, 0.5130153, 0.3711007 and 1.3132616: the more the prediction leans to
class 1, the lower the loss. Nothing trains: the one "step" evaluates the four losses."""
import types

from parity.lectures import Lecture, register
from parity.lectures._contrib import contrib_tf


@register
class SequenceLoss(Lecture):
    name = "seq_loss"
    deck = "002, lab 12: sequence_loss examples"
    title = "contrib.seq2seq.sequence_loss of four predictions of [1, 1, 1]"
    steps = 1
    loss = "sequence_loss"

    def build(self, tf, dtype, data):
        tf = contrib_tf(tf)     # TF 2 has no tf.contrib: a stand-in (parity/lectures/_contrib.py)
        f = getattr(tf, dtype)
        # [batch_size, sequence_length]
        y_data = tf.constant([[1, 1, 1]])
        # [batch_size, sequence_length, emb_dim]
        prediction = tf.constant([[[0.2, 0.7], [0.6, 0.2], [0.2, 0.9]]], dtype=f)
        prediction1 = tf.constant([[[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]]], dtype=f)
        prediction2 = tf.constant([[[0.1, 0.9], [0.1, 0.9], [0.1, 0.9]]], dtype=f)
        prediction3 = tf.constant([[[1, 0], [1, 0], [1, 0]]], dtype=f)
        # [batch_size, sequence_length]
        weights = tf.constant([[1, 1, 1]], dtype=f)

        sequence_loss = tf.contrib.seq2seq.sequence_loss(logits=prediction, targets=y_data,
                                                         weights=weights)
        sequence_loss1 = tf.contrib.seq2seq.sequence_loss(prediction1, y_data, weights)
        sequence_loss2 = tf.contrib.seq2seq.sequence_loss(prediction2, y_data, weights)
        sequence_loss3 = tf.contrib.seq2seq.sequence_loss(prediction3, y_data, weights)
        return types.SimpleNamespace(losses={
            "sequence_loss": sequence_loss, "sequence_loss1": sequence_loss1,
            "sequence_loss2": sequence_loss2, "sequence_loss3": sequence_loss3})

    def fetches(self, g):
        return dict(g.losses)

    def line(self, i, values):
        return (f"Loss:  {values['sequence_loss']!s}\n"
                f"Loss1:  {values['sequence_loss1']!s} Loss2:  {values['sequence_loss2']!s} "
                f"Loss3:  {values['sequence_loss3']!s}")

    def outputs(self, g, sess, data):
        return sess.run(g.losses)
