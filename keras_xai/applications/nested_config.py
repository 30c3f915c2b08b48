"""Deserialising the classifier nested in a model's config."""

import copy

import keras


def deserialize_classifier(config):
    """`config` with its `"classifier"` entry deserialised to a model.

    Models built around a classifier (`IMPACTX`, `ABN`,
    `ExplanationEnsemble`, `ExplanationGuidedClassifier`) serialise it in
    `get_config`; their `from_config` is `cls(**deserialize_classifier(c))`.
    The nested config is copied first: deserialising a functional model
    consumes its dict.

    Args:
        config: dict. A model config with a `"classifier"` entry.

    Returns:
        A new dict.
    """
    config = dict(config)
    if isinstance(config.get("classifier"), dict):
        config["classifier"] = keras.saving.deserialize_keras_object(
            copy.deepcopy(config["classifier"])
        )
    return config
