"""Segment-overlap loss: multi-view CAMs against a blurred object mask.

This module imports only Keras and `keras_xai.layers`: models in
`keras_xai.applications` import it, so it must not import them (or the
explainers, which import `keras_xai.applications`).
"""

import keras
import numpy as np
from keras import ops

from keras_xai.layers.dihedral_views import inverse_dihedral_views, resolve_views
from keras_xai.utils.validation import check_number

_TEMPERATURE = 10.0
_EPSILON = 1e-7


def auto_blur_kernel_size(side):
    """The paper's blur kernel for a side of `side` pixels: odd, ≈ side/10.

    `round(side / 10)`, plus one when even: 23 at 224 (the paper's value),
    3 at 28, 3 at 32, 11 at 96. A result of 1 means no blur.

    Args:
        side: int. The smaller side of the mask, in pixels.

    Returns:
        An odd int >= 1.
    """
    size = max(1, int(round(side / 10.0)))
    return size if size % 2 else size + 1


def gaussian_kernel(size, sigma=None):
    """A normalised 1-D Gaussian of odd length `size`, as a numpy array.

    Args:
        size: int. Odd kernel length.
        sigma: float or `None`. Standard deviation; `None` uses the OpenCV /
            torchvision default for `size`, `0.3·((size − 1)/2 − 1) + 0.8`.

    Returns:
        float32 array `(size,)` summing to 1.
    """
    size = _check_kernel_size(size)
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1.0) + 0.8
    offsets = np.arange(size, dtype="float64") - (size - 1) / 2.0
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (weights / weights.sum()).astype("float32")


def gaussian_blur(masks, kernel_size):
    """Blurs `(B, H, W)` masks with a separable Gaussian (reflected borders).

    Two 1-D convolutions (`keras.ops.conv`), so the cost is `2·k` per pixel
    and the whole batch is one call each. Borders are reflected, as in
    torchvision's `gaussian_blur`, so a mask that touches the border is not
    darkened there.

    Args:
        masks: float tensor `(B, H, W)`.
        kernel_size: int. Odd, at most `2·min(H, W) − 1`; 1 returns `masks`.

    Returns:
        float32 tensor `(B, H, W)`.
    """
    kernel_size = _check_kernel_size(kernel_size)
    masks = ops.cast(masks, "float32")
    if kernel_size == 1:
        return masks
    height, width = masks.shape[1], masks.shape[2]
    pad = kernel_size // 2
    if pad >= min(height, width):
        raise ValueError(
            "`blur_kernel_size` must be smaller than twice the mask side "
            f"({2 * min(height, width) - 1} at most). Received: "
            f"blur_kernel_size={kernel_size} for masks of size {(height, width)}"
        )
    weights = ops.convert_to_tensor(gaussian_kernel(kernel_size))
    x = ops.pad(
        ops.expand_dims(masks, -1), ((0, 0), (pad, pad), (pad, pad), (0, 0)), "reflect"
    )
    x = ops.conv(x, ops.reshape(weights, (kernel_size, 1, 1, 1)), padding="valid")
    x = ops.conv(x, ops.reshape(weights, (1, kernel_size, 1, 1)), padding="valid")
    return x[..., 0]


def softmax_pool(maps, temperature=_TEMPERATURE, axis=0):
    """Soft maximum over views: `Σ_m softmax_m(τ·maps_m)·maps_m` per pixel.

    A differentiable stand-in for the pixel-wise maximum over views (the
    paper's "SoftMax" pooling): it lies between the mean (`τ → 0`) and the
    maximum (`τ → ∞`) of the views at every pixel.

    Args:
        maps: float tensor, views along `axis` (e.g. `(V, B, H, W)`).
        temperature: float. `τ`, in units of 1 / map value. Defaults to 10.
        axis: int. The views axis. Defaults to 0.

    Returns:
        The pooled tensor, `axis` removed.
    """
    maps = ops.convert_to_tensor(maps)
    if maps.shape[axis] == 1:  # one view: nothing to pool
        return ops.squeeze(maps, axis=axis)
    weights = ops.softmax(temperature * maps, axis=axis)
    return ops.sum(weights * maps, axis=axis)


