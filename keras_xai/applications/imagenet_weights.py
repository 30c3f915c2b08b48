"""Offline resolution of ImageNet weights for `keras.applications` backbones.

Nothing in keras_xai may try the network: ImageNet weights are used only when
the file `keras.applications` would download is already in the Keras cache.
"""

import os

# File names `keras.applications` caches for `include_top=False`.
_NOTOP_FILES = {
    "vgg16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "resnet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "efficientnet_b2": "efficientnetb2_notop.h5",
    "mobilenet": "mobilenet_1_0_{size}_tf_no_top.h5",
}
_MOBILENET_SIZES = (128, 160, 192, 224)


def keras_cache_dir():
    """Returns the directory where Keras caches downloaded model files."""
    base = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    if not os.access(base, os.W_OK) and not os.environ.get("KERAS_HOME"):
        base = os.path.join("/tmp", ".keras")
    return os.path.join(base, "models")


def imagenet_weights_file(architecture, image_size):
    """Returns the expected cache path of a backbone's ImageNet weights.

    Args:
        architecture: str. One of `"vgg16"`, `"resnet50"`,
            `"efficientnet_b2"`, `"mobilenet"`.
        image_size: int. Input side; MobileNet weights exist for 128, 160,
            192 and 224 (other sizes use the 224 file, as Keras does).

    Returns:
        The absolute path the file must have.
    """
    if architecture not in _NOTOP_FILES:
        raise ValueError(
            f"No ImageNet weights exist for architecture={architecture!r}. "
            f"Available: {sorted(_NOTOP_FILES)}"
        )
    size = image_size if image_size in _MOBILENET_SIZES else 224
    return os.path.join(keras_cache_dir(), _NOTOP_FILES[architecture].format(size=size))


def resolve_weights(architecture, weights, image_size):
    """Maps a `weights` argument to what `keras.applications` may load offline.

    Args:
        architecture: str. Backbone name.
        weights: `None`, `"imagenet"` or a path to a weights file.
        image_size: int. Input side.

    Returns:
        `None`, `"imagenet"` (the file is cached, so Keras will not download)
        or the path.

    Raises:
        FileNotFoundError: when the ImageNet file or the given path is absent.
    """
    if weights is None:
        return None
    if weights == "imagenet":
        path = imagenet_weights_file(architecture, image_size)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"ImageNet weights for {architecture!r} are not in the Keras cache "
                "and keras_xai never downloads them. Put the file "
                f"{os.path.basename(path)!r} (the one keras.applications "
                f"downloads) at {path}, or use weights=None."
            )
        return "imagenet"
    if not os.path.isfile(str(weights)):
        raise FileNotFoundError(
            f"`weights` must be None, 'imagenet' or an existing file. "
            f"Received: weights={weights!r} (no such file)"
        )
    return weights
