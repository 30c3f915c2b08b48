"""Decoy datasets: a corner patch whose grey level leaks the class in training."""

import numpy as np

from keras_xai.datasets._validation import (
    check_class_labels,
    check_fraction,
    check_image_batch,
)
from keras_xai.datasets.masks import object_masks
from keras_xai.utils.validation import check_positive_int

# Brightest and darkest patch levels (0-255). Ross et al. use 255 - 25 * y for
# ten classes, i.e. 255 down to 30; the floor keeps the darkest patch clearly
# brighter than the black background and above `object_masks`' threshold.
_BRIGHTEST = 255
_DARKEST = 30


def decoy_levels(num_classes):
    """Returns the patch grey level (0-255) of each class, as an int array.

    Level `255 - round(225 * c / (num_classes - 1))` for class `c`: a
    decreasing, evenly spaced map from 255 (class 0) to 30 (the last class);
    for ten classes this is Ross et al.'s `255 - 25 * c`. A single class gets
    255.

    Args:
        num_classes: int. Number of classes, >= 1.

    Returns:
        An int64 numpy array of shape `(num_classes,)`.

    Example:

    ```python
    decoy_levels(10)  # array([255, 230, 205, 180, 155, 130, 105, 80, 55, 30])
    ```
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    if num_classes == 1:
        return np.array([_BRIGHTEST], dtype="int64")
    steps = np.arange(num_classes) / (num_classes - 1)
    return np.round(_BRIGHTEST - (_BRIGHTEST - _DARKEST) * steps).astype("int64")


def check_decoy_inputs(images, labels, num_classes):
    """Validated `(images array, int32 labels, num_classes)` for a decoy builder.

    Images must be a non-empty batch of uint8 (0-255) or float ([0, 1])
    images `(N, H, W)` or `(N, H, W, C)`; labels one class index per image.
    """
    array = check_image_batch(images, name="images")
    if array.dtype == np.bool_:
        raise ValueError(
            "`images` must be integer (0-255) or float ([0, 1]) images. "
            f"Received: images.dtype={array.dtype}"
        )
    labels, num_classes = check_class_labels(
        labels, array.shape[0], num_classes=num_classes
    )
    return array, labels, num_classes


def draw_patches(canvas, top, left, patch_size, classes, num_classes):
    """Draws each image's square patch, of its class's grey level, in place.

    Args:
        canvas: array `(N, H, W)` or `(N, H, W, C)`, uint8 or float.
        top, left: int arrays `(N,)`. Each patch's top-left corner.
        patch_size: int. Side of the patches.
        classes: int array `(N,)`. The class each patch's level codes
            (`decoy_levels`; divided by 255 for float canvases).
        num_classes: int.

    Returns:
        float32 `(N, H, W)` masks of the patches.
    """
    levels = decoy_levels(num_classes)[classes]
    if np.issubdtype(canvas.dtype, np.floating):
        levels = levels / 255.0
    levels = levels.astype(canvas.dtype)
    offsets = np.arange(patch_size)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    batch = np.arange(canvas.shape[0])[:, None, None]
    canvas[batch, rows, cols] = levels.reshape((-1,) + (1,) * (canvas.ndim - 1))
    patches = np.zeros(canvas.shape[:3], dtype="float32")
    patches[batch, rows, cols] = 1.0
    return patches


def make_decoy(
    images,
    labels,
    split,
    seed=0,
    num_classes=None,
    patch_size=4,
    pad=4,
    train_fraction=1.0,
):
    """Builds Ross et al.'s decoy variant of a black-background image dataset.

    Every image is padded with `pad` black pixels on each side (28x28 becomes
    36x36 with `pad=4`) and gets a `patch_size` x `patch_size` square patch in
    one of the four corners of the padded canvas, the corner drawn uniformly
    per image. The patch lies entirely in the margin, so it never covers the
    object (garments in Fashion-MNIST often reach the image corners) and an
    object mask separates it from the object.

    The patch's grey level (the same on every channel) is
    `decoy_levels(num_classes)[c]`: from 255 for class 0 down to 30 for the
    last class, evenly spaced (`255 - 25 * c` for ten classes).

    - `split="train"`: `c` is the image's label for a fraction
      `train_fraction` of the images (drawn at random) and a uniformly random
      class for the others, so the patch is a shortcut to the label.
    - `split="test"`: `c` is a uniformly random class for every image,
      independent of the label, so a model relying on the patch fails.

    Args:
        images: array-like. uint8 images (0-255) or float images in [0, 1],
            of shape `(N, H, W)` or `(N, H, W, C)`, black background.
        labels: array-like of ints, shape `(N,)`. Class indices.
        split: str. `"train"` (level encodes the class) or `"test"` (random
            level).
        seed: int. Seed for the corners and random levels. Defaults to `0`.
        num_classes: int or `None`. Number of classes; fixes the levels.
            Defaults to `None`, inferred as `max(labels) + 1` -- pass it
            explicitly when a split may lack the last classes, or train and
            test levels will not agree.
        patch_size: int. Side of the square patch in pixels, 1 <= patch_size
            <= pad. Defaults to `4`.
        pad: int. Black margin added on every side, >= patch_size.
            Defaults to `4`.
        train_fraction: float. With `split="train"`, the fraction of images
            whose patch encodes the label, in [0, 1]; lower values give a
            weaker shortcut. Ignored for `split="test"`. Defaults to `1.0`.

    Returns:
        A tuple `(decoy_images, masks)`:
        - `decoy_images`: shape `(N, H + 2 * pad, W + 2 * pad)` or
          `(N, H + 2 * pad, W + 2 * pad, C)`, same dtype as `images`; the
          padded originals with the patch drawn in. Float images get levels
          divided by 255.
        - `masks`: float32 `(N, H + 2 * pad, W + 2 * pad)` in {0, 1}, the
          `object_masks` of the padded originals (default threshold 0.1). They
          mark the object, never the patch.

    Raises:
        ValueError: on a bad `split`, `patch_size`, `pad`, `train_fraction`
            or `num_classes`, images that are not a valid non-empty batch, or
            labels that are not one class index per image.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_decoy, masks = make_decoy(x_train, y_train, "train", num_classes=10)
    x_decoy_test, _ = make_decoy(x_test, y_test, "test", num_classes=10, seed=1)
    x_decoy.shape  # (60000, 36, 36)
    ```

    Reference: A. S. Ross, M. C. Hughes, F. Doshi-Velez, "Right for the Right
    Reasons: Training Differentiable Models by Constraining their
    Explanations", IJCAI 2017 (decoy MNIST).
    """
    if split not in ("train", "test"):
        raise ValueError(
            f"`split` must be 'train' or 'test'. Received: split={split!r}"
        )
    patch_size = check_positive_int(patch_size, "patch_size")
    pad = check_positive_int(pad, "pad")
    if patch_size > pad:
        raise ValueError(
            "`patch_size` must be <= `pad` so the patch lies in the black margin "
            f"and never covers the object. Received: patch_size={patch_size}, "
            f"pad={pad}"
        )
    train_fraction = check_fraction(train_fraction, "train_fraction")
    array, labels, num_classes = check_decoy_inputs(images, labels, num_classes)
    num_images = array.shape[0]

    # Also validates the value range (0-255 integers, [0, 1] floats). Padding
    # with black adds only background connected to the border, so the masks of
    # the padded images are the padded masks, at a fraction of the cost.
    masks = np.pad(object_masks(array), ((0, 0), (pad, pad), (pad, pad)))
    padding = ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (array.ndim - 3)
    padded = np.pad(array, padding)

    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 4, size=num_images)
    random_classes = rng.integers(0, num_classes, size=num_images)
    if split == "train":
        encodes_label = rng.random(num_images) < train_fraction
        patch_classes = np.where(encodes_label, labels, random_classes)
    else:
        patch_classes = random_classes
    # Corners 0-3: top-left, top-right, bottom-left, bottom-right.
    height, width = padded.shape[1:3]
    top = np.where(corners >= 2, height - patch_size, 0)
    left = np.where(corners % 2 == 1, width - patch_size, 0)
    draw_patches(padded, top, left, patch_size, patch_classes, num_classes)
    return padded, masks
