"""Scaling attribution maps to a fixed range for display."""

import numpy as np

from keras_xai.visualization._validation import check_maps, check_signed


def normalize_map(attribution, signed=None):
    """Scales an attribution map, or a batch of maps, to a fixed display range.

    Non-negative maps (CAM-style) are min-max scaled to [0, 1]. Signed maps
    (gradient-style) are divided by their largest absolute value, so they
    land in [-1, 1] with 0 kept at 0. A batch is scaled map by map. A
    constant map carries no spatial information and becomes all zeros, so
    nothing is ever divided by zero.

    Args:
        attribution: array-like. A map of shape `(H, W)` or a batch of maps of
            shape `(B, H, W)`, as numpy or a backend tensor.
        signed: bool or `None`. `True` scales by the largest absolute value
            to [-1, 1]; `False` min-max scales to [0, 1], negative values
            included; `None` picks `True` when `attribution` holds any
            negative value (a whole batch then shares one convention).
            Defaults to `None`.

    Returns:
        A float32 numpy array with the shape of `attribution`.

    Raises:
        ValueError: if `attribution` is not 2-D or 3-D, not real, or holds
            NaN or infinite values, or `signed` is not a bool or `None`.

    Example:

    ```python
    normalize_map(np.array([[1.0, 3.0], [5.0, 9.0]]))
    # [[0., 0.25], [0.5, 1.]]
    normalize_map(np.array([[-2.0, 1.0], [0.0, 4.0]]))
    # [[-0.5, 0.25], [0., 1.]]
    ```
    """
    signed = check_signed(signed)
    array = check_maps(attribution, "attribution", ndims=(2, 3))
    scaled, _ = scale_maps(array, signed)
    return scaled.astype("float32")


def scale_maps(array, signed):
    """Does `normalize_map`'s scaling on validated float64 maps.

    Args:
        array: float64 numpy array of shape `(..., H, W)`, finite.
        signed: bool or `None`, as in `normalize_map`.

    Returns:
        A tuple `(scaled, signed)`: the float64 scaled maps and the
        convention used, with `None` resolved to a bool.
    """
    if signed is None:
        signed = bool(np.any(array < 0))
    axes = (-2, -1)
    # Dividing by the peak first keeps `high - low` finite for huge inputs.
    peak = np.max(np.abs(array), axis=axes, keepdims=True)
    array = array / np.where(peak > 0, peak, 1.0)
    low = np.min(array, axis=axes, keepdims=True)
    high = np.max(array, axis=axes, keepdims=True)
    constant = high == low
    if signed:
        scaled = array  # already divided by the largest absolute value
    else:
        scaled = (array - low) / np.where(constant, 1.0, high - low)
    return np.where(constant, 0.0, scaled), signed
