"""tf.reshape to a fully known shape of a tensor with an unknown dimension (the deck's stacked
char-RNN: `tf.reshape(outputs, [batch_size, sequence_length, num_classes])` of the fully
connected layer's [?, 25]): the graph builds, the static shape is the target shape, as in TF."""
import numpy as np

from minigrad.testing.tf1_compare import run_both


def windows_logits(tf, sync=None):
    batch_size, sequence_length, num_classes = 4, 10, 5
    X = tf.placeholder(tf.int32, [None, sequence_length])
    X_one_hot = tf.one_hot(X, num_classes)                       # [?, 10, 5]
    X_for_fc = tf.reshape(X_one_hot, [-1, num_classes])          # [?, 5]
    outputs = tf.reshape(X_for_fc * 2.0 + 1.0, [batch_size, sequence_length, num_classes])
    ids = np.arange(batch_size * sequence_length).reshape(batch_size, -1) % num_classes
    with tf.Session() as sess:
        sync(sess)
        value = sess.run(outputs, feed_dict={X: ids})
    return {"shapes": [X_for_fc.shape.as_list(), outputs.shape.as_list()], "value": value}


def test_reshape_to_a_known_shape_of_an_unknown_batch():
    want, got = run_both(windows_logits)
    assert want["shapes"] == got["shapes"] == [[None, 5], [4, 10, 5]]
    np.testing.assert_array_equal(got["value"], want["value"])
