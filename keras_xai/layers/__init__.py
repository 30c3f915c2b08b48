"""Reusable Keras layers."""

from keras_xai.layers.attention_branch import AttentionBranch
from keras_xai.layers.explanation_decoder import ExplanationDecoder, decoder_plan
from keras_xai.layers.image_preprocessing import ImagePreprocessing

__all__ = [
    "AttentionBranch",
    "ExplanationDecoder",
    "ImagePreprocessing",
    "decoder_plan",
]
