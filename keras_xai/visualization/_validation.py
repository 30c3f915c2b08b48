"""Checks shared by the visualisation functions (maps, images, colormaps)."""

import os

import matplotlib
import numpy as np
from matplotlib.colors import Colormap

from keras_xai.utils.validation import (
    check_finite,
    check_number,
    check_real_dtype,
    to_numpy,
)


def check_maps(value, name, ndims=(2,)):
    """Validates attribution maps: `(H, W)` and/or `(B, H, W)`, real, finite.

    Args:
        value: array-like. The map or batch of maps.
        name: str. Argument name used in error messages.
        ndims: tuple of ints. Accepted ranks: 2 for one map, 3 for a batch.

    Returns:
        A float64 numpy array (float64 so that scaling never overflows).
    """
    array = to_numpy(value)
    if array.ndim not in ndims:
        shapes = " or ".join({2: "(H, W)", 3: "(batch, H, W)"}[n] for n in ndims)
        raise ValueError(
            f"`{name}` must be an attribution map of shape {shapes}. "
            f"Received: {name}.shape={array.shape}"
        )
    return _check_real_image(array, name, height_axis=-2, dtype="float64")


def check_display_image(value, name):
    """Validates one channels-last image `(H, W, 1)` or `(H, W, 3)` in [0, 1].

    Args:
        value: array-like. The image.
        name: str. Argument name used in error messages.

    Returns:
        A float32 numpy array of shape `(H, W, C)`.
    """
    array = to_numpy(value)
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must be one channels-last image of shape (H, W, 1) or "
            f"(H, W, 3). Received: {name}.shape={array.shape}"
        )
    array = _check_real_image(array, name, height_axis=0, dtype="float32")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"`{name}` must have values in [0, 1] (scale uint8 images by 1/255). "
            f"Received values in [{low}, {high}]"
        )
    return array


def _check_real_image(array, name, height_axis, dtype):
    """Checks a non-empty height and width and finite real values.

    Args:
        array: numpy array of the checked rank.
        name: str. Argument name used in error messages.
        height_axis: int. The height's axis; the width's follows it.
        dtype: str. The dtype returned.

    Returns:
        `array` as `dtype`.
    """
    if array.shape[height_axis] == 0 or array.shape[height_axis + 1] == 0:
        raise ValueError(
            f"`{name}` must have a non-empty height and width. "
            f"Received: {name}.shape={array.shape}"
        )
    check_real_dtype(array, name)
    array = array.astype(dtype)
    check_finite(array, name)
    return array


def check_signed(signed):
    """Raises `ValueError` unless `signed` is `True`, `False` or `None`."""
    if signed is not None and not isinstance(signed, (bool, np.bool_)):
        raise ValueError(
            f"`signed` must be True, False or None. Received: signed={signed!r}"
        )
    return None if signed is None else bool(signed)


def check_cmap(cmap):
    """Returns the `Colormap` named by `cmap`, or `None` when `cmap` is `None`.

    A `matplotlib.colors.Colormap` instance is returned unchanged.
    """
    if cmap is None or isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str) and cmap in matplotlib.colormaps:
        return matplotlib.colormaps[cmap]
    raise ValueError(
        "`cmap` must be a matplotlib colormap name such as 'jet', 'viridis' or "
        f"'bwr' (see `matplotlib.colormaps`). Received: cmap={cmap!r}"
    )


def check_unit_interval(value, name):
    """Raises `ValueError` unless `value` is a real number in [0, 1]."""
    return check_number(value, name, 0.0, 1.0)


def check_positive_number(value, name):
    """Raises `ValueError` unless `value` is a finite real number > 0."""
    return check_number(value, name, low=0.0, low_inclusive=False)


def check_strings(value, name, length=None):
    """Validates a list or tuple of strings, optionally of a given length.

    Returns:
        A list of str.
    """
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(item, str) for item in value
    ):
        raise ValueError(
            f"`{name}` must be a list of strings. Received: {name}={value!r}"
        )
    if length is not None and len(value) != length:
        raise ValueError(
            f"`{name}` must have {length} entries. Received {len(value)}: "
            f"{name}={value!r}"
        )
    return list(value)


def check_png_path(path):
    """Validates a PNG output path and returns it as a str."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`path` must be a str or path-like. Received: path={path!r}")
    filename = os.fspath(path)
    if not isinstance(filename, str) or not filename.lower().endswith(".png"):
        raise ValueError(
            f"`path` must name a PNG file ending in '.png'. Received: path={path!r}"
        )
    return filename
