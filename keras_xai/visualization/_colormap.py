"""Turning an attribution map into RGB colours (shared by overlays and grids)."""

import matplotlib
from skimage.transform import resize

from keras_xai.visualization._validation import check_cmap, check_maps
from keras_xai.visualization.normalize import scale_maps

DEFAULT_CMAP = "jet"
DEFAULT_SIGNED_CMAP = "bwr"


def colorize(attribution, cmap=None, signed=None, size=None, name="attribution"):
    """Normalises one map, resizes it if asked and maps it through a colormap.

    Args:
        attribution: array-like of shape `(H, W)`.
        cmap: str, `Colormap` or `None`. `None` uses "jet" for non-negative
            maps and "bwr" (white at 0) for signed ones.
        signed: bool or `None`, as in `normalize_map`.
        size: `(height, width)` or `None`. Bilinear resize target.
        name: str. Argument name used in error messages.

    Returns:
        A float32 numpy array of shape `(height, width, 3)` in [0, 1].
    """
    colormap = check_cmap(cmap)
    array = check_maps(attribution, name)
    scaled, signed = scale_maps(array, signed)
    if size is not None and tuple(size) != scaled.shape:
        # Interpolating the scaled map keeps values in range, so the colours
        # match those of the map at its own size.
        scaled = resize(scaled, size, order=1, mode="edge", preserve_range=True)
    if colormap is None:
        colormap = matplotlib.colormaps[DEFAULT_SIGNED_CMAP if signed else DEFAULT_CMAP]
    # Signed maps in [-1, 1] are centred so that 0 takes the colormap's middle.
    positions = (scaled + 1.0) / 2.0 if signed else scaled
    return colormap(positions.clip(0.0, 1.0))[..., :3].astype("float32")
