"""Reusable Keras layers."""

from keras_xai.layers.explanation_decoder import ExplanationDecoder, decoder_plan
from keras_xai.layers.image_preprocessing import ImagePreprocessing

__all__ = ["ExplanationDecoder", "ImagePreprocessing", "decoder_plan"]
