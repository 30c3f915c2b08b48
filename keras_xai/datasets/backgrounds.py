"""Objects on textured backgrounds: masks whose background is not black."""

import numpy as np

from keras_xai.datasets.images import to_float_images
from keras_xai.datasets.masks import object_masks
from keras_xai.utils.validation import check_number, check_positive_int

BACKGROUNDS = ("black", "noise", "texture")


def with_backgrounds(images, kind="texture", seed=0, strength=0.5, threshold=0.1):
    """Pastes each object (a black-background image) on a random background.

    On black-background data (Fashion-MNIST, digits) an attribution such as
    `x·∇` or Integrated Gradients with a black baseline is zero on every
    background pixel whatever the model does, so localisation metrics
    against the object mask cannot tell explanations apart. Here every
    background pixel gets a value, the object pixels are kept as they are,
    and the object masks come from the original images:

    - `"black"`: unchanged (the control).
    - `"noise"`: i.i.d. uniform noise in `[0, strength]`.
    - `"texture"`: a random oriented stripe pattern (random frequency,
      angle and phase per image) in `[0, strength]`, plus a little noise:
      structured, so a model can pick up edges there.

    Args:
        images: array-like. uint8 (0-255) or float ([0, 1]) images
            `(N, H, W)` or `(N, H, W, C)` with a black background.
        kind: str. One of `BACKGROUNDS`. Defaults to `"texture"`.
        seed: int. Seed of the backgrounds. Defaults to 0.
        strength: float in (0, 1]. Brightest background value. Defaults to
            0.5.
        threshold: float. `object_masks` threshold. Defaults to 0.1.

    Returns:
        `(images, masks)`: float32 images `(N, H, W, C)` in [0, 1] (as
        `to_float_images` returns them) and float32 `(N, H, W)` object
        masks in {0, 1}.

    Example:

    ```python
    x, masks = with_backgrounds(x_test[:500], "texture", seed=1)
    ```
    """
    if not isinstance(kind, str) or kind not in BACKGROUNDS:
        raise ValueError(f"`kind` must be one of {BACKGROUNDS}. Received: {kind!r}")
    seed = check_positive_int(seed, "seed", minimum=0)
    strength = check_number(strength, "strength", 0.0, 1.0, low_inclusive=False)
    masks = object_masks(images, threshold=threshold)
    array = np.array(to_float_images(images), dtype="float32")
    if kind == "black":
        return array, masks
    num, height, width = masks.shape
    rng = np.random.default_rng(seed)
    if kind == "noise":
        background = rng.uniform(0.0, strength, (num, height, width))
    else:
        rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
        angle = rng.uniform(0.0, np.pi, (num, 1, 1))
        period = rng.uniform(3.0, 8.0, (num, 1, 1))
        phase = rng.uniform(0.0, 2 * np.pi, (num, 1, 1))
        along = rows * np.sin(angle) + cols * np.cos(angle)
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * along / period + phase)
        noise = rng.uniform(-0.1, 0.1, (num, height, width))
        background = strength * np.clip(stripes + noise, 0.0, 1.0)
    background = background.astype("float32")
    if array.ndim == 4:
        background = background[..., None]
        keep = masks[..., None] > 0
    else:
        keep = masks > 0
    return np.where(keep, array, background).astype("float32"), masks
