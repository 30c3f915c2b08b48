"""Labelled arrows: attribute names pointing at where their evidence lies."""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_xai.utils.validation import check_finite, check_positive_int, to_numpy
from keras_xai.visualization._validation import (
    check_display_image,
    check_png_path,
    check_positive_number,
    check_strings,
)

# Gaps in points: label box to image edge, between stacked labels, and the
# padding inside a label box.
_ARROW_ROOM = 24.0
_LABEL_GAP = 4.0
_BOX_PAD = 0.25  # in font sizes (matplotlib's `boxstyle` pad)


def draw_labelled_arrows(
    image,
    points,
    labels,
    path,
    mask=None,
    normalized=False,
    image_size=4.0,
    fontsize=10.0,
    color="red",
    dpi=100,
    return_figure=False,
):
    """Draws arrows from attribute names to points on an image; saves a PNG.

    The way experts annotate images (and the explanation bird watchers
    preferred in the paper): each label sits in a margin beside the image,
    outside the object, and its arrow's head ends exactly on its point,
    e.g. the centre of mass of the attribute's map
    (`MultitaskAttributeClassifier.explain_attributes`). Labels go to the
    left or right margin, whichever side the arrow reaches crossing fewer
    object pixels (with `mask`) or the nearer side (without); on each side
    they are stacked in the order of their points' rows, as close to the
    point's row as the other labels allow, so labels never overlap and
    arrows do not cross on one side.

    Coordinates: `points` are `(row, col)` in pixel coordinates by default,
    `(i, j)` being the centre of pixel `(i, j)` and `(-0.5, -0.5)` the
    top-left corner of the image; with `normalized=True` they are the
    normalised coordinates of `keras_xai.metrics.center_of_mass` (`(row +
    0.5) / H, (col + 0.5) / W`, in [0, 1]).

    Args:
        image: array-like `(H, W, 1)` or `(H, W, 3)`, values in [0, 1].
        points: array-like `(K, 2)`. Arrow end points `(row, col)`, inside
            the image.
        labels: list of K str. The text of each arrow's tail.
        path: str or path-like. Where to write the PNG; must end in ".png".
            Missing parent directories are created.
        mask: array-like `(H, W)` or `None`. Binary object mask; arrows are
            led in from the side that crosses less of the object. Defaults
            to `None`.
        normalized: bool. Whether `points` are normalised (see above).
            Defaults to `False`.
        image_size: float. Size of the image's longer side in inches.
            Defaults to `4.0`.
        fontsize: float. Label font size in points. Defaults to `10`.
        color: a matplotlib colour for arrows and label frames. Defaults to
            `"red"`.
        dpi: int. Pixels per inch of the PNG. Defaults to `100`.
        return_figure: bool. Also return the matplotlib `Figure` (to inspect
            the annotations). Defaults to `False`.

    Returns:
        `path`, or `(path, figure)` with `return_figure=True`. In the figure
        the single axes shows the image in data coordinates `(x = col,
        y = row)`, and `axes.texts` holds one `Annotation` per label, in
        the order of `labels`.

    Raises:
        ValueError: if the image is invalid, `points` is not `(K, 2)` finite
            and inside the image, `labels` is not K strings, `mask` does
            not match the image or is not binary, or `path`,
            `image_size`, `fontsize` or `dpi` are invalid.

    Example:

    ```python
    entries = model.explain_attributes(images[:1])[0]
    draw_labelled_arrows(
        images[0], [e.center for e in entries], [e.name for e in entries],
        "figures/labelled_arrows.png",
    )
    ```

    Reference:
        Pazzani et al., "Improving Explanations of Image Classifiers:
        Ensembles and Multitask Learning", Sec. 6.2, 7 (Fig. 14).
    """
    image = check_display_image(image, "image")
    height, width = image.shape[:2]
    labels = check_strings(labels, "labels")
    points = _check_points(points, len(labels), height, width, normalized)
    if mask is not None:
        mask = _check_mask(mask, (height, width))
    image_size = check_positive_number(image_size, "image_size")
    fontsize = check_positive_number(fontsize, "fontsize")
    dpi = check_positive_int(dpi, "dpi")
    filename = check_png_path(path)

    # Data units (pixels of the image) per point of the figure.
    scale = max(height, width) / (image_size * 72.0)
    figure = Figure(dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    sizes = [_text_size(figure, renderer, label, fontsize) for label in labels]
    pad = _BOX_PAD * fontsize
    box_widths = np.array([w + 2 * pad for w, _ in sizes]) * scale
    box_height = (max([h for _, h in sizes], default=fontsize) + 2 * pad) * scale
    step = box_height + _LABEL_GAP * scale

    sides = _choose_sides(points, width, mask)
    # Each margin holds its side's widest label and the arrows' run-up.
    margins = {
        side: _LABEL_GAP * scale
        + (
            _ARROW_ROOM * scale + box_widths[sides == side].max()
            if np.any(sides == side)
            else 0.0
        )
        for side in (-1, 1)
    }
    stacked = max(int(np.sum(sides == side)) for side in (-1, 1))
    extra = max(0.0, stacked * step - height) / 2.0 + _LABEL_GAP * scale
    left, right = -0.5 - margins[-1], width - 0.5 + margins[1]
    top, bottom = -0.5 - extra, height - 0.5 + extra

    figure.set_size_inches((right - left) / scale / 72.0, (bottom - top) / scale / 72.0)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    shown = image[..., 0] if image.shape[-1] == 1 else image
    axes.imshow(shown, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)  # rows grow downwards, as in the image

    rows = np.zeros(len(labels))
    for side in (-1, 1):
        members = np.flatnonzero(sides == side)
        members = members[np.argsort(points[members, 0], kind="stable")]
        rows[members] = _stack(
            points[members, 0], step, top + box_height / 2, bottom - box_height / 2
        )
    for k, label in enumerate(labels):
        on_left = sides[k] < 0
        x = -0.5 - _ARROW_ROOM * scale if on_left else width - 0.5 + _ARROW_ROOM * scale
        axes.annotate(
            label,
            xy=(points[k, 1], points[k, 0]),
            xytext=(x, rows[k]),
            xycoords="data",
            textcoords="data",
            ha="right" if on_left else "left",
            va="center",
            fontsize=fontsize,
            bbox={"boxstyle": f"round,pad={_BOX_PAD}", "fc": "white", "ec": color},
            arrowprops={
                # A filled outline without an edge line: its tip vertex is
                # the drawn tip, and no shrinking moves it off the point.
                "arrowstyle": "simple,head_length=0.7,head_width=0.6,tail_width=0.15",
                "mutation_scale": fontsize,
                "facecolor": color,
                "edgecolor": "none",
                "linewidth": 0.0,
                "shrinkA": 0.0,
                "shrinkB": 0.0,
                "relpos": (1.0, 0.5) if on_left else (0.0, 0.5),
            },
        )

    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    figure.savefig(filename, format="png", dpi=dpi)
    if return_figure:
        return path, figure
    return path


def _text_size(figure, renderer, label, fontsize):
    """Width and height of `label` in points."""
    text = figure.text(0, 0, label, fontsize=fontsize)
    extent = text.get_window_extent(renderer)
    text.remove()
    return extent.width * 72.0 / figure.dpi, extent.height * 72.0 / figure.dpi


def _choose_sides(points, width, mask):
    """-1 (left margin) or +1 (right margin) for every point."""
    cols = points[:, 1]
    nearer = np.where(cols < (width - 1) / 2.0, -1, 1)
    if mask is None:
        return nearer
    sides = nearer.copy()
    for k, (row, col) in enumerate(points):
        r = int(np.clip(np.rint(row), 0, mask.shape[0] - 1))
        c = int(np.clip(np.rint(col), 0, mask.shape[1] - 1))
        crossed_left = int(mask[r, :c].sum())
        crossed_right = int(mask[r, c + 1 :].sum())
        if crossed_left != crossed_right:
            sides[k] = -1 if crossed_left < crossed_right else 1
    return sides


def _stack(desired, step, first, last):
    """Centres as near `desired` (sorted) as possible, `step` apart, in range."""
    centres = np.asarray(desired, dtype="float64").copy()
    for k in range(centres.size):
        low = first if k == 0 else centres[k - 1] + step
        centres[k] = max(centres[k], low)
    for k in range(centres.size - 1, -1, -1):
        high = last if k == centres.size - 1 else centres[k + 1] - step
        centres[k] = min(centres[k], high)
    return centres


def _check_points(points, count, height, width, normalized):
    if not isinstance(normalized, (bool, np.bool_)):
        raise ValueError(
            f"`normalized` must be a bool. Received: normalized={normalized!r}"
        )
    array = to_numpy(points)
    if array.size == 0 and count == 0:
        return np.zeros((0, 2))
    if array.ndim != 2 or array.shape != (count, 2):
        raise ValueError(
            f"`points` must be (K, 2), one (row, col) per label ({count}). "
            f"Received: points.shape={array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"`points` must be numeric. Received dtype {array.dtype}")
    array = check_finite(array.astype("float64"), "points")
    if normalized:
        if array.min() < 0 or array.max() > 1:
            raise ValueError(
                "`points` must be in [0, 1] with normalized=True. Received "
                f"values in [{array.min()}, {array.max()}]"
            )
        array = array * np.array([height, width]) - 0.5
    inside = (
        (array[:, 0] >= -0.5)
        & (array[:, 0] <= height - 0.5)
        & (array[:, 1] >= -0.5)
        & (array[:, 1] <= width - 0.5)
    )
    if not np.all(inside):
        raise ValueError(
            "`points` must lie inside the image: rows in [-0.5, "
            f"{height - 0.5}], cols in [-0.5, {width - 0.5}] (pixel "
            f"coordinates). Received: {array[~inside].tolist()}"
        )
    return array


def _check_mask(mask, shape):
    array = to_numpy(mask)
    if array.shape != shape:
        raise ValueError(
            f"`mask` must be one (H, W) = {shape} mask for the image. "
            f"Received: mask.shape={array.shape}"
        )
    if not np.isin(array, (0, 1)).all():
        raise ValueError("`mask` must be binary (bool or 0/1).")
    return array.astype(bool)
