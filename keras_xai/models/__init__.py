"""Model plumbing every higher layer shares: a classifier split at its CAM
layer (feature map and logits views) and its image → class view.

This package sits directly above `keras_xai.backend` and `keras_xai.utils`;
explainers, losses, training and applications import it, never the reverse.
"""

from keras_xai.models.class_model import class_model, predict_outputs
from keras_xai.models.model_split import (
    ModelSplit,
    default_feature_layer,
    logits_model,
    logits_tensor,
    model_split,
)

__all__ = [
    "ModelSplit",
    "class_model",
    "default_feature_layer",
    "logits_model",
    "logits_tensor",
    "model_split",
    "predict_outputs",
]
