"""2x2 image mosaics for the Focus metric."""

import numpy as np

from keras_xai.datasets._validation import check_class_labels, check_image_batch
from keras_xai.utils.validation import check_positive_int


def make_mosaics(images, labels, num_mosaics, target_class=None, seed=0):
    """Builds 2x2 mosaics with two target-class and two other-class images.

    Each mosaic tiles four images into a `2H x 2W` grid: two distinct images
    of the target class and two images of other classes, in quadrant
    positions drawn at random per mosaic. The two other images are drawn
    uniformly from all images whose class is not the target, so their
    classes follow the dataset's class frequencies and may or may not be
    equal; they are two distinct images unless only one other-class image
    exists, which is then used twice. A Focus score measures how much of an
    explanation for the target class falls in the target quadrants.

    Args:
        images: array-like. Images of shape `(N, H, W)` or `(N, H, W, C)`,
            any numeric dtype.
        labels: array-like of ints, shape `(N,)`. Class indices.
        num_mosaics: int. Number of mosaics to build, >= 1.
        target_class: int or `None`. The target class of every mosaic.
            Defaults to `None`: each mosaic draws its target uniformly from
            the classes that have at least two images (when images of other
            classes exist).
        seed: int. Seed of every random choice. Defaults to `0`.

    Returns:
        A tuple `(mosaics, target_classes, quadrant_flags, source_indices)`:
        - `mosaics`: shape `(num_mosaics, 2H, 2W)` or
          `(num_mosaics, 2H, 2W, C)`, same dtype as `images`.
        - `target_classes`: int32 `(num_mosaics,)`.
        - `quadrant_flags`: bool `(num_mosaics, 4)`, quadrants ordered
          top-left, top-right, bottom-left, bottom-right; `True` marks the
          two target-class quadrants.
        - `source_indices`: int64 `(num_mosaics, 4)`, the index in `images`
          of the image in each quadrant (same order).

    Raises:
        ValueError: if `num_mosaics < 1`, images and labels differ in length,
            `target_class` has fewer than two images or no image of another
            class exists, or (with `target_class=None`) no class qualifies.

    Example:

    ```python
    (_, _), (x_test, y_test) = fashion_mnist.load_data()
    mosaics, targets, flags, sources = make_mosaics(x_test, y_test, 500)
    mosaics.shape  # (500, 56, 56)
    ```

    Reference: A. Arias-Duart, F. Parés, D. Garcia-Gasulla, V. Giménez-Ábalos,
    "Focus! Rating XAI Methods and Finding Biases", FUZZ-IEEE 2022.
    """
    num_mosaics = check_positive_int(num_mosaics, "num_mosaics")
    array = check_image_batch(images, name="images")
    labels, num_classes = check_class_labels(labels, array.shape[0])
    num_images = labels.shape[0]

    # Images sorted by class: class c occupies order[starts[c]:starts[c] + counts[c]].
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=num_classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    eligible = (counts >= 2) & (num_images - counts >= 1)

    rng = np.random.default_rng(seed)
    if target_class is None:
        if not eligible.any():
            raise ValueError(
                "`labels` must contain a class with at least 2 images and at "
                "least one image of another class to build mosaics. Received "
                f"class counts {counts.tolist()}"
            )
        targets = rng.choice(np.flatnonzero(eligible), size=num_mosaics)
    else:
        target_class = _check_target_class(target_class, counts)
        targets = np.full(num_mosaics, target_class)

    # Two distinct target-class images: `second` skips the rank of `first`.
    n_target = counts[targets]
    first = rng.integers(0, n_target)
    second = rng.integers(0, n_target - 1)
    second = second + (second >= first)
    # Two other-class images, as positions in `order` minus the target block.
    n_other = num_images - n_target
    other_first = rng.integers(0, n_other)
    other_second = rng.integers(0, np.maximum(n_other - 1, 1))
    other_second = np.where(
        n_other >= 2, other_second + (other_second >= other_first), other_first
    )
    start = starts[targets]

    def skip_target_block(position):
        return np.where(position < start, position, position + n_target)

    candidates = np.stack(
        [
            order[start + first],
            order[start + second],
            order[skip_target_block(other_first)],
            order[skip_target_block(other_second)],
        ],
        axis=1,
    )
    # A random permutation per mosaic puts candidates 0 and 1 (the targets)
    # in two random quadrants.
    permutation = np.argsort(rng.random((num_mosaics, 4)), axis=1)
    source_indices = np.take_along_axis(candidates, permutation, axis=1)
    quadrant_flags = permutation < 2

    height, width = array.shape[1:3]
    tiles = array[source_indices]  # (M, 4, H, W, ...)
    tiles = tiles.reshape((num_mosaics, 2, 2) + array.shape[1:])
    tiles = np.swapaxes(tiles, 2, 3)  # (M, 2, H, 2, W, ...)
    mosaics = tiles.reshape((num_mosaics, 2 * height, 2 * width) + array.shape[3:])
    return (
        mosaics,
        targets.astype("int32"),
        quadrant_flags,
        source_indices.astype("int64"),
    )


def _check_target_class(target_class, counts):
    if isinstance(target_class, bool) or not isinstance(
        target_class, (int, np.integer)
    ):
        raise ValueError(
            "`target_class` must be an integer class index or None. "
            f"Received: target_class={target_class!r}"
        )
    target_class = int(target_class)
    count = int(counts[target_class]) if 0 <= target_class < counts.size else 0
    if count < 2:
        raise ValueError(
            "`target_class` must have at least 2 images to fill two quadrants. "
            f"Received: target_class={target_class}, which has {count} image(s)"
        )
    if counts.sum() - count < 1:
        raise ValueError(
            "Mosaics need at least one image of a class other than "
            f"`target_class`. Received: target_class={target_class}, and every "
            f"one of the {count} images has that class"
        )
    return target_class
