"""Reusable Keras layers."""

from keras_xai.layers.attention_branch import AttentionBranch
from keras_xai.layers.dihedral_views import (
    DIHEDRAL_VIEWS,
    DihedralViews,
    dihedral_transform,
    dihedral_views,
    inverse_dihedral_transform,
    inverse_dihedral_views,
)
from keras_xai.layers.explanation_decoder import ExplanationDecoder, decoder_plan
from keras_xai.layers.image_preprocessing import ImagePreprocessing

__all__ = [
    "AttentionBranch",
    "DIHEDRAL_VIEWS",
    "DihedralViews",
    "ExplanationDecoder",
    "ImagePreprocessing",
    "decoder_plan",
    "dihedral_transform",
    "dihedral_views",
    "inverse_dihedral_transform",
    "inverse_dihedral_views",
]
