"""Classifiers a shortcut benchmark trains: Ross et al.'s MLP and the
library's convolutional classifiers."""

import keras

from keras_xai.applications.image_classifier import ImageClassifier

SHORTCUT_ARCHITECTURES = ("mlp", "lenet5", "vgg_small")


def ross_mlp(image_shape=(28, 28, 1), num_classes=10, hidden_units=(50, 30)):
    """Ross et al.'s Decoy-MNIST multilayer perceptron as a Keras model.

    Flatten, Dense ReLU layers of `hidden_units` (50 and 30 in Ross et al.'s
    `MultilayerPerceptron`), a Dense layer `"logits"` and a softmax
    `"predictions"`, so explanation-guided models find its logits.

    Args:
        image_shape: tuple `(H, W, C)`. Defaults to `(28, 28, 1)`.
        num_classes: int >= 2. Defaults to 10.
        hidden_units: tuple of ints. Defaults to `(50, 30)`.

    Returns:
        A functional `keras.Model` from images to probabilities.
    """
    inputs = keras.Input(shape=tuple(image_shape), name="images")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units):
        x = keras.layers.Dense(int(units), activation="relu", name=f"fc{index + 1}")(x)
    logits = keras.layers.Dense(int(num_classes), name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="predictions", dtype="float32")(
        logits
    )
    return keras.Model(inputs, outputs, name="ross_mlp")


def shortcut_classifier(architecture, image_shape, num_classes):
    """A fresh classifier of `architecture` (one of `SHORTCUT_ARCHITECTURES`).

    Args:
        architecture: str. `"mlp"` (`ross_mlp`), `"lenet5"` or `"vgg_small"`
            (`keras_xai.applications.ImageClassifier`).
        image_shape: tuple `(H, W, C)`.
        num_classes: int.

    Returns:
        A functional `keras.Model` ending in a softmax.
    """
    if architecture not in SHORTCUT_ARCHITECTURES:
        raise ValueError(
            f"`architecture` must be one of {SHORTCUT_ARCHITECTURES}. "
            f"Received: architecture={architecture!r}"
        )
    if architecture == "mlp":
        return ross_mlp(image_shape, num_classes)
    return ImageClassifier(architecture, image_shape, num_classes)
