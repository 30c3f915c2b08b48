"""Training utilities: callbacks and attribution-target generation."""

from keras_xai.training.attribution_targets import (
    compute_attribution_targets,
    load_attribution_targets,
    scale_maps,
)
from keras_xai.training.explanation_logger import ExplanationLogger
from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.target_refresh import TargetRefresh

__all__ = [
    "ExplanationLogger",
    "ExplanationTargetsDataset",
    "TargetRefresh",
    "compute_attribution_targets",
    "load_attribution_targets",
    "scale_maps",
]
