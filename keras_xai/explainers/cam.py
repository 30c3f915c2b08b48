"""Class activation maps (CAM family)."""

from keras import ops

from keras_xai.backend import value_and_grad
from keras_xai.explainers.base import Explainer
from keras_xai.models.model_split import model_split
from keras_xai.utils.validation import check_positive_int

_EPSILON = 1e-7


def safe_divide(numerator, denominator, reference):
    """`numerator / denominator`, and 0 where the denominator is negligible.

    Negligible means `|denominator| <= 1e-7 · reference`, with `reference`
    the magnitude the denominator is built from (e.g. `Σ|A|` for `Σ A`):
    a threshold relative to the quantities' own scale, so activations or
    gradients that are merely small (a 64x64 map under global average
    pooling has gradients ~1e-4) are divided as the formula says, while a
    denominator that cancels to rounding noise, or is exactly 0, gives 0.
    Never a NaN or an infinity, for all-zero activations included.

    Args:
        numerator: tensor.
        denominator: tensor broadcastable against `numerator`.
        reference: non-negative tensor broadcastable against `denominator`.

    Returns:
        The guarded quotient.
    """
    nonzero = ops.abs(denominator) > _EPSILON * reference
    return ops.where(nonzero, numerator / ops.where(nonzero, denominator, 1.0), 0.0)


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


def head_gradients(split, features, targets):
    """Target scores of the head and `∂ y_t / ∂ A`, differentiable.

    For callers that already hold the feature map `A` (e.g. from a forward
    pass whose logits they also need).

    Args:
        split: `keras_xai.applications.ModelSplit`.
        features: float32 tensor `(B, h, w, C)`: the split's feature map.
        targets: int tensor `(B,)` of class indices.

    Returns:
        Tuple `(scores, gradients)`: `(B,)` float32 target scores and the
        gradients, shaped like `features`.
    """

    def target_scores(a):
        return ops.cast(
            select_scores(split.head(a, training=False), targets), "float32"
        )

    return value_and_grad(target_scores, features)


def feature_gradients(split, images, targets, training=False):
    """Feature map `A`, target scores and `∂ y_t / ∂ A`, differentiable.

    Args:
        split: `keras_xai.applications.ModelSplit`.
        images: tensor `(B, H, W, C)`.
        targets: int tensor `(B,)` of class indices.
        training: bool. Passed to the feature extractor.

    Returns:
        Tuple `(features, scores, gradients)`; `gradients` shaped like
        `features`.
    """
    features = split.features_and_logits(images, training=training)[0]
    features = ops.cast(features, "float32")
    scores, gradients = head_gradients(split, features, targets)
    return features, scores, gradients


def grad_cam_of_features(split, features, targets, relu=True):
    """Differentiable GradCAM `(B, h, w)` of a feature map already computed.

    Args:
        split: `keras_xai.applications.ModelSplit`.
        features: float32 tensor `(B, h, w, C)`: the split's feature map.
        targets: int tensor `(B,)` of class indices.
        relu: bool. Apply the ReLU (`False` keeps negative evidence).
            Defaults to `True`.

    Returns:
        float32 tensor `(B, h, w)` at the feature map's resolution.
    """
    gradients = head_gradients(split, features, targets)[1]
    weights = ops.mean(gradients, axis=(1, 2), keepdims=True)
    maps = ops.sum(weights * features, axis=-1)
    return ops.relu(maps) if relu else maps


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
    features = split.features_and_logits(images, training=training)[0]
    maps = grad_cam_of_features(split, ops.cast(features, "float32"), targets, relu)
    if upsample:
        maps = upsample_maps(maps, tuple(images.shape[1:3]))
    return maps


def channel_variant_scores(channels, chunk, variants, score, targets):
    """Target scores of one input variant per channel, `chunk` at a time.

    Args:
        channels: int. Number of feature channels.
        chunk: int. Channels per call of `score`.
        variants: callable `(start, stop) -> (b, stop - start, ...)` inputs.
        score: callable mapping a flat `(n, ...)` batch to `(n, K)` scores.
        targets: int tensor `(b,)`.

    Returns:
        float32 tensor `(b, channels)`.
    """
    columns = []
    for start in range(0, channels, chunk):
        stop = min(start + chunk, channels)
        batch = variants(start, stop)
        flat = ops.reshape(batch, (-1, *batch.shape[2:]))
        values = select_scores(score(flat), ops.repeat(targets, stop - start))
        columns.append(ops.reshape(ops.cast(values, "float32"), (-1, stop - start)))
    return ops.concatenate(columns, axis=1)


