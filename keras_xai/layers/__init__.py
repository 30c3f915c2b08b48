"""Reusable Keras layers."""

from keras_xai.layers.image_preprocessing import ImagePreprocessing

__all__ = ["ImagePreprocessing"]
