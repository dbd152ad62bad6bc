"""Bad input gets a clear error naming the op and the shapes, never a wrong number."""
import numpy as np
import pytest

import minigrad as mg


def test_matmul_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        mg.matmul(mg.ones((2, 3)), mg.ones((4, 5)))


def test_matmul_rank_one():
    with pytest.raises(ValueError, match=r"matmul.*rank"):
        mg.matmul(mg.ones((3,)), mg.ones((3, 2)))


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        mg.ones((2, 3)) + mg.ones((4,))
    with pytest.raises(ValueError, match=r"multiply.*\(2, 3\).*\(2,\)"):
        mg.multiply(mg.ones((2, 3)), mg.ones((2,)))


def test_concat_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"concat.*\(2, 3\).*\(2, 4\)"):
        mg.concat([mg.ones((2, 3)), mg.ones((2, 4))], axis=0)


def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match=r"add.*float32.*float64"):
        mg.ones((2,)) + mg.ones((2,), dtype=mg.float64)


def test_gradient_through_integer_tensor_names_the_op():
    x = mg.Variable([1.5, 2.5])
    with mg.GradientTape() as tape:
        y = mg.cast(x * 2, mg.int32)
    with pytest.raises(TypeError, match=r"integer.*Cast"):
        tape.gradient(y, x)


def test_gradient_wrt_integer_source():
    x = mg.constant([1, 2])
    with mg.GradientTape() as tape:
        tape.watch(x)
        y = x * 2
    with pytest.raises(TypeError, match="integer"):
        tape.gradient(y, x)


def test_unknown_dtype():
    with pytest.raises(TypeError, match="dtype"):
        mg.constant([1.0], dtype="float99")
    with pytest.raises(TypeError, match="dtype"):
        mg.cast(mg.ones((2,)), "complex_thing")


def test_float_op_on_integers():
    with pytest.raises(TypeError, match="exp.*int32"):
        mg.exp(mg.constant([1, 2]))


def test_reshape_bad_size():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\[4, 2\]"):
        mg.reshape(mg.ones((2, 3)), [4, 2])


def test_sparse_xent_out_of_range_label():
    with pytest.raises(ValueError, match=r"label value of 5.*\[0, 3\)"):
        mg.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 5], logits=mg.ones((2, 3)))


def test_xent_shape_mismatch():
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_with_logits.*\(2, 3\).*\(2, 4\)"):
        mg.nn.softmax_cross_entropy_with_logits(labels=mg.ones((2, 3)), logits=mg.ones((2, 4)))


def test_gather_out_of_range():
    with pytest.raises(IndexError, match=r"gather.*index 7.*\(5, 2\)"):
        mg.gather(mg.ones((5, 2)), [0, 7])


def test_axis_out_of_range():
    with pytest.raises(ValueError, match="reduce_sum.*axis 3"):
        mg.reduce_sum(mg.ones((2, 3)), axis=3)


def test_optimizer_gradient_shape_mismatch():
    w = mg.Variable(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"GradientDescent.*\(3,\).*\(2, 2\)"):
        mg.train.GradientDescentOptimizer(0.1).apply_gradients([(np.ones(3, np.float32), w)])


def test_optimizer_all_gradients_none():
    w = mg.Variable(1.0)
    with pytest.raises(ValueError, match="no gradients"):
        mg.train.GradientDescentOptimizer(0.1).apply_gradients([(None, w)])


def test_float_value_into_int_tensor_refused():
    with pytest.raises(TypeError, match="add"):
        mg.constant([1, 2]) + 0.5
