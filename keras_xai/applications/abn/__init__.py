"""ABN (Fukui et al.): Attention Branch Network model and presets."""

from keras_xai.applications.abn.abn import ABN
from keras_xai.applications.abn.abn_presets import backbone_presets

ABN.presets = backbone_presets

__all__ = ["ABN"]