def segment_overlap_loss(
    cams,
    masks,
    temperature=_TEMPERATURE,
    blur_kernel_size="auto",
    epsilon=_EPSILON,
):
    """Per-image segment-overlap loss `L_SO = 1 − cos(PooledGC, M*)`.

    1. `cams` (one map per view, already in the image's frame, e.g. from
       `inverse_dihedral_views`) are divided by their per-image maximum
       absolute value over views and pixels, so `τ` acts on maps in
       `[0, 1]` (`[-1, 1]` for signed maps) whatever the network's scale;
       the cosine is unaffected by this scale.
    2. Views are pooled with `softmax_pool` (soft maximum per pixel) at the
       maps' own resolution.
    3. The pooled map is resized bilinearly to the mask's size (a no-op if
       equal). Pooling before upsampling: the upsampled pixels are
       interpolations that carry no information of their own, and it is
       `V·(H·W)/(h·w)` times cheaper (392× for 8 views of a 4×4 LeNet map
       at 28×28) — at the full size the pooling cost more than a CE step.
    4. The mask is blurred (`gaussian_blur`, odd kernel ≈ side/10).
    5. `L_SO = 1 − Σ p·m / sqrt((Σ p² + ε)(Σ m² + ε))` per image.

    The paper prints the cosine itself; minimising it would push
    explanations away from the mask, so the loss is one minus it. It lies in
    `[0, 2]` (`[0, 1]` for non-negative maps), is 0 when the pooled map is
    proportional to the blurred mask, and is always finite: an all-zero map
    or an all-zero mask gives a cosine of 0, hence a loss of 1 (with finite
    gradients). An all-zero mask carries no information about where the
    object is; `ExplanationGuidedClassifier` leaves such images out of the
    term instead of pulling their maps towards "nothing".

    Args:
        cams: float tensor `(V, B, h, w)` (`V` views) or `(B, h, w)` (one).
        masks: float tensor `(B, H, W)` or `(B, H, W, 1)`, object = 1.
        temperature: float > 0. `τ` of the soft maximum over views, applied
            to the scaled maps. Defaults to 10.
        blur_kernel_size: `"auto"` (`auto_blur_kernel_size(min(H, W))`), an
            odd int, or `None` (no blur). Defaults to `"auto"`.
        epsilon: float > 0. Added inside the norms. Defaults to 1e-7.

    Returns:
        float32 tensor `(B,)`.

    Example:

    ```python
    batch = dihedral_views(images, 8)
    cams = inverse_dihedral_views(grad_cam(split, batch, ops.tile(y, 8)), 8)
    loss = ops.mean(segment_overlap_loss(cams, masks))
    ```

    Reference:
        "Employing Explanations for Effective Image Classification"
        (segment overlap loss, SO-Loss-Blur).
    """
    temperature = check_positive_float(temperature, "temperature")
    epsilon = check_positive_float(epsilon, "epsilon")
    cams = ops.cast(cams, "float32")
    masks = ops.cast(masks, "float32")
    if len(masks.shape) == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if len(masks.shape) != 3:
        raise ValueError(
            "`masks` must be one (H, W) mask per image, shape (B, H, W). "
            f"Received: masks.shape={tuple(masks.shape)}"
        )
    if len(cams.shape) == 3:
        cams = cams[None]
    if len(cams.shape) != 4:
        raise ValueError(
            "`cams` must be (views, B, h, w) or (B, h, w). "
            f"Received: cams.shape={tuple(cams.shape)}"
        )
    size = tuple(masks.shape[1:3])
    kernel_size = resolve_blur_kernel_size(blur_kernel_size, size)

    scale = ops.max(ops.abs(cams), axis=(0, 2, 3), keepdims=True) + epsilon
    pooled = resize_view_maps(
        softmax_pool(cams / scale, temperature, axis=0)[None], size
    )[0]
    target = masks if kernel_size is None else gaussian_blur(masks, kernel_size)
    dot = ops.sum(pooled * target, axis=(1, 2))
    norms = ops.sqrt(
        (ops.sum(ops.square(pooled), axis=(1, 2)) + epsilon)
        * (ops.sum(ops.square(target), axis=(1, 2)) + epsilon)
    )
    return 1.0 - dot / norms


def resolve_blur_kernel_size(blur_kernel_size, size):
    """The kernel size `blur_kernel_size` means for masks of `size=(H, W)`.

    Returns:
        An odd int, or `None` for no blur.
    """
    if blur_kernel_size is None:
        return None
    if isinstance(blur_kernel_size, str):
        if blur_kernel_size != "auto":
            raise ValueError(
                '`blur_kernel_size` must be "auto", None or an odd positive int. '
                f"Received: blur_kernel_size={blur_kernel_size!r}"
            )
        return auto_blur_kernel_size(min(size))
    return _check_kernel_size(blur_kernel_size)


def check_blur_kernel_size(blur_kernel_size):
    """Validates `blur_kernel_size` (`"auto"`, `None` or an odd int)."""
    if blur_kernel_size is None or blur_kernel_size == "auto":
        return blur_kernel_size
    return resolve_blur_kernel_size(blur_kernel_size, (1, 1))


def _check_kernel_size(size):
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, np.integer))
        or size < 1
        or size % 2 == 0
    ):
        raise ValueError(
            '`blur_kernel_size` must be "auto", None or an odd positive int. '
            f"Received: blur_kernel_size={size!r}"
        )
    return int(size)


