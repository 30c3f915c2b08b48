"""Training utilities: callbacks and attribution-target generation."""

from keras_xai.training.attribution_targets import (
    compute_attribution_targets,
    load_attribution_targets,
    scale_maps,
)
from keras_xai.training.consistency_reweighting import (
    CAM_EXPLAINERS,
    ConsistencyResult,
    ConsistencyReweighting,
    ExplanationConsistency,
    consistency_weights,
    weights_from_differences,
)
from keras_xai.training.explanation_logger import ExplanationLogger
from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.focus_monitor import FocusMonitor, mosaic_copy
from keras_xai.training.hard_negative_mining import (
    HardNegativeMining,
    HardNegativeResult,
    PerSampleLoss,
    hard_negative_weights,
    loss_weights,
)
from keras_xai.training.psi import PSI_FUNCTIONS
from keras_xai.training.ray_targets import compute_attribution_targets_on_ray
from keras_xai.training.resumable_early_stopping import ResumableEarlyStopping
from keras_xai.training.reweighting import (
    REWEIGHTING_METHODS,
    ReweightingSetup,
    reweighting_setup,
)
from keras_xai.training.reweighting_callback import ReweightingCallback
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from keras_xai.training.target_refresh import TargetRefresh

__all__ = [
    "ResumableEarlyStopping",
    "CAM_EXPLAINERS",
    "ConsistencyResult",
    "ConsistencyReweighting",
    "ExplanationConsistency",
    "FocusMonitor",
    "HardNegativeMining",
    "HardNegativeResult",
    "PSI_FUNCTIONS",
    "PerSampleLoss",
    "REWEIGHTING_METHODS",
    "ReweightingCallback",
    "ReweightingSetup",
    "SampleWeightDataset",
    "consistency_weights",
    "mosaic_copy",
    "hard_negative_weights",
    "loss_weights",
    "reweighting_setup",
    "weights_from_differences",
    "ExplanationLogger",
    "ExplanationTargetsDataset",
    "TargetRefresh",
    "compute_attribution_targets",
    "compute_attribution_targets_on_ray",
    "load_attribution_targets",
    "scale_maps",
]
