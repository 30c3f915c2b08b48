"""IMPACTX (Apicella et al.): model, presets and two-stage training."""

from keras_xai.applications.impactx.impactx import IMPACTX
from keras_xai.applications.impactx.impactx_presets import backbone_presets
from keras_xai.applications.impactx.impactx_trainer import (
    TrainingResult,
    fit_single_stage,
    fit_two_stage,
)

IMPACTX.presets = backbone_presets

__all__ = ["IMPACTX", "TrainingResult", "fit_single_stage", "fit_two_stage"]
