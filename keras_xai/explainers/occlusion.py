"""`Occlusion`: attribution by sliding a baseline-valued patch over the image."""

import numpy as np
from keras import ops

from keras_xai.explainers.perturbation import (
    PerturbationExplainer,
    check_background,
    evaluate_in_chunks,
    pad_rows,
)


def _pair(value, name):
    """An int or a pair of ints `>= 1`, as a `(height, width)` tuple."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
        for v in pair
    ):
        raise ValueError(
            f"`{name}` must be a positive int or a pair of positive ints "
            f"(height, width). Received: {name}={value!r}"
        )
    return int(pair[0]), int(pair[1])


def patch_starts(size, patch, stride):
    """Start offsets of the patches along one axis of length `size`.

    Patches start every `stride` pixels; when the last one stops short of
    the border, one more patch is put flush with the border, so every pixel
    is covered whenever `stride <= patch`.
    """
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] + patch < size and stride <= patch:
        starts.append(size - patch)
    return np.asarray(starts, dtype="int32")


def coverage(starts, patch, size):
    """`(num_patches, size)` bool: which pixels each patch covers."""
    positions = np.arange(size)[None, :]
    return (positions >= starts[:, None]) & (positions < starts[:, None] + patch)


class Occlusion(PerturbationExplainer):
    """Occlusion: how much the target score drops when a patch is hidden.

    A `patch_size` patch filled with `baseline` slides over the image with
    step `stride`. The attribution of a pixel is the mean, over the patches
    covering it, of `score(x) - score(x with the patch occluded)`, so
    positive values mark evidence for the target class. A last patch is
    placed flush with the bottom/right border when the stride does not land
    there, so every pixel is covered (when `stride <= patch_size`; with a
    larger stride, uncovered pixels get 0).

    All occluded copies of a batch are scored `batch_size` at a time by one
    compiled function, which gathers each copy's image and builds its patch
    mask from the patch position; the copies exist one chunk at a time,
    inside the compiled call, never all at once.

    Args:
        model: `keras.Model`. A functional classifier.
        patch_size: int or `(height, width)`. Side of the occluding patch,
            in pixels. Defaults to `4`.
        stride: int, `(height, width)` or `None`. Step between patches.
            Defaults to `None` (`patch_size`: non-overlapping patches).
        baseline: float or array broadcastable to `(H, W, C)`. Value of the
            occluded pixels, in the model's input units (e.g. `0.0` black,
            or a per-channel mean). Defaults to `0.0`.
        **kwargs: `PerturbationExplainer` options: `output` (`"logits"`,
            the final softmax skipped as for gradient methods, or
            `"probabilities"`), `batch_size` (occluded images per compiled
            model call), `compile`, `verbose`.

    Example:

    ```python
    explainer = keras_xai.explainers.Occlusion(model, patch_size=4, stride=2)
    maps = explainer(images, targets=labels)  # (B, H, W) float32
    ```

    Reference:
        Zeiler and Fergus, "Visualizing and Understanding Convolutional
        Networks", ECCV 2014.
    """

    name = "occlusion"

    def __init__(
        self,
        model,
        patch_size=4,
        stride=None,
        baseline=0.0,
        **kwargs,
    ):
        super().__init__(model, **kwargs)
        self.patch_size = _pair(patch_size, "patch_size")
        self.stride = self.patch_size if stride is None else _pair(stride, "stride")
        image_shape = tuple(model.input.shape[1:])
        self.baseline = check_background(baseline, image_shape, "baseline")
        for axis, (patch, size) in enumerate(zip(self.patch_size, image_shape[:2])):
            if size is not None and patch > size:
                raise ValueError(
                    f"`patch_size` must fit in the image {image_shape[:2]}. "
                    f"Received: patch_size={self.patch_size} (axis {axis})"
                )

    def occluded_scores(self, baseline, batch, index, top, left, targets):
        """Traceable: target scores of images with one patch occluded each.

        Args:
            baseline: float32 tensor `(H, W, C)`. The fill value.
            batch: float32 tensor `(b, H, W, C)`. The images explained.
            index: int32 tensor `(n,)`. The image of each row.
            top: int32 tensor `(n,)`. Patch top row.
            left: int32 tensor `(n,)`. Patch left column.
            targets: int32 tensor `(n,)`.

        Returns:
            float32 tensor `(n,)`.
        """
        images = ops.take(batch, index, axis=0)
        height, width = images.shape[1], images.shape[2]
        rows = ops.arange(height, dtype="int32")[None, :]
        cols = ops.arange(width, dtype="int32")[None, :]
        top, left = top[:, None], left[:, None]
        in_rows = ops.logical_and(rows >= top, rows < top + self.patch_size[0])
        in_cols = ops.logical_and(cols >= left, cols < left + self.patch_size[1])
        mask = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
        occluded = ops.where(mask[..., None], baseline[None], images)
        return self.target_scores(occluded, targets)

    def explain_batch(self, images, targets):
        batch, height, width, channels = images.shape
        if self.patch_size[0] > height or self.patch_size[1] > width:
            raise ValueError(
                f"`patch_size` must fit in the image ({height}, {width}). "
                f"Received: patch_size={self.patch_size}"
            )
        baseline = check_background(
            self.baseline, (height, width, channels), "baseline"
        )
        baseline = np.broadcast_to(baseline, (height, width, channels))
        tops = patch_starts(height, self.patch_size[0], self.stride[0])
        lefts = patch_starts(width, self.patch_size[1], self.stride[1])
        num_patches = len(tops) * len(lefts)

        # One row per (image, patch). The compiled code gathers each row's
        # image from the batch (passed once, padded to `batch_size` images
        # so one trace serves every batch) and occludes it: the copies
        # exist one chunk at a time, and only inside the compiled call.
        index = np.repeat(np.arange(batch, dtype="int32"), num_patches)
        top = np.tile(np.repeat(tops, len(lefts)), batch)
        left = np.tile(np.tile(lefts, len(tops)), batch)
        shared = (
            ops.convert_to_tensor(baseline.astype("float32")),
            ops.convert_to_tensor(pad_rows(images, max(batch, self.batch_size))),
        )
        occluded = evaluate_in_chunks(
            self.compiled("occluded", self.occluded_scores),
            [index, top, left, np.repeat(targets, num_patches).astype("int32")],
            shared=shared,
            batch_size=self.batch_size,
        )
        drops = self.scores(images, targets)[:, None] - occluded.reshape(
            batch, num_patches
        )
        drops = drops.reshape(batch, len(tops), len(lefts)).astype("float64")

        # Patches are separable (rows x columns), so the sum over covering
        # patches is a product with the two coverage matrices.
        row_cover = coverage(tops, self.patch_size[0], height).astype("float64")
        col_cover = coverage(lefts, self.patch_size[1], width).astype("float64")
        total = np.einsum("bij,ih,jw->bhw", drops, row_cover, col_cover)
        count = np.outer(row_cover.sum(0), col_cover.sum(0))
        maps = np.divide(
            total, count, out=np.zeros_like(total), where=count > 0
        ).astype("float32")
        self.advance(batch)
        return maps
