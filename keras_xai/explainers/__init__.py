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
from keras_xai.explainers.gradients import (
    GradientSHAP,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from keras_xai.explainers.guided_backprop import GuidedBackprop, GuidedGradCAM
from keras_xai.explainers.lime import LIME
from keras_xai.explainers.lrp import LRP
from keras_xai.explainers.occlusion import Occlusion
from keras_xai.explainers.partition_shap import PartitionSHAP

__all__ = [
    "AblationCAM",
    "CAMExplainer",
    "EigenCAM",
    "Explainer",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientSHAP",
    "GuidedBackprop",
    "GuidedGradCAM",
    "InputXGradient",
    "IntegratedGradients",
    "LIME",
    "LRP",
    "Occlusion",
    "PartitionSHAP",
    "Saliency",
    "ScoreCAM",
    "SmoothGrad",
    "XGradCAM",
    "grad_cam",
]
