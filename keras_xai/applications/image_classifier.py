"""`ImageClassifier`: a functional classifier with logits and a CAM split."""

import keras

from keras_xai.applications.backbones import (
    ARCHITECTURES,
    build_features,
    check_architecture,
)
from keras_xai.applications.hub_backbone import (
    hub_backbone_channels,
    import_keras_hub,
    is_hub_backbone,
    resolve_hub_backbone,
)
from keras_xai.layers.image_preprocessing import ImagePreprocessing
from keras_xai.models.model_split import model_split
from keras_xai.utils.validation import check_num_classes

_POOLINGS = ("flatten", "avg", "max")


@keras.saving.register_keras_serializable(package="keras_xai")
class ImageClassifier(keras.Model):
    """An image classifier that exposes its logits and feature maps.

    The model maps float32 channels-last images in `[0, 1]` to class
    probabilities. Its graph is flat: an `ImagePreprocessing` layer, the
    backbone's layers, a pooling layer, optional dense layers, a `Dense`
    layer named `"logits"` and an `Activation("softmax")` named
    `"predictions"` that explainers skip to read logits. `split()` gives the
    (feature map, logits) pair every CAM method and explanation loss needs.

    Args:
        architecture: str or a keras-hub backbone. One of `"lenet5"`,
            `"vgg_small"` (six 3x3 convolutions, for small images),
            `"mobilenet"`, `"efficientnet_b2"`, `"vgg16"`, `"resnet50"`; or
            a keras-hub image backbone with feature-pyramid outputs (e.g.
            `keras_hub.models.ResNetBackbone.from_preset("resnet_18_imagenet")`,
            needs `keras-xai[hub]`), called as one layer whose output is the
            feature map (the default CAM layer); its weights are its own,
            and images reach it in `[0, 1]` (add the backbone's own
            normalisation to the inputs if its weights expect one).
            Defaults to `"lenet5"`.
        image_shape: tuple. `(height, width, channels)` with 1 or 3 channels.
            Defaults to `(28, 28, 1)`.
        num_classes: int. Number of classes. Defaults to `10`.
        pooling: str or `None`. How the feature map becomes a vector:
            `"flatten"`, `"avg"` (global average; the model then accepts
            larger inputs such as 2x2 mosaics) or `"max"`. Defaults to
            `"flatten"` for LeNet-5 and `"avg"` otherwise.
        hidden_units: tuple of ints or `None`. Dense ReLU layers between
            pooling and logits. Defaults to `(120, 84)` for LeNet-5 and `()`
            otherwise.
        dropout: float. Dropout rate before the logits layer. Defaults to `0`.
        weights: `None`, `"imagenet"` or a path. Backbone weights; ImageNet
            weights load only from the local Keras cache (nothing is
            downloaded). Defaults to `None`.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    model = keras_xai.applications.ImageClassifier("lenet5", (28, 28, 1), 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    features, logits = model.split()(images)
    ```
    """

    def __init__(
        self,
        architecture="lenet5",
        image_shape=(28, 28, 1),
        num_classes=10,
        pooling=None,
        hidden_units=None,
        dropout=0.0,
        weights=None,
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        hub = None
        if is_hub_backbone(architecture):
            hub = resolve_hub_backbone(architecture, image_shape)
            if weights is not None:
                raise ValueError(
                    "A keras-hub backbone brings its own weights. Received: "
                    f"weights={weights!r}; use weights=None"
                )
        else:
            check_architecture(architecture, image_shape)
        check_num_classes(num_classes)
        is_lenet = architecture == "lenet5"
        pooling = pooling or ("flatten" if is_lenet else "avg")
        if pooling not in _POOLINGS:
            raise ValueError(
                f"`pooling` must be one of {_POOLINGS}. Received: pooling={pooling!r}"
            )
        if hidden_units is None:
            hidden_units = (120, 84) if is_lenet else ()
        hidden_units = tuple(int(u) for u in hidden_units)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(
                f"`dropout` must be in [0, 1). Received: dropout={dropout}"
            )
        if hub is None:
            mode, needs_rgb, _ = ARCHITECTURES[architecture]
            channels = 3 if needs_rgb else None
        else:
            mode, channels = "none", hub_backbone_channels(hub, image_shape)

        # === Layers and Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        x = ImagePreprocessing(
            mode=mode, output_channels=channels, name="preprocessing"
        )(inputs)
        if hub is None:
            x = build_features(architecture, x, image_shape, weights=weights)
        else:
            x = hub(x)
        if pooling == "flatten":
            x = keras.layers.Flatten(name="flatten")(x)
        elif pooling == "avg":
            x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
        else:
            x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
        for index, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation="relu", name=f"fc{index + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout")(x)
        logits = keras.layers.Dense(num_classes, name="logits")(x)
        outputs = keras.layers.Activation(
            "softmax", name="predictions", dtype="float32"
        )(logits)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        # A keras-hub backbone is named by its class and saved by its config.
        self.hub_backbone = hub
        self.architecture = (
            architecture if hub is None else f"keras_hub.{type(hub).__name__}"
        )
        self.image_shape = image_shape
        self.num_classes = num_classes
        self.pooling = pooling
        self.hidden_units = hidden_units
        self.dropout = float(dropout)
        # Weights were loaded into the layers; a reloaded model gets them
        # from its own file, so the config never asks for them again.
        self.weights_source = weights if hub is None else "keras_hub"

    def split(self, layer=None):
        """Returns the `ModelSplit` at `layer` (default: last 4-D output).

        Args:
            layer: str or `None`. Name of the layer whose output is the
                feature map. Defaults to `None` (the last 4-D output).

        Returns:
            A `keras_xai.applications.ModelSplit`.
        """
        return model_split(self, layer)

    def get_config(self):
        architecture = self.architecture
        if self.hub_backbone is not None:
            architecture = keras.saving.serialize_keras_object(self.hub_backbone)
        return {
            "architecture": architecture,
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "pooling": self.pooling,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            "weights": None,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_hub_preset(cls, preset, image_shape, num_classes, **kwargs):
        """A classifier on a keras-hub backbone preset.

        `keras_hub.models.Backbone.from_preset(preset)` — a Kaggle handle
        such as `"resnet_18_imagenet"` (downloaded once into keras-hub's
        cache on a machine with network) or a local preset directory (e.g.
        one written by `backbone.save_to_preset`) — becomes the classifier's
        feature extractor, with its pretrained weights.

        Args:
            preset: str. A keras-hub preset name, handle or directory.
            image_shape: tuple `(H, W, C)`.
            num_classes: int.
            **kwargs: the other `ImageClassifier` arguments (`pooling`,
                `hidden_units`, `dropout`, ...).

        Returns:
            An `ImageClassifier`.
        """
        if not isinstance(preset, str) or not preset:
            raise ValueError(
                "`preset` must be a keras-hub preset name or directory. "
                f"Received: preset={preset!r}"
            )
        keras_hub = import_keras_hub()
        backbone = keras_hub.models.Backbone.from_preset(preset)
        return cls(backbone, image_shape, num_classes, **kwargs)
