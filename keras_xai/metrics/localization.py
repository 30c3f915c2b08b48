"""Localisation metrics: maps against object masks and keypoints."""

import numpy as np

from keras_xai.metrics._validation import check_maps, check_masks, check_number
from keras_xai.metrics.direction import HIGHER, LOWER, declare_direction
from keras_xai.utils.validation import check_labels, check_positive_int, to_numpy


def normalize_per_image(maps):
    """Min-max normalises each `(H, W)` map of a batch to [0, 1].

    A constant map (max == min) becomes all zeros: it highlights nothing.

    Args:
        maps: float numpy array `(N, H, W)`.

    Returns:
        float64 numpy array `(N, H, W)`.

    Example:

    ```python
    normalize_per_image(np.array([[[2.0, 4.0, 6.0]]]))  # [[[0., 0.5, 1.]]]
    ```
    """
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


@declare_direction(HIGHER)
def iou(maps, masks, threshold=0.3):
    """Intersection over union of thresholded maps with object masks.

    Each map is min-max normalised to [0, 1] on its own, and the pixels with
    normalised value `>= threshold` form its region (a constant map has no
    region). The score is `|region ∩ mask| / |region ∪ mask|`. When both
    region and mask are empty the score is 1.0 (they agree); when only one
    is empty it is 0.0.

    Args:
        maps: array-like `(N, H, W)`. Attribution maps (numpy or a backend
            tensor), finite; signed maps are normalised over their full
            range.
        masks: array-like `(N, H, W)`. Binary object masks (bool or 0/1) of
            the same size.
        threshold: float. Threshold in [0, 1] on the normalised map.
            Defaults to `0.3`, as in the ensembles paper.

    Returns:
        float64 numpy array `(N,)` in [0, 1]. Higher is better.

    Raises:
        ValueError: if the shapes differ or are not `(N, H, W)`, a map holds
            NaN/Inf, a mask is not binary, or `threshold` is not in [0, 1].

    Example:

    ```python
    iou(GradCAM(model)(images, labels), masks).mean()
    ```

    Reference: M. Pazzani, S. Soltani, S. Kumar, K. Alipour, A. Ahamed,
    "Improving Explanations of Image Classifiers: Ensembles and Multitask
    Learning", "IoU" with a default threshold of 0.3.
    """
    intersection, union = overlap_pixels(maps, masks, threshold)
    return np.where(union > 0, intersection / np.maximum(union, 1), 1.0)


def overlap_pixels(maps, masks, threshold=0.3):
    """Intersection and union, in pixels, of thresholded maps with masks.

    The pixel counts behind `iou` (Pazzani et al.'s tables report them):
    each map is min-max normalised per image and thresholded at
    `threshold`; a constant map has no region.

    Args:
        maps: array-like `(N, H, W)`. Attribution maps.
        masks: array-like `(N, H, W)`. Binary ground-truth masks.
        threshold: float in [0, 1]. Defaults to `0.3`.

    Returns:
        `(intersection, union)`: float64 numpy arrays `(N,)`.

    Example:

    ```python
    inside, covered = overlap_pixels(gradcam_maps, object_masks(images))
    ```
    """
    maps = check_maps(maps, "maps")
    masks = check_masks(masks, maps.shape)
    threshold = check_number(threshold, "threshold", 0.0, 1.0)
    # A constant map has no region (min-max normalisation is undefined).
    span = maps.max(axis=(1, 2)) > maps.min(axis=(1, 2))
    region = (normalize_per_image(maps) >= threshold) & span[:, None, None]
    return (
        np.sum(region & masks, axis=(1, 2)).astype("float64"),
        np.sum(region | masks, axis=(1, 2)).astype("float64"),
    )


