"""STL-10, read from the original binary files.

Nothing is downloaded. The binary version (`stl10_binary/`) holds
`train_X.bin`, `train_y.bin`, `test_X.bin`, `test_y.bin`, `class_names.txt`
and the 100000 unlabelled images in `unlabeled_X.bin`. Each image is
3 x 96 x 96 bytes written column-major, as MATLAB stores arrays: for each
channel (red, green, blue) the 96 pixels of column 0 top to bottom, then
column 1, and so on. Labels are one byte each, 1 to 10.

Reference: A. Coates, H. Lee, A. Y. Ng, "An Analysis of Single-Layer Networks
in Unsupervised Feature Learning", AISTATS 2011.
"""

import os

import numpy as np

from keras_xai.datasets._binary_records import count_records
from keras_xai.datasets._image_files import check_max_images
from keras_xai.datasets._text_tables import require_file
from keras_xai.datasets.default_dataset import Dataset
from keras_xai.datasets.downloads import fetch_dataset

DIRECTORY = "stl10_binary"
IMAGE_SIZE = 96
_IMAGE_BYTES = 3 * IMAGE_SIZE * IMAGE_SIZE
_NUM_CLASSES = 10


def load_stl10(path=None):
    """Loads the labelled STL-10 images from the original binary files.

    The unlabelled images are not read (they are 2.7 GB); see
    `load_stl10_unlabeled`.

    Args:
        path: str or path-like. The `stl10_binary` directory or its parent.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("stl10")`). Defaults to `None`.

    Returns:
        A `keras_xai.datasets.Dataset` named `"stl10"`: uint8 images
        `(N, 96, 96, 3)` channels-last, row-major, int64 labels in
        `[0, 10)` (the files' 1-10 minus one) and the `class_names` of
        `class_names.txt`; N is 5000 (train) and 8000 (test) for the
        original files.

    Raises:
        FileNotFoundError: if a file is missing; the message names it.
        ValueError: if an image file's size is not a multiple of 27648 bytes
            (one image), image and label counts differ, a label is not in
            1-10, or `class_names.txt` does not list 10 names; the message
            names the file.

    Example:

    ```python
    data = load_stl10("/data/stl10_binary")
    data.x_train.shape  # (5000, 96, 96, 3)
    ```
    """
    if path is None:
        path = fetch_dataset("stl10")
    directory = _find_directory(path)
    splits = []
    for split in ("train", "test"):
        images_path = require_file(
            os.path.join(directory, f"{split}_X.bin"), "STL-10 image file"
        )
        labels_path = require_file(
            os.path.join(directory, f"{split}_y.bin"), "STL-10 label file"
        )
        images = _read_images(images_path)
        labels = _read_labels(labels_path)
        if labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"STL-10 image and label counts differ: {images_path} holds "
                f"{images.shape[0]} images but {labels_path} holds "
                f"{labels.shape[0]} labels"
            )
        splits.extend((images, labels))
    return Dataset("stl10", *splits, _read_class_names(directory))


def load_stl10_unlabeled(path=None, max_images=None):
    """Loads the unlabelled STL-10 images (`unlabeled_X.bin`).

    Args:
        path: str or path-like. The `stl10_binary` directory or its parent.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("stl10")`). Defaults to `None`.
        max_images: int or `None`. Read only the first `max_images` images
            (the file holds 100000, 2.7 GB). Defaults to `None` (all).

    Returns:
        uint8 array `(N, 96, 96, 3)`.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if its size is not a multiple of 27648 bytes, or
            `max_images` is not None or an int >= 1.

    Example:

    ```python
    extra = load_stl10_unlabeled("/data/stl10_binary", max_images=1000)
    ```
    """
    max_images = check_max_images(max_images)
    if path is None:
        path = fetch_dataset("stl10")
    directory = _find_directory(path)
    images_path = require_file(
        os.path.join(directory, "unlabeled_X.bin"), "STL-10 image file"
    )
    return _read_images(images_path, max_images)


def _read_class_names(directory):
    names_path = require_file(
        os.path.join(directory, "class_names.txt"), "STL-10 class names"
    )
    try:
        with open(names_path, encoding="utf-8") as file:
            names = tuple(line.strip() for line in file if line.strip())
    except UnicodeDecodeError as error:
        raise ValueError(
            f"STL-10 class names {names_path} is not text: {error}"
        ) from error
    if len(names) != _NUM_CLASSES:
        raise ValueError(
            f"STL-10 class names {names_path} must list {_NUM_CLASSES} names. "
            f"Received {len(names)}"
        )
    return names


def _find_directory(path):
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"STL-10 directory not found: {path}")
    nested = os.path.join(path, DIRECTORY)
    if not os.path.isfile(os.path.join(path, "train_y.bin")) and os.path.isdir(nested):
        return nested
    return path


def _read_images(path, max_images=None):
    count = count_records(
        path,
        _IMAGE_BYTES,
        "STL-10 image file",
        f"one image (3x96x96 = {_IMAGE_BYTES} bytes)",
    )
    if max_images is not None:
        count = min(count, max_images)
    data = np.fromfile(path, dtype=np.uint8, count=count * _IMAGE_BYTES)
    # Column-major storage: the bytes of one image read as (channel, column,
    # row); moving row first and channel last gives (row, column, channel).
    images = data.reshape(count, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 3, 2, 1)
    return np.ascontiguousarray(images)


def _read_labels(path):
    labels = np.fromfile(path, dtype=np.uint8).astype(np.int64)
    if labels.size and (labels.min() < 1 or labels.max() > _NUM_CLASSES):
        raise ValueError(
            f"STL-10 label file {path} must hold labels in [1, {_NUM_CLASSES}]. "
            f"Received values in [{labels.min()}, {labels.max()}]"
        )
    return labels - 1
