"""keras-hub image backbones as the feature extractor of an `ImageClassifier`.

keras-hub keeps Keras's pretrained vision models (ResNet-18/50,
EfficientNet, MobileNet, ...) as `keras_hub.models.Backbone`s with a
feature pyramid (`backbone.pyramid_outputs`). An `ImageClassifier` built on
one calls it as a single layer whose output is the last feature map, so the
CAM layer, the split for the guided models and the `.keras` round trip work
as for the built-in architectures. keras-hub is optional (`keras-xai[hub]`)
and imported only when such a model is built or loaded.
"""

import keras


def import_keras_hub():
    """`keras_hub`, or an ImportError naming the extra that installs it."""
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(
            "A keras-hub backbone needs keras-hub: pip install 'keras-xai[hub]'."
        ) from error
    return keras_hub


def is_hub_backbone(value):
    """Whether `value` is a keras-hub image backbone (or its saved config).

    Args:
        value: anything given as an `ImageClassifier` architecture.

    Returns:
        bool.
    """
    if isinstance(value, dict):
        return str(value.get("module", "")).startswith("keras_hub")
    return isinstance(value, keras.Model) and hasattr(value, "pyramid_outputs")


def resolve_hub_backbone(value, image_shape):
    """The backbone itself, from an instance or its serialized config.

    Args:
        value: a keras-hub `Backbone` with `pyramid_outputs`, or the dict
            `keras.saving.serialize_keras_object` made of one.
        image_shape: tuple `(H, W, C)` of the classifier's input.

    Returns:
        The backbone (a new one, randomly initialised, from a config).
    """
    if isinstance(value, dict):
        import_keras_hub()  # registers keras-hub's classes for deserializing
        value = keras.saving.deserialize_keras_object(value)
    if not (isinstance(value, keras.Model) and getattr(value, "pyramid_outputs", None)):
        raise ValueError(
            "`architecture` must be a built-in architecture name or a "
            "keras-hub image backbone with feature-pyramid outputs "
            f"(e.g. keras_hub.models.ResNetBackbone). Received: {value!r}"
        )
    if len(value.output.shape) != 4:
        raise ValueError(
            "The keras-hub backbone must output a 4-D feature map (B, h, w, C). "
            f"Received output shape {tuple(value.output.shape)}"
        )
    expected = tuple(value.input.shape[1:])
    channels = expected[-1]
    fits = all(
        want is None or want == got for want, got in zip(expected[:2], image_shape)
    ) and (channels in (None, image_shape[-1]) or (channels, image_shape[-1]) == (3, 1))
    if not fits:
        raise ValueError(
            f"`image_shape` {tuple(image_shape)} does not fit the keras-hub "
            f"backbone's input {expected} (grayscale images are repeated to "
            "3 channels; nothing else is converted)."
        )
    return value


def hub_backbone_channels(backbone, image_shape):
    """3 when grayscale images must be repeated for the backbone, else `None`.

    The `output_channels` of the classifier's `ImagePreprocessing`.
    """
    if backbone.input.shape[-1] == 3 and image_shape[-1] == 1:
        return 3
    return None
