"""One table of the classification datasets, loaded by name."""

import numpy as np

from keras_xai.datasets.default_dataset import Dataset, load_default_dataset
from keras_xai.datasets.images import to_float_images

# Always available (Fashion-MNIST from the Debian package or a directory,
# scikit-learn's digits) and read from disk or downloaded (see
# `fetch_dataset`).
BUILTIN_DATASETS = ("auto", "fashion_mnist", "digits")
DOWNLOADABLE_DATASETS = ("cifar10", "cifar100", "stl10")
DATASETS = BUILTIN_DATASETS + DOWNLOADABLE_DATASETS


def load(name, path=None):
    """A classification dataset as model-ready float images, by name.

    Args:
        name: str. One of `DATASETS`: `"auto"`, `"fashion_mnist"`,
            `"digits"` (see `load_default_dataset`), `"cifar10"`,
            `"cifar100"`, `"stl10"`.
        path: str or `None`. The dataset's directory; `None` for the
            default location (for CIFAR and STL-10: downloaded once into
            the Keras cache). Defaults to `None`.

    Returns:
        A `Dataset`: float32 images in [0, 1] `(N, H, W, C)`, int32 labels,
        class names.

    Example:

    ```python
    data = keras_xai.datasets.load("cifar10")
    ```
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"`name` must be one of {DATASETS}. Received: {name!r}")
    if name in BUILTIN_DATASETS:
        return load_default_dataset(name, path=path)
    # Imported here: the built-in datasets should not pay for these modules.
    from keras_xai.datasets import cifar, stl10

    loaded = {
        "cifar10": cifar.load_cifar10,
        "cifar100": cifar.load_cifar100,
        "stl10": stl10.load_stl10,
    }[name](path)
    return Dataset(
        name,
        to_float_images(loaded.x_train),
        np.asarray(loaded.y_train, "int32"),
        to_float_images(loaded.x_test),
        np.asarray(loaded.y_test, "int32"),
        tuple(loaded.class_names),
    )
