"""Training utilities: callbacks and attribution-target generation."""

from keras_xai.training.explanation_logger import ExplanationLogger

__all__ = ["ExplanationLogger"]