@declare_direction(HIGHER)
def mean_iou(cams, masks, threshold=0.5, labels=None, normalize=True):
    """Dataset mIoU of CAMs thresholded at 0.5, as in segmentation benchmarks.

    The explanation-consistency paper scores "mIoU between the ground-truth
    regions and thresholded activation maps", CAMs being heatmaps in [0, 1]
    thresholded at 0.5, "following previous works", without spelling the
    mean out. We follow the PASCAL VOC segmentation definition it refers
    to: every image is a segmentation into background and its object's
    class (pixels with CAM `>= threshold` predicted as the object),
    intersections and unions are summed over the whole dataset per class,
    and mIoU is the mean of the per-class IoUs. Without `labels` the two
    classes are background and foreground; with `labels` each object class
    has its own IoU (the VOC mIoU over background + the classes present). A
    class whose union is empty everywhere is left out of the mean.

    Args:
        cams: array-like `(N, H, W)`. Class activation maps.
        masks: array-like `(N, H, W)`. Binary object masks of the explained
            class.
        threshold: float. Threshold on the (normalised) CAM, in [0, 1].
            Defaults to `0.5`.
        labels: array-like of ints `(N,)` or `None`. Class of each image's
            object; `None` pools all objects into one foreground class.
            Defaults to `None`.
        normalize: bool. Min-max normalise each CAM to [0, 1] first (a
            constant CAM predicts background only). With `False` the raw
            values are thresholded. Defaults to `True`.

    Returns:
        float, the mIoU over the dataset in [0, 1]. Higher is better.

    Raises:
        ValueError: on mismatched or invalid shapes, NaN/Inf, non-binary
            masks, or an invalid `threshold` or `labels`.

    Example:

    ```python
    mean_iou(XGradCAM(model)(images, labels), masks, labels=labels)
    ```

    Reference: H. Wu et al., "Improving Network Interpretability via
    Explanation Consistency Evaluation" (Sec. IV-A, CAM threshold 0.5);
    M. Everingham et al., "The PASCAL Visual Object Classes Challenge",
    IJCV 2010 (segmentation IoU).
    """
    cams = check_maps(cams, "cams")
    masks = check_masks(masks, cams.shape)
    threshold = check_number(threshold, "threshold", 0.0, 1.0)
    if not isinstance(normalize, (bool, np.bool_)):
        raise ValueError(f"`normalize` must be a bool. Received: {normalize!r}")
    if normalize:
        span = cams.max(axis=(1, 2)) > cams.min(axis=(1, 2))
        predicted = (normalize_per_image(cams) >= threshold) & span[:, None, None]
    else:
        predicted = cams >= threshold
    num = cams.shape[0]
    if labels is None:
        labels = np.zeros(num, dtype="int64")
    else:
        labels = check_labels(labels, np.iinfo(np.int32).max, length=num)
    foreground_i = np.sum(predicted & masks, axis=(1, 2))
    foreground_u = np.sum(predicted | masks, axis=(1, 2))
    background_i = np.sum(~predicted & ~masks)
    background_u = np.sum(~predicted | ~masks)
    classes, inverse = np.unique(labels, return_inverse=True)
    class_i = np.bincount(inverse, weights=foreground_i, minlength=classes.size)
    class_u = np.bincount(inverse, weights=foreground_u, minlength=classes.size)
    intersections = np.concatenate([[background_i], class_i])
    unions = np.concatenate([[background_u], class_u])
    present = unions > 0
    return float(np.mean(intersections[present] / unions[present]))


def area_downsample(maps, size):
    """Resizes `(N, H, W)` maps to `(N, size, size)` by area averaging.

    Each output cell is the mean of the input over the cell's footprint,
    fractional pixels weighted by their overlap (like OpenCV's INTER_AREA),
    so block sizes need not divide the image; for `H = k * size` this is
    exact `k x k` block averaging.

    Args:
        maps: float numpy array `(N, H, W)`.
        size: int. Output side.

    Returns:
        float64 numpy array `(N, size, size)`.

    Example:

    ```python
    area_downsample(np.ones((2, 28, 28)), 14).shape  # (2, 14, 14)
    ```
    """
    rows = _area_weights(maps.shape[1], size)
    cols = _area_weights(maps.shape[2], size)
    return np.einsum("ih,nhw,jw->nij", rows, maps, cols)


