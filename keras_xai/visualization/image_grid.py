"""Saving rows of images and attribution maps as one PNG figure."""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_xai.utils.validation import (
    check_images,
    check_labels,
    check_positive_int,
    to_numpy,
)
from keras_xai.visualization._colormap import colorize
from keras_xai.visualization._validation import (
    check_cmap,
    check_display_image,
    check_maps,
    check_png_path,
    check_positive_number,
    check_strings,
)
from keras_xai.visualization.overlay import overlay


def save_image_grid(rows, path, titles=None, row_labels=None, cell_size=2.0, dpi=100):
    """Draws a grid of images and attribution maps and saves it as a PNG.

    Each cell is drawn according to its shape: `(H, W, 3)` as RGB,
    `(H, W, 1)` as grayscale, both with values in [0, 1]; a 2-D `(H, W)`
    array is taken to be an attribution map, normalised with
    `normalize_map` and drawn with the "jet" colormap (the diverging "bwr",
    white at 0, when it has negative values). Colour-map a map yourself
    (e.g. `overlay(..., alpha=1.0)`) to choose another colormap. Rows may
    have different lengths; missing cells are left blank. The figure is
    `cell_size * columns` by `cell_size * rows` inches at `dpi`, so the PNG
    is `round(cell_size * dpi)` pixels per cell.

    Args:
        rows: list of lists. One list of cells per grid row; each cell an
            array-like (numpy or a backend tensor).
        path: str or path-like. Where to write the PNG; must end in ".png".
            Missing parent directories are created.
        titles: list of str or `None`. Column titles, one per column.
            Defaults to `None`.
        row_labels: list of str or `None`. Labels written left of each row,
            one per row. Defaults to `None`.
        cell_size: float. Width and height of a cell in inches. Defaults to
            `2.0`.
        dpi: int. Pixels per inch of the PNG. Defaults to `100`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `rows` is not a non-empty list of non-empty lists of
            valid cells, `titles` or `row_labels` have the wrong length, or
            `path`, `cell_size` or `dpi` are invalid.

    Example:

    ```python
    save_image_grid(
        [[images[0], cams[0]], [images[1], cams[1]]],
        "figures/cams.png",
        titles=["image", "Grad-CAM"],
    )
    ```
    """
    cells = _check_rows(rows)
    num_rows = len(cells)
    num_columns = max(len(row) for row in cells)
    if titles is not None:
        titles = check_strings(titles, "titles", length=num_columns)
    if row_labels is not None:
        row_labels = check_strings(row_labels, "row_labels", length=num_rows)
    cell_size = check_positive_number(cell_size, "cell_size")
    dpi = check_positive_int(dpi, "dpi")
    filename = check_png_path(path)

    figure = Figure(
        figsize=(num_columns * cell_size, num_rows * cell_size),
        dpi=dpi,
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    axes = figure.subplots(num_rows, num_columns, squeeze=False)
    for i, row in enumerate(axes):
        for j, ax in enumerate(row):
            if j >= len(cells[i]):
                ax.set_axis_off()
                continue
            _draw_cell(ax, cells[i][j])
            # Ticks and frame hidden by hand, not `set_axis_off`, which would
            # also hide the row label.
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if titles is not None and i == 0:
                ax.set_title(titles[j], fontsize="small")
            if row_labels is not None and j == 0:
                ax.set_ylabel(row_labels[i], fontsize="small")

    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    figure.savefig(filename, format="png", dpi=dpi)
    return path


def explanation_figure(
    images,
    maps,
    path,
    labels=None,
    predictions=None,
    class_names=None,
    cmap=None,
):
    """Saves one row per image: the image, its attribution map and the overlay.

    The map column and the overlay use the same colormap; whether the maps
    are signed is decided once for the whole batch (any negative value), so
    every row follows the same colour convention. Rows are labelled with
    the true and predicted classes when `labels` or `predictions` are given.
    The figure grows with the batch: pass a slice for large batches.

    Args:
        images: array-like. Batch of shape `(B, H, W, C)`, `C` 1 or 3,
            values in [0, 1].
        maps: array-like. Attribution maps of shape `(B, h, w)`; resized
            bilinearly to `(H, W)` for the overlay.
        path: str or path-like. Where to write the PNG (see
            `save_image_grid`).
        labels: array-like of ints or `None`. True classes, shape `(B,)`.
            Defaults to `None`.
        predictions: array-like of ints or `None`. Predicted classes, shape
            `(B,)`. Defaults to `None`.
        class_names: list of str or `None`. Names of the classes; without
            them classes are shown as indices. Defaults to `None`.
        cmap: str, `matplotlib.colors.Colormap` or `None`. Colormap of the
            map and overlay columns; `None` picks "jet", or "bwr" for
            signed maps (as in `overlay`). Defaults to `None`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `images` or `maps` are invalid or their batch sizes
            differ, `labels` or `predictions` do not hold one valid class
            index per image, or `class_names` or `cmap` are invalid.

    Example:

    ```python
    cams = explainer.explain(images[:4], targets=predictions[:4])
    explanation_figure(
        images[:4], cams, "figures/cams.png",
        labels=labels[:4], predictions=predictions[:4],
        class_names=["cat", "dog"],
    )
    ```
    """
    images = check_images(images, "images")
    maps = check_maps(maps, "maps", ndims=(3,))
    if maps.shape[0] != images.shape[0]:
        raise ValueError(
            "`maps` must have one map per image. Received: "
            f"images.shape={images.shape}, maps.shape={maps.shape}"
        )
    # Per image, so that an error names the offending index.
    images = [
        check_display_image(image, f"images[{i}]") for i, image in enumerate(images)
    ]
    cmap = check_cmap(cmap)
    num_images = len(images)
    if class_names is not None:
        class_names = check_strings(class_names, "class_names")
        if not class_names:
            raise ValueError("`class_names` must not be empty. Received: []")
    num_classes = len(class_names) if class_names else np.iinfo(np.int32).max
    classes = {}
    if labels is not None:
        classes["true"] = check_labels(labels, num_classes, "labels", num_images)
    if predictions is not None:
        classes["pred"] = check_labels(
            predictions, num_classes, "predictions", num_images
        )

    signed = bool(np.any(maps < 0))
    rows = [
        [
            images[i],
            colorize(maps[i], cmap=cmap, signed=signed, name=f"maps[{i}]"),
            overlay(images[i], maps[i], cmap=cmap, signed=signed),
        ]
        for i in range(num_images)
    ]
    row_labels = None
    if classes:
        row_labels = [
            "\n".join(
                f"{kind}: {_class_name(int(indices[i]), class_names)}"
                for kind, indices in classes.items()
            )
            for i in range(num_images)
        ]
    return save_image_grid(
        rows, path, titles=["image", "attribution", "overlay"], row_labels=row_labels
    )


def _class_name(index, class_names):
    return class_names[index] if class_names else str(index)


def _check_rows(rows):
    """Validates `rows` and returns it as a list of lists of checked arrays."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError(
            "`rows` must be a non-empty list of rows, each a list of images. "
            f"Received: rows of type {type(rows).__name__}"
            + (" (empty)" if isinstance(rows, (list, tuple)) else "")
        )
    cells = []
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or not row:
            raise ValueError(
                "`rows` must be a non-empty list of rows, each a non-empty list "
                f"of images. Received: rows[{i}] of type {type(row).__name__}"
                + (" (empty)" if isinstance(row, (list, tuple)) else "")
            )
        cells.append(
            [_check_cell(cell, f"rows[{i}][{j}]") for j, cell in enumerate(row)]
        )
    return cells


def _check_cell(cell, name):
    array = to_numpy(cell)
    if array.ndim == 2:
        return check_maps(array, name)
    if array.ndim == 3:
        return check_display_image(array, name)
    raise ValueError(
        f"`{name}` must be an image of shape (H, W, 1) or (H, W, 3), or an "
        f"attribution map of shape (H, W). Received: {name}.shape={array.shape}"
    )


def _draw_cell(ax, array):
    if array.ndim == 2:
        ax.imshow(colorize(array), interpolation="nearest")
    elif array.shape[-1] == 1:
        ax.imshow(
            array[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest"
        )
    else:
        ax.imshow(array, interpolation="nearest")
