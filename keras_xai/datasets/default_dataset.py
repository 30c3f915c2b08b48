"""The library's default real dataset: Fashion-MNIST, else scikit-learn digits."""

import collections

import numpy as np
from skimage.transform import resize

from keras_xai.datasets import digits, fashion_mnist
from keras_xai.datasets.images import to_float_images

Dataset = collections.namedtuple(
    "Dataset", ["name", "x_train", "y_train", "x_test", "y_test", "class_names"]
)
Dataset.__doc__ = """A classification dataset: train and test splits and class names.

`load_default_dataset` fills it with model-ready float32 images in [0, 1];
the on-disk readers (`load_cifar10`, `load_stl10`, ...) with the files'
uint8 pixels (convert them with `to_float_images`)."""
NAMES = ("auto", "fashion_mnist", "digits")


def load_default_dataset(name="auto", path=None, image_size=28):
    """Loads the default dataset as model-ready float images.

    `"auto"` reads Fashion-MNIST when its IDX files are installed (Debian
    package `dataset-fashion-mnist`) and falls back to scikit-learn's bundled
    digits, which are always available; `Dataset.name` says which was used.
    Digits (8x8) are resized bilinearly to `image_size` so that the same
    architectures apply.

    Args:
        name: str. `"auto"`, `"fashion_mnist"` or `"digits"`. Defaults to
            `"auto"`.
        path: str or `None`. Fashion-MNIST directory (see
            `fashion_mnist.load_data`). Defaults to `None`.
        image_size: int. Side of the digits images after resizing. Defaults
            to `28`.

    Returns:
        A `Dataset` namedtuple: `name`, `x_train`, `y_train`, `x_test`,
        `y_test` (float32 `(N, H, W, 1)` in `[0, 1]` and int32 labels) and
        `class_names`.

    Example:

    ```python
    data = load_default_dataset()
    print(data.name, data.x_train.shape)
    ```
    """
    if name not in NAMES:
        raise ValueError(f"`name` must be one of {NAMES}. Received: name={name!r}")
    if name == "fashion_mnist" or (name == "auto" and fashion_mnist.is_available(path)):
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path)
        return Dataset(
            "fashion_mnist",
            to_float_images(x_train),
            y_train.astype("int32"),
            to_float_images(x_test),
            y_test.astype("int32"),
            fashion_mnist.CLASS_NAMES,
        )
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    return Dataset(
        "digits",
        _resize(to_float_images(x_train), image_size),
        y_train.astype("int32"),
        _resize(to_float_images(x_test), image_size),
        y_test.astype("int32"),
        digits.CLASS_NAMES,
    )


def _resize(images, size):
    if images.shape[1] == size:
        return images
    shape = (images.shape[0], size, size, images.shape[-1])
    resized = resize(images, shape, order=1, anti_aliasing=False)
    return np.clip(resized, 0.0, 1.0).astype("float32")
