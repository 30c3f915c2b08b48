"""Fashion-MNIST, read from the original IDX files on disk.

Nothing is downloaded. The files come from the Debian package
`dataset-fashion-mnist` (installed under `/usr/share/datasets/fashion-mnist`),
or from any directory holding the four IDX files.

Reference: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
"""

import os

from keras_xai.datasets.idx import DEFAULT_FILES, find_idx_file, load_idx_dataset

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "KERAS_XAI_FASHION_MNIST_DIR"

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_IMAGE_SIZE = (28, 28)
_INSTALL_HINT = (
    "Install it with `apt-get update && apt-get install -y dataset-fashion-mnist`, "
    f"set ${ENV_VAR}, or pass `path=` a directory holding the four IDX files "
    f"({', '.join(DEFAULT_FILES)}, each optionally .gz)"
)


def _resolve_dir(path):
    """Returns `(directory, where it came from)`."""
    if path is not None:
        return os.fspath(path), "`path`"
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env, f"${ENV_VAR}"
    return DEFAULT_DIR, "the default location"


def is_available(path=None):
    """Tells whether the four Fashion-MNIST IDX files can be found.

    Args:
        path: str, path-like or `None`. The directory to look in. Defaults to
            `None`: `$KERAS_XAI_FASHION_MNIST_DIR` if set, else
            `/usr/share/datasets/fashion-mnist`.

    Returns:
        bool. `True` when every file exists (plain or `.gz`); the contents are
        not validated.

    Example:

    ```python
    if fashion_mnist.is_available():
        (x_train, y_train), _ = fashion_mnist.load_data()
    ```
    """
    directory, _ = _resolve_dir(path)
    if not os.path.isdir(directory):
        return False
    try:
        for name in DEFAULT_FILES:
            find_idx_file(directory, name)
    except FileNotFoundError:
        return False
    return True


def load_data(path=None):
    """Loads Fashion-MNIST like `keras.datasets.fashion_mnist.load_data()`.

    Args:
        path: str, path-like or `None`. The directory holding the IDX files.
            Defaults to `None`: `$KERAS_XAI_FASHION_MNIST_DIR` if set, else
            `/usr/share/datasets/fashion-mnist`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        `(N, 28, 28)` (black background, values 0-255) and uint8 labels in
        `[0, 10)` indexing `CLASS_NAMES`; N is 60000 and 10000 for the
        original files.

    Raises:
        FileNotFoundError: if the directory or a file is missing; the message
            names it and says how to install the data.
        ValueError: if a file is not valid IDX, or the images are not 28x28
            or the labels not in [0, 10).

    Example:

    ```python
    from keras_xai.datasets import fashion_mnist, to_float_images

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = to_float_images(x_train)  # (60000, 28, 28, 1) float32 in [0, 1]
    fashion_mnist.CLASS_NAMES[y_train[0]]  # 'Ankle boot'
    ```
    """
    directory, source = _resolve_dir(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Fashion-MNIST directory not found: {directory} (from {source}). "
            f"{_INSTALL_HINT}"
        )
    try:
        (x_train, y_train), (x_test, y_test) = load_idx_dataset(directory)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"Fashion-MNIST is incomplete in {directory}: {error}. {_INSTALL_HINT}"
        ) from error
    for split, images, labels in (
        ("train", x_train, y_train),
        ("test", x_test, y_test),
    ):
        if images.shape[1:] != _IMAGE_SIZE:
            raise ValueError(
                f"Fashion-MNIST {split} images in {directory} must be 28x28. "
                f"Received shape {images.shape}"
            )
        if labels.size and labels.max() >= len(CLASS_NAMES):
            raise ValueError(
                f"Fashion-MNIST {split} labels in {directory} must be in "
                f"[0, {len(CLASS_NAMES)}). Received a maximum of {labels.max()}"
            )
    return (x_train, y_train), (x_test, y_test)
