"""Checks shared by the metrics: maps, masks, models and numbers."""

import numpy as np

from keras_xai.utils import validation
from keras_xai.utils.validation import (
    check_finite,
    check_real_dtype,
    to_numpy,
)


def check_maps(value, name="maps", shape=None, float64=True):
    """Validates a batch of attribution maps `(N, H, W)`: real and finite.

    Args:
        value: array-like (numpy or a backend tensor).
        name: str. Argument name used in error messages.
        shape: tuple or `None`. The exact shape required (e.g. the shape of
            the maps a mask batch belongs to).
        float64: bool. Convert to float64 (sums of many pixels stay exact).
            With `False`, float32/float64 arrays are kept as they are (the
            caller accumulates in float64) and other dtypes become float64.

    Returns:
        A float numpy array, not copied when no conversion is needed.
    """
    array = to_numpy(value)
    if array.ndim != 3:
        raise ValueError(
            f"`{name}` must be a batch of 2-D maps of shape (N, H, W) "
            f"(use `{name}[None]` for a single map, or drop a channel axis). "
            f"Received: {name}.shape={array.shape}"
        )
    if 0 in array.shape:
        raise ValueError(
            f"`{name}` must have at least one map and a non-empty height and "
            f"width. Received: {name}.shape={array.shape}"
        )
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise ValueError(
            f"`{name}` must have the same shape as the maps it is compared "
            f"with, {tuple(shape)}. Received: {name}.shape={array.shape}"
        )
    check_real_dtype(array, name)
    # No copy when the dtype fits: callers never modify the array in place.
    if float64 or array.dtype not in (np.float32, np.float64):
        array = array.astype("float64", copy=False)
    check_finite(array, name)
    return array


def check_masks(value, shape, name="masks"):
    """Validates binary masks (bool, or numbers that are all 0 or 1).

    Args:
        value: array-like.
        shape: tuple. The shape the masks must have (that of the maps).
        name: str. Argument name used in error messages.

    Returns:
        A bool numpy array of shape `shape`.
    """
    array = check_maps(value, name, shape=shape)
    if not np.all((array == 0) | (array == 1)):
        bad = np.unique(array[(array != 0) & (array != 1)])[:5]
        raise ValueError(
            f"`{name}` must be binary (bool, or 0/1 values; scale 0/255 masks "
            f"by 1/255). Received values such as {bad.tolist()}"
        )
    return array.astype(bool)


def check_number(value, name, minimum=None, maximum=None):
    """Raises `ValueError` unless `value` is a real number in the bounds."""
    return validation.check_number(value, name, low=minimum, high=maximum)


def check_unit_images(images, name="images"):
    """Raises `ValueError` unless all pixel values lie in [0, 1]."""
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"`{name}` must have pixel values in [0, 1] (the library's image "
            "convention; see `keras_xai.datasets.to_float_images`). Received "
            f"values in [{low}, {high}]"
        )
    return images
