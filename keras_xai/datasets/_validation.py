"""Checks shared by the dataset builders (image batches, class labels)."""

import numpy as np

from keras_xai.utils.validation import check_image_batch, check_labels, check_number

# `check_image_batch` (dtype kept, `(N, H, W)` or `(N, H, W, C)`) is the
# builders' image check; it lives with the library's other validators.
__all__ = ["check_class_labels", "check_fraction", "check_image_batch"]


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
