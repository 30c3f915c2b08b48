"""Multitask learning: a class head and a named-attribute head."""

from keras_xai.applications.multitask.multitask_attribute_classifier import (
    AttributeExplanation,
    MultitaskAttributeClassifier,
)

__all__ = ["AttributeExplanation", "MultitaskAttributeClassifier"]
