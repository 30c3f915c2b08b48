"""Public models: the classifiers and the models trained with explanations."""

from keras_xai.applications.abn import ABN
from keras_xai.applications.backbones import ARCHITECTURES
from keras_xai.applications.ensemble import (
    EnsembleHistory,
    ExplanationEnsemble,
    member_indices,
)
from keras_xai.applications.explanation_guided import (
    ExplanationGuidedClassifier,
    fit_two_phase,
)
from keras_xai.applications.guided_model import GuidedModel
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.imagenet_weights import imagenet_weights_file
from keras_xai.applications.impactx import IMPACTX
from keras_xai.applications.multitask import (
    AttributeExplanation,
    MultitaskAttributeClassifier,
)
from keras_xai.models.class_model import class_model
from keras_xai.models.model_split import (
    ModelSplit,
    default_feature_layer,
    logits_tensor,
    model_split,
)

__all__ = [
    "ABN",
    "ARCHITECTURES",
    "AttributeExplanation",
    "EnsembleHistory",
    "ExplanationEnsemble",
    "ExplanationGuidedClassifier",
    "GuidedModel",
    "IMPACTX",
    "ImageClassifier",
    "ModelSplit",
    "MultitaskAttributeClassifier",
    "class_model",
    "fit_two_phase",
    "member_indices",
    "default_feature_layer",
    "imagenet_weights_file",
    "logits_tensor",
    "model_split",
]
