"""ImageNet weights of the `keras.applications` backbones, fetched like Keras.

`weights="imagenet"` downloads the file `keras.applications` would (its URL
and its published hash) into the Keras cache once, verified, and uses the
cached file from then on; with `KERAS_XAI_OFFLINE=1` nothing is downloaded
and a missing file is an error naming where to put it.
"""

import os

from keras_xai.utils.download import fetch_file, keras_home

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"

# `include_top=False` files: name, URL and hash as `keras.applications`
# publishes them. Keras gives no hash for MobileNet's files: they are
# downloaded unverified, as `keras.applications.MobileNet` does.
IMAGENET_WEIGHTS = {
    "vgg16": (
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _BASE + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "6d6bbae143d832006294945121d1f1fc",
    ),
    "resnet50": (
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _BASE + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
    "efficientnet_b2": (
        "efficientnetb2_notop.h5",
        "https://storage.googleapis.com/keras-applications/efficientnetb2_notop.h5",
        "111f8e2ac8aa800a7a99e3239f7bfb39",
    ),
    "mobilenet": (
        "mobilenet_1_0_{size}_tf_no_top.h5",
        _BASE + "mobilenet/mobilenet_1_0_{size}_tf_no_top.h5",
        None,
    ),
}
_MOBILENET_SIZES = (128, 160, 192, 224)


def keras_cache_dir():
    """Returns the directory where Keras caches downloaded model files."""
    return os.path.join(keras_home(), "models")


def _entry(architecture, image_size):
    if architecture not in IMAGENET_WEIGHTS:
        raise ValueError(
            f"No ImageNet weights exist for architecture={architecture!r}. "
            f"Available: {sorted(IMAGENET_WEIGHTS)}"
        )
    size = image_size if image_size in _MOBILENET_SIZES else 224
    fname, origin, file_hash = IMAGENET_WEIGHTS[architecture]
    return fname.format(size=size), origin.format(size=size), file_hash


def imagenet_weights_file(architecture, image_size):
    """Returns the cache path of a backbone's ImageNet weights.

    Args:
        architecture: str. One of `"vgg16"`, `"resnet50"`,
            `"efficientnet_b2"`, `"mobilenet"`.
        image_size: int. Input side; MobileNet weights exist for 128, 160,
            192 and 224 (other sizes use the 224 file, as Keras does).

    Returns:
        The absolute path the file has once fetched.
    """
    fname, _, _ = _entry(architecture, image_size)
    return os.path.join(keras_cache_dir(), fname)


def fetch_imagenet_weights(architecture, image_size):
    """The cached, verified ImageNet weights file, downloaded if missing.

    Args:
        architecture: str. See `imagenet_weights_file`.
        image_size: int. Input side.

    Returns:
        The path of the file in the Keras cache.

    Raises:
        FileNotFoundError: missing and `KERAS_XAI_OFFLINE` is set.
        ConnectionError: the download failed.
        ValueError: the downloaded file does not match its hash (removed).
    """
    fname, origin, file_hash = _entry(architecture, image_size)
    return fetch_file(fname, origin, file_hash=file_hash, cache_subdir="models")


def resolve_weights(architecture, weights, image_size):
    """Maps a `weights` argument to the file `keras.applications` loads.

    Args:
        architecture: str. Backbone name.
        weights: `None`, `"imagenet"` or a path to a weights file.
        image_size: int. Input side.

    Returns:
        `None` or the path of the weights file (for `"imagenet"`, the
        cached file, downloaded first if needed).

    Raises:
        FileNotFoundError: when the given path is absent, or the ImageNet
            file is missing and downloads are off.
    """
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        return fetch_imagenet_weights(architecture, image_size)
    if not os.path.isfile(str(weights)):
        raise FileNotFoundError(
            f"`weights` must be None, 'imagenet' or an existing file. "
            f"Received: weights={weights!r} (no such file)"
        )
    return weights