class CAMExplainer(Explainer):
    """Base of the CAM family: a weighted sum of a layer's feature maps.

    Subclasses implement `feature_maps(images, targets)`, returning maps at
    the feature map's resolution before the ReLU; this class applies the
    ReLU and the bilinear upsampling to the input size.

    Args:
        model: `keras.Model`. A functional classifier.
        layer: str or `None`. Name of the layer whose output is explained.
            Defaults to `None` (the last layer with a 4-D output).
        upsample: bool. Resize maps to the input size; `False` keeps the
            feature map's resolution. Defaults to `True`.
        **kwargs: `Explainer` options (`batch_size`, `compile`).
    """

    def __init__(self, model, layer=None, upsample=True, **kwargs):
        super().__init__(model, **kwargs)
        self.split = model_split(model, layer)
        self.upsample = bool(upsample)

    def feature_maps(self, images, targets):
        """Maps `(b, h, w)` at the feature resolution, before the ReLU."""
        raise NotImplementedError

    def explain_batch(self, images, targets):
        maps = ops.relu(self.feature_maps(images, targets))
        if self.upsample:
            maps = upsample_maps(maps, tuple(images.shape[1:3]))
        return maps


class GradCAM(CAMExplainer):
    """GradCAM: channel weights are the spatial mean of the gradients.

    `α_k = mean_ij ∂y_t/∂A_ijk`, `map = ReLU(Σ_k α_k A_k)`. For use inside a
    loss, call the differentiable function `grad_cam` instead.

    Args:
        See `CAMExplainer`.

    Example:

    ```python
    maps = keras_xai.explainers.GradCAM(model)(images, targets=labels)
    ```

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks
        via Gradient-based Localization", ICCV 2017.
    """

    name = "gradcam"

    def feature_maps(self, images, targets):
        return grad_cam(self.split, images, targets, upsample=False, relu=False)


class GradCAMPlusPlus(CAMExplainer):
    """GradCAM++: pixel-wise weighted positive gradients.

    With `g = ∂y_t/∂A` (the exponential-score closed form of the paper),
    `a_ijk = g² / (2g² + Σ_ab A_abk g³)` and `α_k = Σ_ij a_ijk ReLU(g_ijk)`.
    Where `g ≠ 0` the ratio is exactly `1 / (2 + g·Σ_ab A_abk)`, computed
    in that form: it needs no threshold on `g`, so small gradients (e.g.
    `w / (H·W)` under global average pooling) keep their `a ≈ ½`. Where
    `g = 0` the term is 0 (`ReLU(g) = 0`).

    Args:
        See `CAMExplainer`.

    Example:

    ```python
    explainer = keras_xai.explainers.GradCAMPlusPlus(model, layer="conv2")
    maps = explainer(images, targets=labels)
    ```

    Reference:
        Chattopadhyay et al., "Grad-CAM++: Generalized Gradient-based Visual
        Explanations for Deep Convolutional Networks", WACV 2018.
    """

    name = "gradcam++"

    def feature_maps(self, images, targets):
        features, _, gradients = feature_gradients(self.split, images, targets)
        totals = ops.sum(features, axis=(1, 2), keepdims=True)
        # g²/(2g² + S·g³) = 1/(2 + S·g) for g ≠ 0: dimensionless, so an
        # absolute guard on it is scale-free (it only catches 2 + S·g ≈ 0,
        # possible where activations are signed).
        denominator = 2.0 + totals * gradients
        alpha = safe_divide(1.0, denominator, 1.0)
        alpha = ops.where(gradients != 0.0, alpha, 0.0)
        weights = ops.sum(alpha * ops.relu(gradients), axis=(1, 2), keepdims=True)
        return ops.sum(weights * features, axis=-1)


class XGradCAM(CAMExplainer):
    """XGradCAM: gradients weighted by the normalised activations.

    `α_k = Σ_ij (A_ijk / Σ_ab A_abk) ∂y_t/∂A_ijk`.

    Args:
        See `CAMExplainer`.

    Example:

    ```python
    maps = keras_xai.explainers.XGradCAM(model, upsample=False)(images)
    ```

    Reference:
        Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and
        Explanation of CNNs", BMVC 2020.
    """

    name = "xgradcam"

    def feature_maps(self, images, targets):
        features, _, gradients = feature_gradients(self.split, images, targets)
        totals = ops.sum(features, axis=(1, 2), keepdims=True)
        magnitudes = ops.sum(ops.abs(features), axis=(1, 2), keepdims=True)
        normalised = safe_divide(features, totals, magnitudes)
        weights = ops.sum(normalised * gradients, axis=(1, 2), keepdims=True)
        return ops.sum(weights * features, axis=-1)


