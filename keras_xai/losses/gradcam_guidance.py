"""GradCAM guidance terms: a GradCAM penalty on an annotated region (RRR-G)
and a GradCAM fitted to an object mask.

Like `segment_overlap_loss.py`, this module imports only Keras and the
losses' own helpers, so models can use it inside `compute_loss`.
"""

from keras import ops

from keras_xai.losses.input_gradient_penalty import check_weight
from keras_xai.losses.segment_overlap_loss import resize_view_maps


def normalized_cams(cams, size, epsilon=1e-7):
    """CAMs `(B, h, w)` scaled to a per-image maximum of 1 and resized.

    Args:
        cams: float tensor `(B, h, w)`, non-negative (ReLU GradCAM).
        size: tuple `(H, W)`. Output size (bilinear).
        epsilon: float > 0. Added to each image's maximum, so an all-zero
            map stays zero (and finite).

    Returns:
        float32 tensor `(B, H, W)` with values in [0, 1]. Differentiable,
        through the maximum too.
    """
    cams = ops.cast(cams, "float32")
    scale = ops.max(ops.abs(cams), axis=(1, 2), keepdims=True) + epsilon
    return resize_view_maps((cams / scale)[None], size)[0]


def _check(cams, masks):
    masks = ops.cast(masks, "float32")
    if len(masks.shape) == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if len(cams.shape) != 3 or len(masks.shape) != 3 or cams.shape[0] != masks.shape[0]:
        raise ValueError(
            "`cams` must be (B, h, w) and `masks` (B, H, W) for the same "
            f"images. Received: cams.shape={tuple(cams.shape)}, "
            f"masks.shape={tuple(masks.shape)}"
        )
    return masks


def gradcam_region_penalty(cams, masks, weight=1.0, epsilon=1e-7):
    """Per-image `λ·Σ ((1 − mask)·ĉ)²`: GradCAM kept off the unannotated region.

    `ĉ` is the CAM scaled to a per-image maximum of 1 and resized to the
    mask (`normalized_cams`), so the term measures where the explanation
    peaks, not how large it is, and cannot be lowered by shrinking every
    activation. With `1 − mask` the irrelevant region (Ross et al.'s `A`),
    this is the GradCAM variant of the right-for-the-right-reasons penalty
    (RRR-G). A mask of all ones gives 0.

    Args:
        cams: float tensor `(B, h, w)`: ReLU GradCAMs of the guided class.
        masks: float tensor `(B, H, W)`: 1 where the explanation may lie.
        weight: float >= 0. `λ`. Defaults to 1.
        epsilon: float > 0. See `normalized_cams`. Defaults to 1e-7.

    Returns:
        float32 tensor `(B,)`.

    Reference:
        Schramowski et al., "Making deep neural networks right for the
        right scientific reasons by interacting with their explanations",
        Nature Machine Intelligence 2020 (RRR-G).
    """
    weight = check_weight(weight, "weight")
    masks = _check(cams, masks)
    maps = normalized_cams(cams, tuple(masks.shape[1:3]), epsilon)
    return weight * ops.sum(ops.square((1.0 - masks) * maps), axis=(1, 2))


def gradcam_mask_fit(cams, masks, epsilon=1e-7):
    """Per-image `mean (ĉ − mask)²`: GradCAM fitted to the object mask.

    `ĉ` as in `gradcam_region_penalty`. An alignment of the model's
    explanation with a human one in the spirit of HINT (Selvaraju et al.,
    ICCV 2019), which uses a ranking loss over segment importances instead
    of this squared error.

    Args:
        cams: float tensor `(B, h, w)`: ReLU GradCAMs of the guided class.
        masks: float tensor `(B, H, W)` in [0, 1]: the object.
        epsilon: float > 0. Defaults to 1e-7.

    Returns:
        float32 tensor `(B,)` in [0, 1].
    """
    masks = _check(cams, masks)
    maps = normalized_cams(cams, tuple(masks.shape[1:3]), epsilon)
    return ops.mean(ops.square(maps - masks), axis=(1, 2))
