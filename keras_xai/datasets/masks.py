"""Object masks for datasets whose background is black."""

import numpy as np
from scipy import ndimage

from keras_xai.datasets._validation import check_fraction, check_image_batch
from keras_xai.datasets.images import _to_float_images

# 4-connected in the image plane, no connection across the batch axis, so one
# `binary_fill_holes` call fills every image independently.
_IN_PLANE_CROSS = ndimage.generate_binary_structure(2, 1)[None]


def object_masks(images, threshold=0.1):
    """Marks the object in images with a black background (Fashion-MNIST, digits).

    A pixel is object when its brightness, the maximum over channels scaled
    to [0, 1], is greater than `threshold`; background regions enclosed by
    the object (holes not 4-connected to the image border) are then filled,
    so a dark pattern on a garment still counts as garment.

    Args:
        images: array-like. uint8 images (0-255) or float images in [0, 1],
            of shape `(N, H, W)` or `(N, H, W, C)`.
        threshold: float. Brightness above which a pixel is object, in
            [0, 1). Defaults to `0.1`.

    Returns:
        A float32 numpy array of shape `(N, H, W)` with values in {0, 1}.

    Raises:
        ValueError: if `images` is not a valid image batch (see
            `to_float_images`) or `threshold` is not in [0, 1).

    Example:

    ```python
    (x_train, y_train), _ = fashion_mnist.load_data()
    masks = object_masks(x_train[:100])  # (100, 28, 28) float32
    ```
    """
    threshold = check_fraction(threshold, "threshold", high_inclusive=False)
    array = check_image_batch(images, name="images", allow_empty=True)
    if array.dtype == np.uint8:
        # Skips a float copy of the whole batch; same rule as v / 255 > t.
        brightness = array if array.ndim == 3 else array.max(axis=-1)
        foreground = brightness > threshold * 255.0
    else:
        foreground = _to_float_images(array, "images").max(axis=-1) > threshold
    if foreground.size == 0:
        return foreground.astype("float32")
    filled = ndimage.binary_fill_holes(foreground, structure=_IN_PLANE_CROSS)
    return filled.astype("float32")