class EigenCAM(CAMExplainer):
    """EigenCAM: projection on the first principal component of `A`.

    The `(h·w, K)` activations are centred over positions and projected on
    their first right singular vector; the sign is chosen so the map
    correlates positively with the channel-mean activation. Class-agnostic:
    `targets` do not change the map.

    Args:
        See `CAMExplainer`.

    Example:

    ```python
    maps = keras_xai.explainers.EigenCAM(model)(images)
    ```

    Reference:
        Muhammad and Yeasin, "Eigen-CAM: Class Activation Map using Principal
        Components", IJCNN 2020.
    """

    name = "eigencam"

    def feature_maps(self, images, targets):
        del targets
        features = ops.cast(self.split(images)[0], "float32")
        batch, height, width, channels = (ops.shape(features)[0], *features.shape[1:])
        flat = ops.reshape(features, (batch, height * width, channels))
        centred = flat - ops.mean(flat, axis=1, keepdims=True)
        _, _, vh = ops.svd(centred, full_matrices=False)
        projection = ops.einsum("bpk,bk->bp", centred, vh[:, 0, :])
        mean_activation = ops.mean(flat, axis=-1)
        agreement = ops.sum(
            projection
            * (mean_activation - ops.mean(mean_activation, 1, keepdims=True)),
            axis=1,
            keepdims=True,
        )
        projection = ops.where(agreement < 0, -projection, projection)
        return ops.reshape(projection, (batch, height, width))


class AblationCAM(CAMExplainer):
    """AblationCAM: channel weights from the score drop when it is zeroed.

    `α_k = (y_t − y_t^{A_k = 0}) / y_t`; all ablations of a batch run
    through the head in chunks of `channel_batch_size` channels.

    Args:
        channel_batch_size: int. Channels ablated per head call. Defaults
            to 64.
        model, layer, **kwargs: see `CAMExplainer`.

    Example:

    ```python
    maps = keras_xai.explainers.AblationCAM(model)(images)
    ```

    Reference:
        Desai and Ramaswamy, "Ablation-CAM: Visual Explanations for Deep
        Convolutional Network via Gradient-free Localization", WACV 2020.
    """

    name = "ablationcam"

    def __init__(self, model, layer=None, channel_batch_size=64, **kwargs):
        super().__init__(model, layer=layer, **kwargs)
        self.channel_batch_size = check_positive_int(
            channel_batch_size, "channel_batch_size"
        )

    def feature_maps(self, images, targets):
        features, logits = self.split(images)
        features = ops.cast(features, "float32")
        scores = ops.cast(select_scores(logits, targets), "float32")
        channels = features.shape[-1]

        def ablated(start, stop):
            # keep[c, k] = 0 where channel k is ablated in variant c.
            keep = 1.0 - ops.one_hot(ops.arange(start, stop), channels)
            return features[:, None] * keep[None, :, None, None, :]

        ablated_scores = channel_variant_scores(
            channels, self.channel_batch_size, ablated, self.split.head, targets
        )
        # (y − y_k) / y, and 0 where y is negligible next to the scores.
        reference = ops.maximum(
            ops.abs(scores), ops.max(ops.abs(ablated_scores), axis=-1)
        )
        weights = safe_divide(
            scores[:, None] - ablated_scores,
            scores[:, None],
            reference[:, None],
        )
        return ops.einsum("bhwk,bk->bhw", features, weights)


class ScoreCAM(CAMExplainer):
    """ScoreCAM: channel weights from the model's score on masked inputs.

    Each channel, upsampled to the input and min-max normalised to [0, 1],
    masks the image; its weight is the target-class probability of the
    masked image (as in the authors' implementation). Masked images run in
    chunks of `channel_batch_size` channels.

    Args:
        channel_batch_size: int. Channels per model call. Defaults to 32.
        model, layer, **kwargs: see `CAMExplainer`.

    Example:

    ```python
    maps = keras_xai.explainers.ScoreCAM(model, channel_batch_size=16)(images)
    ```

    Reference:
        Wang et al., "Score-CAM: Score-Weighted Visual Explanations for
        Convolutional Neural Networks", CVPR Workshops 2020.
    """

    name = "scorecam"

    def __init__(self, model, layer=None, channel_batch_size=32, **kwargs):
        super().__init__(model, layer=layer, **kwargs)
        self.channel_batch_size = check_positive_int(
            channel_batch_size, "channel_batch_size"
        )

    def feature_maps(self, images, targets):
        features = ops.cast(self.split(images)[0], "float32")
        size = tuple(images.shape[1:3])
        channels = features.shape[-1]

        def masked(start, stop):
            upsampled = ops.image.resize(features[..., start:stop], size, "bilinear")
            low = ops.min(upsampled, axis=(1, 2), keepdims=True)
            span = ops.max(upsampled, axis=(1, 2), keepdims=True) - low
            peak = ops.max(ops.abs(upsampled), axis=(1, 2), keepdims=True)
            masks = safe_divide(upsampled - low, span, peak)
            # (b, H, W, c) masks -> (b, c, H, W, C) masked images.
            return images[:, None] * ops.expand_dims(
                ops.transpose(masks, (0, 3, 1, 2)), -1
            )

        def probabilities(flat):
            return ops.softmax(ops.cast(self.logits(flat), "float32"), axis=-1)

        weights = channel_variant_scores(
            channels, self.channel_batch_size, masked, probabilities, targets
        )
        return ops.einsum("bhwk,bk->bhw", features, weights)
