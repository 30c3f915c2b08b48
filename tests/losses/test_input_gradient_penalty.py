import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.losses.input_gradient_penalty import (
    InputGradientPenalty,
    input_gradient_penalty,
    log_probability_input_gradients,
)


def _linear_problem(batch=3, side=4, channels=2, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, side, side, channels)).astype("float32")
    w = rng.normal(size=(side * side * channels, classes)).astype("float32")
    masks = (rng.random((batch, side, side)) > 0.5).astype("float32")
    return x, w, masks


@pytest.mark.multi_backend
def test_gradients_and_penalty_match_closed_form():
    x, w, masks = _linear_problem()
    w_tensor = ops.convert_to_tensor(w)

    def logits(t):
        return ops.matmul(ops.reshape(t, (-1, w.shape[0])), w_tensor)

    log_probs, gradients = log_probability_input_gradients(logits, x)
    z = x.reshape(len(x), -1).astype("float64") @ w
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    classes = w.shape[1]
    # d/dx Σ_k log p_k = Σ_k W_k − K Σ_k p_k W_k.
    expected = (w.sum(1)[None] - classes * p @ w.T).reshape(x.shape)
    np.testing.assert_allclose(ops.convert_to_numpy(log_probs), np.log(p), rtol=1e-4)
    np.testing.assert_allclose(
        ops.convert_to_numpy(gradients), expected, rtol=1e-4, atol=1e-5
    )

    penalty = ops.convert_to_numpy(input_gradient_penalty(gradients, masks, weight=3.0))
    outside = (1 - masks)[..., None]
    np.testing.assert_allclose(
        penalty, 3.0 * ((outside * expected) ** 2).sum(axis=(1, 2, 3)), rtol=1e-4
    )
    loss = InputGradientPenalty(weight=3.0)(masks, gradients)
    np.testing.assert_allclose(float(loss), penalty.mean(), rtol=1e-5)


def test_full_mask_gives_zero_and_bad_input():
    gradients = np.random.default_rng(1).normal(size=(2, 5, 5, 3)).astype("float32")
    full = np.ones((2, 5, 5), "float32")
    np.testing.assert_array_equal(
        ops.convert_to_numpy(input_gradient_penalty(gradients, full)), 0.0
    )
    with pytest.raises(ValueError, match="`masks` must be one"):
        input_gradient_penalty(gradients, np.ones((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="`weight` must be a finite number >= 0"):
        input_gradient_penalty(gradients, full, weight=-1.0)


def test_config_round_trip():
    loss = InputGradientPenalty(weight=7.0)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert isinstance(restored, InputGradientPenalty)
    assert restored.get_config() == loss.get_config()
