"""Shortcut (decoy) datasets: a class-coded patch that a model can learn instead
of the object, in several variants and test splits."""

import collections

import numpy as np

from keras_xai.datasets.decoy import check_decoy_inputs, draw_patches
from keras_xai.datasets.masks import object_masks
from keras_xai.utils.validation import check_positive_int

SHORTCUT_VARIANTS = ("ross", "margin", "anywhere", "clean")
SHORTCUT_SPLITS = ("train", "random", "far", "none")

ShortcutSplit = collections.namedtuple(
    "ShortcutSplit",
    ["images", "labels", "object_masks", "decoy_masks", "patch_classes"],
)
ShortcutSplit.__doc__ = """One split of a shortcut dataset.

Fields:
    images: the images with the patch drawn in, same dtype and channel
        layout as the input (padded for the `margin` and `anywhere`
        variants).
    labels: int32 `(N,)`. The true classes.
    object_masks: float32 `(N, H, W)` in {0, 1}: the object (pixels covered
        by the patch excluded). The *relevant* region.
    decoy_masks: float32 `(N, H, W)` in {0, 1}: the patch (all zeros for the
        `none` split). The *irrelevant* region Ross et al. annotate.
    patch_classes: int32 `(N,)`. The class each patch's grey level codes,
        `-1` where there is no patch.
"""


