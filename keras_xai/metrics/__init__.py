"""Metrics for explanations: plain functions over arrays.

Every score function declares which direction is better
(`focus.score_direction == HIGHER`), so tables and plots never guess.
Inputs may be numpy arrays or backend tensors; everything is computed in
numpy, vectorised over the batch.
"""

from keras_xai.metrics.direction import (
    HIGHER,
    LOWER,
    declare_direction,
    direction_label,
    score_direction,
)
from keras_xai.metrics.focus import focus, focus_evaluation
from keras_xai.metrics.localization import (
    area_downsample,
    center_of_mass,
    center_of_mass_distance,
    iou,
    mean_iou,
    normalize_per_image,
    overlap_pixels,
    pearson_correlation,
    pointing_game,
)
from keras_xai.metrics.perturbation_curves import (
    aopc,
    lerf_curve,
    morf_curve,
    perturbation_curve,
)
from keras_xai.metrics.sanity import cascading_randomization, randomization_curve

__all__ = [
    "HIGHER",
    "LOWER",
    "aopc",
    "area_downsample",
    "cascading_randomization",
    "center_of_mass",
    "center_of_mass_distance",
    "declare_direction",
    "direction_label",
    "focus",
    "focus_evaluation",
    "iou",
    "lerf_curve",
    "mean_iou",
    "overlap_pixels",
    "morf_curve",
    "normalize_per_image",
    "pearson_correlation",
    "perturbation_curve",
    "pointing_game",
    "randomization_curve",
    "score_direction",
]
