"""Class activation maps (CAM family)."""

from keras import ops

from keras_xai.applications.model_split import model_split
from keras_xai.backend import value_and_grad
from keras_xai.explainers.base import Explainer


def select_scores(logits, targets):
    """`logits[b, targets[b]]` for every image `b`."""
    targets = ops.cast(ops.reshape(targets, (-1, 1)), "int32")
    return ops.take_along_axis(logits, targets, axis=1)[:, 0]


def upsample_maps(maps, size):
    """Bilinearly resizes `(B, h, w)` maps to `size = (H, W)`."""
    if tuple(maps.shape[1:3]) == tuple(size):
        return maps
    resized = ops.image.resize(
        ops.expand_dims(maps, -1), size, interpolation="bilinear"
    )
    return resized[..., 0]


def feature_gradients(split, images, targets, training=False):
    """Feature map `A`, logits and `∂ y_t / ∂ A`, differentiable.

    Args:
        split: `keras_xai.applications.ModelSplit`.
        images: tensor `(B, H, W, C)`.
        targets: int tensor `(B,)` of class indices.
        training: bool. Passed to the feature extractor.

    Returns:
        Tuple `(features, logits, gradients)`; `gradients` shaped like
        `features`.
    """
    features = split.features_and_logits(images, training=training)[0]
    features = ops.cast(features, "float32")

    def target_scores(a):
        return ops.cast(
            select_scores(split.head(a, training=False), targets), "float32"
        )

    scores, gradients = value_and_grad(target_scores, features)
    return features, scores, gradients


def grad_cam(split, images, targets, training=False, upsample=True, relu=True):
    """Differentiable GradCAM: keras tensors in, keras tensors out.

    `α_k = mean_ij ∂y_t/∂A_ijk` and `map = ReLU(Σ_k α_k A_k)`. Gradients
    flow to the model's weights, so this can sit inside a loss.

    Args:
        split: `keras_xai.applications.ModelSplit` (feature map + head).
        images: tensor `(B, H, W, C)`.
        targets: int tensor `(B,)`.
        training: bool. Forwarded to the feature extractor. Defaults to
            `False`.
        upsample: bool. Resize to the input size. Defaults to `True`.
        relu: bool. Apply the ReLU (`False` keeps negative evidence).
            Defaults to `True`.

    Returns:
        float32 tensor `(B, H, W)` (or the feature map's size).

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks
        via Gradient-based Localization", ICCV 2017.
    """
    features, _, gradients = feature_gradients(split, images, targets, training)
    weights = ops.mean(gradients, axis=(1, 2), keepdims=True)
    maps = ops.sum(weights * features, axis=-1)
    if relu:
        maps = ops.relu(maps)
    if upsample:
        maps = upsample_maps(maps, tuple(images.shape[1:3]))
    return maps


class GradCAM(Explainer):
    """GradCAM at a convolutional layer (default: the last 4-D output).

    Args:
        model: `keras.Model`. A functional classifier.
        layer: str or `None`. Name of the layer whose output is explained.
            Defaults to `None` (the last layer with a 4-D output).
        **kwargs: `Explainer` options (`batch_size`, `compile`).

    Example:

    ```python
    maps = keras_xai.explainers.GradCAM(model)(images, targets=labels)
    ```

    Reference:
        Selvaraju et al., ICCV 2017.
    """

    def __init__(self, model, layer=None, **kwargs):
        super().__init__(model, **kwargs)
        self.split = model_split(model, layer)

    def explain_batch(self, images, targets):
        return grad_cam(self.split, images, targets)