def check_positive_float(value, name):
    """Returns `value` as a float, raising `ValueError` unless finite > 0."""
    return check_number(value, name, low=0.0, low_inclusive=False)


def bilinear_matrix(output_size, input_size):
    """`(output_size, input_size)` matrix of 1-D bilinear upsampling.

    Half-pixel centres with clamped borders: the weights
    `keras.ops.image.resize(..., interpolation="bilinear")` uses when
    enlarging, on every backend.
    """
    source = (np.arange(output_size) + 0.5) * (input_size / output_size) - 0.5
    source = np.clip(source, 0.0, input_size - 1)
    low = np.floor(source).astype("int64")
    high = np.minimum(low + 1, input_size - 1)
    fraction = source - low
    matrix = np.zeros((output_size, input_size), "float64")
    rows = np.arange(output_size)
    np.add.at(matrix, (rows, low), 1.0 - fraction)
    np.add.at(matrix, (rows, high), fraction)
    return matrix.astype("float32")


def resize_view_maps(cams, size):
    """Bilinear resize of `(V, B, h, w)` maps to `(V, B, *size)`.

    Upsampling is linear, so it is two small matrix products (`R_h · map ·
    R_wᵀ`): the same numbers as `keras.ops.image.resize`, and a backward
    pass that is a matrix product too (TensorFlow's CPU gradient of
    `ResizeBilinear` was the costliest part of the loss in
    `bench/so_loss.py`). Shrinking falls back to `keras.ops.image.resize`.
    (`keras_xai.explainers.cam.upsample_maps` resizes `(B, h, w)` maps;
    importing it here would make `keras_xai.applications` import itself.)
    """
    height, width = cams.shape[2], cams.shape[3]
    if (height, width) == tuple(size):
        return cams
    if size[0] >= height and size[1] >= width:
        rows = ops.convert_to_tensor(bilinear_matrix(size[0], height))
        columns = ops.convert_to_tensor(bilinear_matrix(size[1], width).T)
        return ops.matmul(ops.matmul(rows, cams), columns)
    views = cams.shape[0]
    flat = ops.reshape(cams, (-1, height, width, 1))
    resized = ops.image.resize(flat, size, interpolation="bilinear")
    return ops.reshape(resized, (views, -1, *size))


@keras.saving.register_keras_serializable(package="keras_xai")
class SegmentOverlapLoss(keras.losses.Loss):
    """Segment-overlap loss between multi-view CAMs and object masks.

    `y_true` holds the masks `(B, H, W)` (object = 1); `y_pred` holds one
    CAM per image and view, `(V·B, h, w)`, in the order of
    `dihedral_views(images, views)` (view-major): the loss maps each view
    back with its inverse transform, pools the views with a soft maximum,
    blurs the masks and returns the mean of `1 − cos` over the batch (see
    `segment_overlap_loss`).

    Args:
        views: int in `[1, 8]` or a tuple of view names (see
            `keras_xai.layers.dihedral_views`). Defaults to 1 (`y_pred` is
            one map per image).
        temperature: float > 0. Soft-maximum temperature on maps scaled to
            a per-image maximum of 1. Defaults to 10.
        blur_kernel_size: `"auto"`, an odd int or `None` (no blur).
            Defaults to `"auto"` (≈ side/10, 23 at 224).
        epsilon: float. Added inside the norms. Defaults to 1e-7.
        reduction, name, dtype: as for `keras.losses.Loss`, with `name`
            defaulting to `"segment_overlap_loss"`.

    Example:

    ```python
    loss = SegmentOverlapLoss(views=8)
    value = loss(masks, grad_cam(split, dihedral_views(images, 8), ops.tile(y, 8)))
    ```

    Reference:
        "Employing Explanations for Effective Image Classification"
        (segment overlap loss).
    """

    def __init__(
        self,
        views=1,
        temperature=_TEMPERATURE,
        blur_kernel_size="auto",
        epsilon=_EPSILON,
        reduction="sum_over_batch_size",
        name="segment_overlap_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        names = resolve_views(views)
        self.views = int(views) if isinstance(views, (int, np.integer)) else names
        self.temperature = check_positive_float(temperature, "temperature")
        self.blur_kernel_size = check_blur_kernel_size(blur_kernel_size)
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def call(self, y_true, y_pred):
        cams = inverse_dihedral_views(y_pred, self.views)
        return segment_overlap_loss(
            cams,
            y_true,
            temperature=self.temperature,
            blur_kernel_size=self.blur_kernel_size,
            epsilon=self.epsilon,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "views": self.views,
            "temperature": self.temperature,
            "blur_kernel_size": self.blur_kernel_size,
            "epsilon": self.epsilon,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("views"), list):
            config["views"] = tuple(config["views"])
        return cls(**config)
