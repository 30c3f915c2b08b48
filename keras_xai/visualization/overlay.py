"""Blending an attribution map over the image it explains."""

import numpy as np

from keras_xai.visualization._colormap import colorize
from keras_xai.visualization._validation import (
    check_cmap,
    check_display_image,
    check_signed,
    check_unit_interval,
)


def overlay(image, attribution, cmap=None, alpha=0.5, signed=None):
    """Blends a colour-mapped attribution map over an image.

    The map is normalised with `normalize_map`, mapped through `cmap` and
    mixed with the image as `(1 - alpha) * image + alpha * colours`; a
    grayscale image is repeated to RGB first. When the map's height and width
    differ from the image's (a 7x7 CAM over a 224x224 image), the normalised
    map is resized bilinearly with `skimage.transform.resize` (order 1, edge
    padding, anti-aliasing when shrinking).

    Args:
        image: array-like. One channels-last image of shape `(H, W, 1)` or
            `(H, W, 3)` with values in [0, 1].
        attribution: array-like. The map, shape `(h, w)`.
        cmap: str, `matplotlib.colors.Colormap` or `None`. The colormap.
            `None` picks "jet" for non-negative maps and the diverging "bwr"
            for signed ones, so that 0 is white and the sign reads as
            red/blue. Defaults to `None`.
        alpha: float. Weight of the map's colours, in [0, 1]: 0 gives back
            the image, 1 the colour-mapped map alone. Defaults to `0.5`.
        signed: bool or `None`. Whether the map is signed, as in
            `normalize_map`; `None` decides from the presence of negative
            values. Defaults to `None`.

    Returns:
        A float32 numpy array of shape `(H, W, 3)` with values in [0, 1].

    Raises:
        ValueError: if `image` is not one `(H, W, 1)` or `(H, W, 3)` image
            in [0, 1], `attribution` is not a finite 2-D map, `alpha` is not
            in [0, 1], `cmap` is not a matplotlib colormap name or `signed`
            is not a bool or `None`.

    Example:

    ```python
    rgb = overlay(images[0], cams[0], alpha=0.4)  # (224, 224, 3) float32
    ```
    """
    image = check_display_image(image, "image")
    alpha = check_unit_interval(alpha, "alpha")
    cmap = check_cmap(cmap)
    signed = check_signed(signed)
    colours = colorize(attribution, cmap=cmap, signed=signed, size=image.shape[:2])
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    blended = (1.0 - alpha) * rgb + alpha * colours
    return np.clip(blended, 0.0, 1.0).astype("float32")
