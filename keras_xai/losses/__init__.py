"""Explanation losses: terms that train a classifier's explanations."""

from keras_xai.losses.gradcam_guidance import (
    gradcam_mask_fit,
    gradcam_region_penalty,
    normalized_cams,
)
from keras_xai.losses.input_gradient_penalty import (
    InputGradientPenalty,
    input_gradient_penalty,
    log_probability_input_gradients,
)
from keras_xai.losses.segment_overlap_loss import (
    SegmentOverlapLoss,
    auto_blur_kernel_size,
    gaussian_blur,
    gaussian_kernel,
    segment_overlap_loss,
    softmax_pool,
)

__all__ = [
    "InputGradientPenalty",
    "SegmentOverlapLoss",
    "auto_blur_kernel_size",
    "gaussian_blur",
    "gaussian_kernel",
    "gradcam_mask_fit",
    "gradcam_region_penalty",
    "input_gradient_penalty",
    "log_probability_input_gradients",
    "normalized_cams",
    "segment_overlap_loss",
    "softmax_pool",
]