def _area_weights(length, size):
    """`(size, length)` matrix averaging `length` pixels into `size` cells."""
    edges = np.linspace(0.0, length, size + 1)
    pixel = np.arange(length)
    overlap = np.clip(
        np.minimum(edges[1:, None], pixel[None, :] + 1.0)
        - np.maximum(edges[:-1, None], pixel[None, :]),
        0.0,
        None,
    )
    return overlap / overlap.sum(axis=1, keepdims=True)


@declare_direction(HIGHER)
def pearson_correlation(maps, masks, size=14):
    """Pearson correlation of maps and masks after area-downsampling both.

    Both are area-averaged to `size x size` (to reduce pixel noise, as in
    the ensembles paper), flattened, and correlated per image. When either
    downsampled array is constant (zero variance) the correlation is
    undefined; the score is then 0.0 (no linear relation).

    Args:
        maps: array-like `(N, H, W)`. Attribution maps, finite.
        masks: array-like `(N, H, W)`. Masks (binary or soft, finite) or
            reference maps of the same size.
        size: int. Side of the downsampled grid. Defaults to `14`.

    Returns:
        float64 numpy array `(N,)` in [-1, 1]. Higher is better.

    Raises:
        ValueError: on mismatched or invalid shapes, NaN/Inf, or a `size`
            that is not a positive int.

    Example:

    ```python
    pearson_correlation(maps, masks).mean()
    ```

    Reference: Pazzani et al. (the ensembles paper, in full under `iou`),
    "Correlation", masks downsampled to 14x14.
    """
    maps = check_maps(maps, "maps")
    masks = check_maps(masks, "masks", shape=maps.shape)
    size = check_positive_int(size, "size")
    a = area_downsample(maps, size).reshape(maps.shape[0], -1)
    b = area_downsample(masks, size).reshape(maps.shape[0], -1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    a_ss, b_ss = np.sum(a * a, axis=1), np.sum(b * b, axis=1)
    # Zero variance up to float error of the downsampling, relative to scale.
    defined = (a_ss > _noise_floor(maps)) & (b_ss > _noise_floor(masks))
    correlation = np.sum(a * b, axis=1) / np.sqrt(np.where(defined, a_ss * b_ss, 1.0))
    return np.where(defined, np.clip(correlation, -1.0, 1.0), 0.0)


def _noise_floor(maps):
    scale = np.abs(maps).reshape(maps.shape[0], -1).max(axis=1)
    return (1e-9 * scale) ** 2 * maps[0].size


def center_of_mass(maps):
    """Centre of mass of each map's positive relevance, normalised coordinates.

    `R = sum_i w_i r_i / sum_i w_i` with `w = max(map, 0)`, where pixel
    `(i, j)` sits at its centre, `r = ((i + 0.5) / H, (j + 0.5) / W)`; so
    coordinates lie in (0, 1), `(0, 0)` being the top-left corner of the
    image. A map without positive relevance has its centre of mass at the
    image centre `(0.5, 0.5)` (that of a uniform map).

    Args:
        maps: array-like `(N, H, W)`. Attribution maps, finite.

    Returns:
        float64 numpy array `(N, 2)`: `(row, column)` per map.

    Raises:
        ValueError: if `maps` is not `(N, H, W)` or holds NaN/Inf.

    Example:

    ```python
    center_of_mass(maps)[0]  # array([0.42, 0.61])
    ```

    Reference: Pazzani et al. (the ensembles paper, in full under `iou`),
    Eq. 3.
    """
    maps = check_maps(maps, "maps")
    _, height, width = maps.shape
    weights = np.maximum(maps, 0.0)
    total = weights.sum(axis=(1, 2))
    rows = (np.arange(height) + 0.5) / height
    cols = (np.arange(width) + 0.5) / width
    row = np.einsum("nhw,h->n", weights, rows)
    col = np.einsum("nhw,w->n", weights, cols)
    empty = total <= 0
    safe = np.where(empty, 1.0, total)
    return np.stack(
        [np.where(empty, 0.5, row / safe), np.where(empty, 0.5, col / safe)], axis=1
    )


@declare_direction(LOWER)
def center_of_mass_distance(maps, keypoints):
    """Euclidean distance from each map's centre of mass to a keypoint.

    Both are in normalised image coordinates (`center_of_mass`): row / H and
    column / W, so the distance is in fractions of the image side (the
    diagonal of the image is `sqrt(2)`).

    Args:
        maps: array-like `(N, H, W)`. Attribution maps.
        keypoints: array-like `(N, 2)`. `(row, column)` of each annotated
            point in [0, 1] (pixel `(i, j)` is `((i + 0.5) / H, (j + 0.5) / W)`).

    Returns:
        float64 numpy array `(N,)`. Lower is better.

    Raises:
        ValueError: if `keypoints` is not `(N, 2)` in [0, 1] and finite, or
            `maps` is invalid.

    Example:

    ```python
    center_of_mass_distance(maps, beak_points).mean()
    ```

    Reference: Pazzani et al. (the ensembles paper, in full under `iou`),
    "Center of Mass Distance".
    """
    centers = center_of_mass(maps)
    points = to_numpy(keypoints)
    if points.shape != (centers.shape[0], 2):
        raise ValueError(
            "`keypoints` must be (N, 2), one normalised (row, column) per map "
            f"({centers.shape[0]} maps). Received: keypoints.shape={points.shape}"
        )
    if not np.issubdtype(points.dtype, np.number):
        raise ValueError(f"`keypoints` must be numeric. Received dtype {points.dtype}")
    points = points.astype("float64")
    if not np.all(np.isfinite(points)) or points.min() < 0 or points.max() > 1:
        raise ValueError(
            "`keypoints` must be normalised coordinates in [0, 1] (row / H, "
            f"column / W). Received values in [{points.min()}, {points.max()}]"
        )
    return np.linalg.norm(centers - points, axis=1)


@declare_direction(HIGHER)
def pointing_game(maps, masks, tolerance=0):
    """Pointing game: does the map's maximum fall on the object?

    A hit when the pixel of maximal relevance lies in the mask, or within
    `tolerance` pixels of it (Euclidean distance between pixel centres).
    Several maximal pixels: the first in row-major order points. A constant
    map points nowhere (a miss), and so does any map on an empty mask.

    Args:
        maps: array-like `(N, H, W)`. Attribution maps.
        masks: array-like `(N, H, W)`. Binary object masks.
        tolerance: float. Tolerance in pixels, >= 0 (Zhang et al. use 15 at
            224 px). Defaults to `0`.

    Returns:
        float64 numpy array `(N,)` of 1.0 (hit) and 0.0 (miss); its mean is
        the pointing accuracy. Higher is better.

    Raises:
        ValueError: on mismatched or invalid shapes, NaN/Inf, non-binary
            masks or a negative `tolerance`.

    Example:

    ```python
    pointing_game(maps, masks, tolerance=15).mean()
    ```

    Reference: J. Zhang et al., "Top-down Neural Attention by Excitation
    Backprop", IJCV 2018.
    """
    maps = check_maps(maps, "maps")
    masks = check_masks(masks, maps.shape)
    tolerance = check_number(tolerance, "tolerance", 0.0)
    num, height, width = maps.shape
    flat = maps.reshape(num, -1)
    peak = np.argmax(flat, axis=1)
    row, col = np.divmod(peak, width)
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    distance2 = (rows - row[:, None, None]) ** 2 + (cols - col[:, None, None]) ** 2
    near = np.any(masks & (distance2 <= tolerance**2), axis=(1, 2))
    pointed = flat.max(axis=1) > flat.min(axis=1)
    return (near & pointed).astype("float64")
