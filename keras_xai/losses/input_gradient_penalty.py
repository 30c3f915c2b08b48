"""Ross et al.'s "right for the right reasons" input-gradient penalty.

This module imports only Keras and `keras_xai.backend` (see
`segment_overlap_loss.py` for why it must not import the applications).
"""

import keras
from keras import ops

from keras_xai.backend import value_and_grad
from keras_xai.utils.validation import check_number


def log_probability_input_gradients(logits_fn, images):
    """Log-probabilities and `∂ Σ_k log p_k / ∂x`, differentiable.

    The explanation Ross et al. constrain: the input gradient of the sum of
    the log-probabilities of all classes (not only the predicted one).
    Images must be independent of each other in `logits_fn` (call models
    with `training=False`, which also keeps JAX state updates out of the
    gradient), so one gradient call serves the whole batch.

    Args:
        logits_fn: callable mapping images `(B, H, W, C)` to logits `(B, K)`.
        images: tensor `(B, H, W, C)`.

    Returns:
        Tuple `(log_probabilities, gradients)`: float32 `(B, K)` and float32
        `(B, H, W, C)`. Gradients reach the weights of `logits_fn` (second
        order) on every backend.
    """

    def log_probabilities(x):
        return ops.log_softmax(ops.cast(logits_fn(x), "float32"), axis=-1)

    log_probs, gradients = value_and_grad(log_probabilities, images)
    return log_probs, ops.cast(gradients, "float32")


def input_gradient_penalty(gradients, masks, weight=1.0):
    """Per-image penalty `λ·Σ ((1 − mask)·∂ Σ_k log p_k / ∂x)²`.

    The sum runs over pixels and channels; `1 − mask` is Ross et al.'s
    annotation matrix `A` (1 where the input is irrelevant, i.e. outside
    the object). A mask that covers the whole image gives 0.

    Args:
        gradients: float tensor `(B, H, W, C)` (or `(B, H, W)`), e.g. from
            `log_probability_input_gradients`.
        masks: float tensor `(B, H, W)` or `(B, H, W, 1)`, object = 1.
        weight: float >= 0. `λ`. Defaults to 1.

    Returns:
        float32 tensor `(B,)`.

    Example:

    ```python
    _, g = log_probability_input_gradients(logits_model, images)
    loss = ops.mean(input_gradient_penalty(g, masks, weight=1000.0))
    ```

    Reference:
        Ross, Hughes and Doshi-Velez, "Right for the Right Reasons: Training
        Differentiable Models by Constraining their Explanations", IJCAI 2017.
    """
    weight = check_weight(weight, "weight")
    gradients = ops.cast(gradients, "float32")
    masks = ops.cast(masks, "float32")
    if len(masks.shape) == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if len(masks.shape) != 3 or tuple(masks.shape[1:3]) != tuple(gradients.shape[1:3]):
        raise ValueError(
            "`masks` must be one (H, W) mask per image matching the gradients' "
            f"(H, W) = {tuple(gradients.shape[1:3])}. Received: "
            f"masks.shape={tuple(masks.shape)}"
        )
    outside = 1.0 - masks
    if len(gradients.shape) == 4:
        outside = outside[..., None]
    axes = tuple(range(1, len(gradients.shape)))
    return weight * ops.sum(ops.square(outside * gradients), axis=axes)


def check_weight(value, name):
    """Returns `value` as a float, raising `ValueError` unless finite >= 0."""
    return check_number(value, name, low=0.0)


@keras.saving.register_keras_serializable(package="keras_xai")
class InputGradientPenalty(keras.losses.Loss):
    """Right-for-the-right-reasons penalty as a Keras loss.

    `y_true` holds object masks `(B, H, W)`, `y_pred` the input gradients
    `∂ Σ_k log p_k / ∂x` `(B, H, W, C)` (see
    `log_probability_input_gradients`); the loss is the batch mean of
    `input_gradient_penalty`. Within a classifier, use
    `ExplanationGuidedClassifier(..., guidance="rrr")`, which computes the
    gradients itself.

    Args:
        weight: float >= 0. `λ`. Defaults to 1.
        reduction, name, dtype: as for `keras.losses.Loss`, with `name`
            defaulting to `"input_gradient_penalty"`.

    Example:

    ```python
    _, g = log_probability_input_gradients(logits_model, images)
    value = InputGradientPenalty(weight=1000.0)(masks, g)
    ```

    Reference:
        Ross, Hughes and Doshi-Velez, "Right for the Right Reasons: Training
        Differentiable Models by Constraining their Explanations", IJCAI 2017.
    """

    def __init__(
        self,
        weight=1.0,
        reduction="sum_over_batch_size",
        name="input_gradient_penalty",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.weight = check_weight(weight, "weight")

    def call(self, y_true, y_pred):
        return input_gradient_penalty(y_pred, y_true, weight=self.weight)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}
