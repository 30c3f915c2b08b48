"""Feature extractors for the classifier architectures keras_xai supports.

Each builder takes a Keras tensor of preprocessed images and returns the
last 4-D feature map, built in the caller's graph (no nested models), so
every intermediate layer stays reachable by name for CAM methods.
"""

import keras

from keras_xai.applications.imagenet_weights import resolve_weights

# architecture -> (ImagePreprocessing mode, needs 3 channels, minimum side)
ARCHITECTURES = {
    "lenet5": ("none", False, 20),
    "vgg_small": ("none", False, 8),
    "mobilenet": ("tf", True, 32),
    "efficientnet_b2": ("scale255", True, 32),
    "vgg16": ("caffe", True, 32),
    "resnet50": ("caffe", True, 32),
}

_KERAS_APPLICATIONS = {
    "mobilenet": keras.applications.MobileNet,
    "efficientnet_b2": keras.applications.EfficientNetB2,
    "vgg16": keras.applications.VGG16,
    "resnet50": keras.applications.ResNet50,
}


def check_architecture(architecture, image_shape):
    """Validates an architecture name against an input shape `(H, W, C)`."""
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"`architecture` must be one of {sorted(ARCHITECTURES)}. "
            f"Received: architecture={architecture!r}"
        )
    if len(image_shape) != 3 or any(
        not isinstance(d, int) or d < 1 for d in image_shape
    ):
        raise ValueError(
            "`image_shape` must be (height, width, channels) of positive ints. "
            f"Received: image_shape={image_shape!r}"
        )
    minimum = ARCHITECTURES[architecture][2]
    if min(image_shape[:2]) < minimum:
        raise ValueError(
            f"{architecture} needs images of at least {minimum}x{minimum}. "
            f"Received: image_shape={tuple(image_shape)}"
        )
    if image_shape[-1] not in (1, 3):
        raise ValueError(
            "`image_shape` must have 1 (grayscale) or 3 (RGB) channels. "
            f"Received: image_shape={tuple(image_shape)}"
        )


def lenet5_features(x):
    """LeNet-5 convolutional part: conv5x5x6, pool, conv5x5x16, pool (ReLU)."""
    x = keras.layers.Conv2D(6, 5, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(16, 5, activation="relu", name="conv2")(x)
    return keras.layers.MaxPooling2D(2, name="pool2")(x)


def vgg_small_features(x, widths=(16, 32, 64)):
    """A small VGG-style CNN for small images, deeper than LeNet-5.

    Three blocks of two 3x3 Conv2D + ReLU (16, 32, 64 filters, "same"
    padding), max pooling after the first two: the feature map is H/4 x W/4
    (7x7 at 28x28), fine enough for CAMs, and every layer is one LRP
    supports. Trains in minutes on a CPU at 28x28.
    """
    for block, filters in enumerate(widths, start=1):
        for conv in (1, 2):
            x = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                activation="relu",
                name=f"block{block}_conv{conv}",
            )(x)
        if block < len(widths):
            x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    return x


_OWN_ARCHITECTURES = {"lenet5": lenet5_features, "vgg_small": vgg_small_features}


def build_features(architecture, x, image_shape, weights=None):
    """Builds an architecture's feature extractor on a Keras tensor.

    Args:
        architecture: str. A key of `ARCHITECTURES`.
        x: Keras tensor. Preprocessed images.
        image_shape: tuple. `(H, W, C)` of the model input.
        weights: `None`, `"imagenet"` (only from the local Keras cache) or a
            weights file path. Defaults to `None`.

    Returns:
        The last 4-D feature map as a Keras tensor.
    """
    if architecture in _OWN_ARCHITECTURES:
        if weights is not None:
            raise ValueError(
                f"{architecture} has no pretrained weights. Received: "
                f"weights={weights!r}; use weights=None"
            )
        return _OWN_ARCHITECTURES[architecture](x)
    weights = resolve_weights(architecture, weights, image_shape[0])
    application = _KERAS_APPLICATIONS[architecture](
        include_top=False, weights=weights, input_tensor=x, pooling=None
    )
    return application.output
