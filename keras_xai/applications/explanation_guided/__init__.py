"""Explanation-guided classifier (segment-overlap loss, right-for-the-right-
reasons penalty) and the paper's two-phase fine-tuning."""

from keras_xai.applications.explanation_guided.explanation_guided_classifier import (
    CAM_MODES,
    GUIDANCES,
    ExplanationGuidedClassifier,
)
from keras_xai.applications.explanation_guided.two_phase import (
    TwoPhaseHistory,
    backbone_layer_names,
    fit_two_phase,
)

__all__ = [
    "CAM_MODES",
    "GUIDANCES",
    "ExplanationGuidedClassifier",
    "TwoPhaseHistory",
    "backbone_layer_names",
    "fit_two_phase",
]
