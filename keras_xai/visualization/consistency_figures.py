"""Diagnostics of sample reweighting: weight histograms, consistency examples.

Drawn on a matplotlib `Figure` with a non-interactive Agg canvas (no pyplot),
written as PNG (missing parent directories are created).
"""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_xai.utils.validation import (
    check_finite,
    check_images,
    check_positive_int,
    to_numpy,
)
from keras_xai.visualization._validation import (
    check_display_image,
    check_maps,
    check_png_path,
)
from keras_xai.visualization.image_grid import save_image_grid
from keras_xai.visualization.overlay import overlay

_COLUMNS = 4


def plot_weight_histograms(history_of_weights, path, bins=20, title=None, dpi=100):
    """One histogram of the sample weights per reweighting round.

    Each panel shows the distribution of the weights of one round, with
    their mean; all panels share the x range `[0, max(1, largest weight)]`
    so rounds compare at a glance.

    Args:
        history_of_weights: dict `{label: weights}` in drawing order, or a
            list of weight arrays (labelled "round 1", "round 2", ...); each
            array-like `(N,)`, finite.
        path: str or path-like. Where to write the PNG; must end in ".png".
        bins: int. Histogram bins. Defaults to 20.
        title: str or `None`. Figure title. Defaults to `None`.
        dpi: int. Pixels per inch. Defaults to `100`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `history_of_weights` is empty or holds a weight array
            that is not 1-D, empty or not finite, or `path`, `bins`,
            `title` or `dpi` are invalid.

    Example:

    ```python
    plot_weight_histograms(callback.history, "logs/weights.png")
    ```
    """
    rounds = _check_history(history_of_weights)
    filename = check_png_path(path)
    bins = check_positive_int(bins, "bins")
    dpi = check_positive_int(dpi, "dpi")
    if title is not None and not isinstance(title, str):
        raise ValueError(f"`title` must be a str or None. Received: title={title!r}")
    high = max(1.0, *(float(w.max()) for w in rounds.values()))
    columns = min(len(rounds), _COLUMNS)
    rows = -(-len(rounds) // columns)
    figure = Figure(
        figsize=(2.8 * columns, 2.2 * rows + (0.3 if title else 0.0)),
        dpi=dpi,
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True)
    for ax, (label, weights) in zip(axes.ravel(), rounds.items()):
        ax.hist(weights, bins=bins, range=(0.0, high), color="tab:blue")
        ax.axvline(weights.mean(), color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(f"{label} (mean {weights.mean():.3f})", fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in axes.ravel()[len(rounds) :]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("sample weight", fontsize="small")
    for ax in axes[:, 0]:
        ax.set_ylabel("samples", fontsize="small")
    if title:
        figure.suptitle(title)
    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    figure.savefig(filename, format="png", dpi=dpi)
    return path


def save_consistency_examples(
    images, heatmaps, perturbed, new_heatmaps, scores, path, k=4
):
    """The most and least explanation-consistent samples, as one PNG.

    The layout of Fig. 4 of the explanation-consistency paper: per sample,
    the input image, its heatmap, the semantic-preserved adversarial image
    and the heatmap of that image (heatmaps overlaid on their images). The
    first `k` rows are the samples with the highest `scores`, the last `k`
    those with the lowest; with `2k >= N` every sample is drawn, highest
    first. Row labels give the score.

    Args:
        images: array-like `(N, H, W, C)`, `C` 1 or 3, in [0, 1]. The inputs.
        heatmaps: array-like `(N, h, w)`. Heatmaps of `images` (any size;
            resized to the image for the overlay).
        perturbed: array-like `(N, H, W, C)` in [0, 1]. The perturbed images.
        new_heatmaps: array-like `(N, h, w)`. Heatmaps of `perturbed`.
        scores: array-like `(N,)`. Consistency scores (higher = more
            consistent), e.g. `ConsistencyResult.consistency`.
        path: str or path-like. Where to write the PNG; must end in ".png".
        k: int. Samples drawn at each end. Defaults to 4.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if the arrays have the wrong ranks, disagree in the
            number of samples or shapes, hold non-finite values or images
            outside [0, 1], or `path` or `k` are invalid.

    Example:

    ```python
    result = consistency_weights(model, x[:64], y[:64], return_examples=True)
    save_consistency_examples(
        x[:64], result.heatmaps, result.perturbed, result.perturbed_heatmaps,
        result.consistency, "figures/consistency.png",
    )
    ```

    Reference:
        Wu et al., "Improving Network Interpretability via Explanation
        Consistency Evaluation", IEEE Transactions on Multimedia 2024 (Fig. 4).
    """
    images = check_images(images, "images")
    perturbed = check_images(perturbed, "perturbed")
    heatmaps = check_maps(heatmaps, "heatmaps", ndims=(3,))
    new_heatmaps = check_maps(new_heatmaps, "new_heatmaps", ndims=(3,))
    scores = to_numpy(scores)
    if scores.ndim != 1 or not np.issubdtype(scores.dtype, np.number):
        raise ValueError(
            "`scores` must be one number per sample, shape (N,). Received: "
            f"scores.shape={scores.shape}, dtype {scores.dtype}"
        )
    scores = check_finite(scores.astype("float64"), "scores")
    if perturbed.shape != images.shape:
        raise ValueError(
            "`perturbed` must have the shape of `images`. Received: "
            f"images.shape={images.shape}, perturbed.shape={perturbed.shape}"
        )
    if new_heatmaps.shape != heatmaps.shape:
        raise ValueError(
            "`new_heatmaps` must have the shape of `heatmaps`. Received: "
            f"heatmaps.shape={heatmaps.shape}, "
            f"new_heatmaps.shape={new_heatmaps.shape}"
        )
    count = len(images)
    if len(heatmaps) != count or len(scores) != count:
        raise ValueError(
            "`images`, `heatmaps`, `perturbed`, `new_heatmaps` and `scores` "
            f"must describe the same samples. Received {count} images, "
            f"{len(heatmaps)} heatmaps and {len(scores)} scores"
        )
    k = check_positive_int(k, "k")
    check_png_path(path)

    descending = np.argsort(-scores, kind="stable")
    if 2 * k >= count:
        chosen, ends = descending, [""] * count
    else:
        chosen = np.concatenate([descending[:k], descending[-k:]])
        ends = ["high\n"] * k + ["low\n"] * k
    rows, labels = [], []
    for i, end in zip(chosen, ends):
        image = check_display_image(images[i], f"images[{i}]")
        adversarial = check_display_image(perturbed[i], f"perturbed[{i}]")
        rows.append(
            [
                image,
                overlay(image, heatmaps[i], signed=False),
                adversarial,
                overlay(adversarial, new_heatmaps[i], signed=False),
            ]
        )
        labels.append(f"{end}score {scores[i]:.3f}")
    return save_image_grid(
        rows,
        path,
        titles=["image", "heatmap", "perturbed", "new heatmap"],
        row_labels=labels,
    )


def _check_history(history_of_weights):
    if isinstance(history_of_weights, dict):
        items = list(history_of_weights.items())
    elif isinstance(history_of_weights, (list, tuple)):
        items = [(f"round {i + 1}", w) for i, w in enumerate(history_of_weights)]
    else:
        raise ValueError(
            "`history_of_weights` must be a dict {label: weights} or a list of "
            f"weight arrays. Received: {type(history_of_weights).__name__}"
        )
    if not items:
        raise ValueError("`history_of_weights` must hold at least one round.")
    rounds = {}
    for label, weights in items:
        name = f"history_of_weights[{label!r}]"
        array = to_numpy(weights)
        if (
            array.ndim != 1
            or array.shape[0] == 0
            or not np.issubdtype(array.dtype, np.number)
        ):
            raise ValueError(
                f"`{name}` must be a non-empty numeric array of shape (N,). "
                f"Received shape {array.shape}, dtype {array.dtype}"
            )
        rounds[str(label)] = check_finite(array.astype("float64"), name)
    return rounds
