"""The MNIST-rows Keras models (parity/cases/rnn_keras.py): keras.layers.LSTM(31) / GRU(31)
-> Dense 10, from the case's Keras weights; Keras's Adam (epsilon 1e-7)."""
from benchmarks.peers import register
from benchmarks.peers._cells import jax_keras_rnn, torch_keras_rnn
from benchmarks.peers.recurrent import JaxRows, TorchRows

KERAS_EPSILON = 1e-7
KERAS_NAMES = ("kernel", "recurrent_kernel", "bias")


def _keras_layer(case, weights):
    """The Keras layer's (kernel, recurrent_kernel, bias), named by its kind ("lstm/kernel")."""
    return [weights[f"{case.kind}/{n}"] for n in KERAS_NAMES]


@register("torch", "keras_lstm", "keras_gru")
class TorchKerasRNN(TorchRows):
    """nn.LSTM / nn.GRU with the Keras layer's weights (_cells.torch_keras_rnn: Keras LSTM's
    gate order is torch's; the GRU's z, r, h blocks go to torch's r, z, n, reset_after as
    torch computes), last output -> dense 10, F.cross_entropy, TorchAdam(epsilon=1e-7,
    form="keras")."""
    adam_form, epsilon = "keras", KERAS_EPSILON

    def _rnn(self, case, weights, dtype):
        return torch_keras_rnn(case.kind, *_keras_layer(case, weights), dtype)


@register("jax", "keras_lstm", "keras_gru")
class JaxKerasRNN(JaxRows):
    """The Keras layer as lax.scan over the rows (_cells.jax_keras_rnn), one jitted step with
    jax_adam(epsilon=1e-7, form="keras")."""
    adam_form, epsilon = "keras", KERAS_EPSILON

    def _rnn(self, case, weights):
        def run(p, x):
            return jax_keras_rnn(case.kind, *p, x)
        return _keras_layer(case, weights), run
