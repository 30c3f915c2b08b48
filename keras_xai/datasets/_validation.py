"""Checks shared by the dataset builders (image batches, class labels)."""

import numpy as np

from keras_xai.utils.validation import check_labels, check_number, to_numpy


def check_image_batch(images, name="images", allow_empty=False):
    """Validates a batch of images of shape `(N, H, W)` or `(N, H, W, C)`.

    Unlike `keras_xai.utils.validation.check_images`, the dtype is kept, so
    builders can return images in the dtype they received.

    Args:
        images: array-like. The batch.
        name: str. Argument name used in error messages.
        allow_empty: bool. Whether `N == 0` is accepted.

    Returns:
        The batch as a numpy array (not copied when already one).
    """
    array = to_numpy(images)
    if array.ndim not in (3, 4):
        raise ValueError(
            f"`{name}` must be a batch of images of shape (N, H, W) or "
            f"(N, H, W, C). Received: {name}.shape={array.shape}"
        )
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(
            f"`{name}` is an empty batch. Received: {name}.shape={array.shape}"
        )
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"`{name}` must be numeric. Received: {name}.dtype={array.dtype}"
        )
    return array


def check_class_labels(labels, length, num_classes=None, name="labels"):
    """Validates class indices, inferring `num_classes` when it is `None`.

    Args:
        labels: array-like of ints, shape `(length,)`.
        length: int. The number of images the labels belong to.
        num_classes: int or `None`. Number of classes; `None` infers
            `max(labels) + 1`.
        name: str. Argument name used in error messages.

    Returns:
        A tuple `(labels, num_classes)`: int32 labels and an int.
    """
    if num_classes is None:
        array = check_labels(labels, np.iinfo(np.int32).max, name=name, length=length)
        return array, int(array.max()) + 1 if array.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(
            f"`num_classes` must be an integer or None. "
            f"Received: num_classes={num_classes!r}"
        )
    if num_classes < 1:
        raise ValueError(
            f"`num_classes` must be >= 1. Received: num_classes={num_classes}"
        )
    array = check_labels(labels, int(num_classes), name=name, length=length)
    return array, int(num_classes)


def check_fraction(value, name, low_inclusive=True, high_inclusive=True):
    """Raises `ValueError` unless `value` is a real number in the given range.

    The range is `[0, 1]`, each end open or closed as asked.
    """
    return check_number(value, name, 0.0, 1.0, low_inclusive, high_inclusive)
