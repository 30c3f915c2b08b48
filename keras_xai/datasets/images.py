"""The library's image convention: float32, channels-last, values in [0, 1]."""

import numpy as np

from keras_xai.datasets._validation import check_image_batch
from keras_xai.utils.validation import check_finite


def to_float_images(x):
    """Converts a batch of images to float32 `(N, H, W, C)` in [0, 1].

    Models in keras_xai take float32 channels-last images in [0, 1]; this
    brings loader output (uint8, 0-255, often without a channel axis) to that
    convention.

    - Integer input (uint8 or any integer dtype) must hold values in
      [0, 255] and is divided by 255.
    - Float input must already be in [0, 1]; it is cast to float32 (not
      copied when it already is float32 with a channel axis).
    - Boolean input becomes 0.0 / 1.0.
    - A 3-D batch `(N, H, W)` is grayscale and gets a channel axis.

    Args:
        x: array-like. Images of shape `(N, H, W)` or `(N, H, W, C)`.

    Returns:
        A float32 numpy array of shape `(N, H, W, C)` (`C = 1` for 3-D
        input) with values in [0, 1].

    Raises:
        ValueError: if `x` is not 3-D or 4-D, not numeric, holds integers
            outside [0, 255], or floats outside [0, 1] or non-finite.

    Example:

    ```python
    (x_train, y_train), _ = fashion_mnist.load_data()
    x = to_float_images(x_train)  # (60000, 28, 28, 1) float32
    ```
    """
    return _to_float_images(x, "x")


def _to_float_images(x, name):
    array = check_image_batch(x, name=name, allow_empty=True)
    if array.ndim == 3:
        array = array[..., None]
    if array.dtype == np.bool_:
        return array.astype("float32")
    if np.issubdtype(array.dtype, np.integer):
        if array.dtype != np.uint8 and array.size:
            low, high = array.min(), array.max()
            if low < 0 or high > 255:
                raise ValueError(
                    f"`{name}` holds integers, which must be pixel values in "
                    f"[0, 255]. Received values in [{low}, {high}]"
                )
        return array.astype("float32") / np.float32(255.0)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"`{name}` must be integer, float or bool images. "
            f"Received: {name}.dtype={array.dtype}"
        )
    check_finite(array, name)
    if array.size:
        low, high = array.min(), array.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"`{name}` holds floats, which must be in [0, 1] (pass uint8 "
                f"0-255 images to have them rescaled). Received values in "
                f"[{low}, {high}]"
            )
    return array.astype("float32", copy=False)
