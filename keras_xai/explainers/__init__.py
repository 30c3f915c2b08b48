"""Attribution methods: `Method(model, **options)(images, targets) -> maps`."""

from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import (
    AblationCAM,
    CAMExplainer,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    ScoreCAM,
    XGradCAM,
    grad_cam,
)

__all__ = [
    "AblationCAM",
    "CAMExplainer",
    "EigenCAM",
    "Explainer",
    "GradCAM",
    "GradCAMPlusPlus",
    "ScoreCAM",
    "XGradCAM",
    "grad_cam",
]