def make_shortcut_split(
    images,
    labels,
    variant,
    split,
    num_classes=None,
    seed=0,
    patch_size=4,
    pad=4,
):
    """Draws a class-coded grey patch on every image: a learnable shortcut.

    The patch is a `patch_size` x `patch_size` square of grey level
    `decoy_levels(num_classes)[c]` (Ross et al.'s `255 - 25 * c` for ten
    classes), where `c` depends on `split`:

    - `"train"`: `c` is the label, so the patch predicts the class.
    - `"random"`: `c` is drawn uniformly from all classes (it may equal the
      label), Ross et al.'s test protocol.
    - `"far"`: `c = (label + num_classes // 2) % num_classes`, a patch that
      always codes a class far from the true one (adversarial).
    - `"none"`: no patch (the same canvas, for clean training and testing).

    Where the patch goes depends on `variant`:

    - `"ross"`: Ross et al.'s Decoy-MNIST construction. In one of the four
      corners of the image itself (no padding), the corner's row side and
      column side each drawn with probability 1/2; the patch overwrites
      whatever is there, object pixels included.
    - `"margin"`: the image is padded with `pad` black pixels on every side
      and the patch drawn in a random corner of the canvas, never on the
      object.
    - `"anywhere"`: the image is padded with `pad` black pixels and the
      patch drawn at a position chosen uniformly among all positions where
      it touches no object pixel: its location carries no information, so
      a model cannot ignore it by discarding a few fixed input positions.
    - `"clean"`: no patch in any split, the images as they are: the control
      benchmark where every arm trains and is tested without a shortcut
      (e.g. IMPACTX against its own controls on plain data).

    Args:
        images: array-like. uint8 images (0-255) or float images in [0, 1],
            shape `(N, H, W)` or `(N, H, W, C)`, dark background.
        labels: array-like of ints, shape `(N,)`.
        variant: str. One of `SHORTCUT_VARIANTS`.
        split: str. One of `SHORTCUT_SPLITS`.
        num_classes: int or `None`. Number of classes; `None` infers
            `max(labels) + 1` (pass it when a split may lack classes).
        seed: int. Seed of the positions and the random patch classes.
            Defaults to `0`.
        patch_size: int >= 1. Side of the patch. Defaults to `4`.
        pad: int. Black margin of the `margin` and `anywhere` variants,
            `>= patch_size`; ignored by `ross`. Defaults to `4`.

    Returns:
        A `ShortcutSplit`.

    Raises:
        ValueError: on an unknown `variant` or `split`, a patch that does
            not fit, or images and labels that are not a valid batch.

    Example:

    ```python
    (x, y), _ = keras_xai.datasets.fashion_mnist.load_data()
    train = make_shortcut_split(x, y, "ross", "train", num_classes=10)
    train.images.shape, train.decoy_masks.sum(axis=(1, 2))[:3]
    # ((60000, 28, 28), array([16., 16., 16.], dtype=float32))
    ```

    Reference: A. S. Ross, M. C. Hughes, F. Doshi-Velez, "Right for the Right
    Reasons: Training Differentiable Models by Constraining their
    Explanations", IJCAI 2017 (Decoy MNIST).
    """
    if variant not in SHORTCUT_VARIANTS:
        raise ValueError(
            f"`variant` must be one of {SHORTCUT_VARIANTS}. Received: "
            f"variant={variant!r}"
        )
    if split not in SHORTCUT_SPLITS:
        raise ValueError(
            f"`split` must be one of {SHORTCUT_SPLITS}. Received: split={split!r}"
        )
    patch_size = check_positive_int(patch_size, "patch_size")
    array, labels, num_classes = check_decoy_inputs(images, labels, num_classes)
    if variant == "clean":
        split = "none"
    if variant in ("ross", "clean"):
        pad = 0
    else:
        pad = check_positive_int(pad, "pad")
        if pad < patch_size:
            raise ValueError(
                f"`pad` must be >= `patch_size` for variant={variant!r}, so "
                f"the patch fits beside the object. Received: pad={pad}, "
                f"patch_size={patch_size}"
            )
    height, width = array.shape[1] + 2 * pad, array.shape[2] + 2 * pad
    if patch_size > min(height, width):
        raise ValueError(
            f"`patch_size` must fit in the {height}x{width} canvas. "
            f"Received: patch_size={patch_size}"
        )

    # Validates the value range too (0-255 integers, [0, 1] floats).
    objects = np.pad(object_masks(array), ((0, 0), (pad, pad), (pad, pad)))
    padding = ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (array.ndim - 3)
    canvas = np.pad(array, padding)
    num_images = array.shape[0]
    rng = np.random.default_rng(seed)

    if split == "none":
        classes = np.full(num_images, -1, dtype="int32")
        decoys = np.zeros((num_images, height, width), dtype="float32")
        return ShortcutSplit(canvas, labels, objects, decoys, classes)

    if variant == "anywhere":
        top, left = _free_positions(objects, patch_size, rng)
    else:
        # Ross et al.: each of the two sides drawn with probability 1/2.
        top = np.where(rng.random(num_images) < 0.5, 0, height - patch_size)
        left = np.where(rng.random(num_images) < 0.5, 0, width - patch_size)
    if split == "train":
        classes = labels
    elif split == "random":
        classes = rng.integers(0, num_classes, size=num_images)
    else:
        classes = (labels + num_classes // 2) % num_classes
    classes = classes.astype("int32")

    decoys = draw_patches(canvas, top, left, patch_size, classes, num_classes)
    objects = objects * (1.0 - decoys)
    return ShortcutSplit(canvas, labels, objects, decoys, classes)


def _free_positions(objects, patch_size, rng):
    """Top-left corners, uniform among windows with no object pixel."""
    num_images, height, width = objects.shape
    # Window sums of the object mask through a summed-area table.
    table = np.pad(
        np.cumsum(np.cumsum(objects, axis=1), axis=2), ((0, 0), (1, 0), (1, 0))
    )
    k = patch_size
    sums = table[:, k:, k:] - table[:, :-k, k:] - table[:, k:, :-k] + table[:, :-k, :-k]
    free = (sums < 0.5).reshape(num_images, -1)
    # pad >= patch_size leaves the margin's corners free: counts >= 1.
    counts = free.sum(axis=1)
    # The r-th free window of each image, r uniform in [0, count).
    choice = np.floor(rng.random(num_images) * counts).astype("int64")
    index = np.argmax(np.cumsum(free, axis=1) > choice[:, None], axis=1)
    columns = width - k + 1
    return index // columns, index % columns
