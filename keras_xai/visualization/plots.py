"""Plots of metric results: Focus distributions, perturbation and
randomisation curves, and parameter sweeps.

Each function draws on a matplotlib `Figure` with a non-interactive Agg
canvas (no pyplot, no global state), writes a PNG (creating missing parent
directories) and returns the path. Axis labels say which direction is
better, read from the metric's declared `score_direction`.

The arguments every function here shares:

- `path`: str or path-like. Where to write the PNG; must end in ".png".
  The function returns it, unchanged.
- `figsize`: tuple. `(width, height)` in inches; `None`, where a function
  accepts it, sizes the figure to the data. Each function gives its
  default.
- `dpi`: int. Pixels per inch. Defaults to `100`.

An invalid `path`, `figsize` or `dpi` raises `ValueError` naming it.
"""

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_xai.metrics import aopc, direction_label, focus
from keras_xai.metrics._validation import check_number
from keras_xai.utils.validation import check_finite, check_positive_int, to_numpy
from keras_xai.visualization._validation import (
    check_png_path,
    check_positive_number,
    check_strings,
)

_KINDS = ("box", "violin")


def plot_focus_distributions(
    scores_by_method, path, kind="box", title=None, figsize=None, dpi=100
):
    """Box or violin plot of Focus scores, one per explanation method.

    A dashed line marks 0.5, the score of a random model or explanation on
    mosaics with two target images.

    Args:
        scores_by_method: dict `{method name: scores}`, scores array-like
            `(N,)` (e.g. `focus_evaluation(...)["scores"]`), in the order to
            draw them.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `None`, growing with the number of methods.
        kind: str. `"box"` or `"violin"`. Defaults to `"box"`.
        title: str or `None`. Figure title. Defaults to `None`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `scores_by_method` is not a non-empty dict of names
            to non-empty finite 1-D scores, or `kind` is invalid.

    Example:

    ```python
    plot_focus_distributions(
        {"GradCAM": gradcam["scores"], "LRP": lrp["scores"]},
        "figures/focus.png", kind="violin",
    )
    ```

    Reference: A. Arias-Duart et al., "Who Explains the Explanation?" (Fig. 4).
    """
    data = _check_series(scores_by_method, "scores_by_method", ndim=1)
    if kind not in _KINDS:
        raise ValueError(f"`kind` must be one of {_KINDS}. Received: kind={kind!r}")
    names = list(data)
    figure, ax = _figure(figsize or (1.0 + 1.2 * len(names), 3.5), dpi, path)
    positions = np.arange(1, len(names) + 1)
    values = [data[name] for name in names]
    if kind == "box":
        ax.boxplot(values, positions=positions, widths=0.6)
    else:
        ax.violinplot(values, positions=positions, showmedians=True)
    ax.set_xticks(positions)
    if len(names) > 4:
        ax.set_xticklabels(names, rotation=30, ha="right")
    else:
        ax.set_xticklabels(names)
    ax.axhline(0.5, color="gray", linestyle="--", linewidth=1, label="random (0.5)")
    ax.set_ylabel(f"Focus ({direction_label(focus)})")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right", fontsize="small")
    return _save(figure, ax, title, path, dpi)


def plot_perturbation_curves(
    curves_by_method, path, title="MoRF", figsize=(5.0, 3.5), dpi=100
):
    """Mean perturbation curve per method, with its AOPC in the legend.

    Draws the mean over images of each method's curves against the number
    of replaced patches, with a band of one standard deviation, and writes
    the mean `aopc` of the curves beside the method's name.

    Args:
        curves_by_method: dict `{method name: curves}`, curves array-like
            `(N, K + 1)` from `morf_curve` or `lerf_curve`.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `(5, 3.5)`.
        title: str or `None`. Figure title, e.g. `"MoRF"` or `"LeRF"`; the
            AOPC's direction depends on which (higher is better for MoRF,
            lower for LeRF). Defaults to `"MoRF"`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `curves_by_method` is not a non-empty dict of names to
            finite `(N, K + 1)` arrays with `K >= 1`.

    Example:

    ```python
    plot_perturbation_curves(
        {"SHAP": morf_curve(model, x, shap_maps, y),
         "IMPACTX": morf_curve(model, x, impactx_maps, y)},
        "figures/morf.png",
    )
    ```

    Reference: W. Samek et al., "Evaluating the Visualization of What a Deep
    Neural Network Has Learned", IEEE TNNLS 2017.
    """
    data = _check_series(curves_by_method, "curves_by_method", ndim=2)
    figure, ax = _figure(figsize, dpi, path)
    for name, curves in data.items():
        steps = np.arange(curves.shape[1])
        mean, std = curves.mean(axis=0), curves.std(axis=0)
        (line,) = ax.plot(
            steps, mean, label=f"{name} (AOPC = {aopc(curves).mean():.3f})"
        )
        ax.fill_between(
            steps, mean - std, mean + std, color=line.get_color(), alpha=0.15
        )
    ax.set_xlabel("patches replaced by noise")
    ax.set_ylabel("target-class probability")
    ax.set_xlim(0, max(curves.shape[1] - 1 for curves in data.values()))
    ax.legend(fontsize="small")
    return _save(figure, ax, title, path, dpi)


def plot_randomization_curve(
    layer_names,
    scores_by_method,
    path,
    title=None,
    ylabel="score",
    chance=None,
    figsize=None,
    dpi=100,
):
    """Score per cascading-randomisation step, one line per method.

    Args:
        layer_names: list of str. The x axis: `"original"` then the layer
            randomised at each step (`randomization_curve(...)["layers"]`).
        scores_by_method: dict `{method name: scores}`, scores array-like
            `(len(layer_names),)`.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `None`, growing with the number of steps.
        title: str or `None`. Figure title. Defaults to `None`.
        ylabel: str. Label of the y axis, e.g. `"Focus (higher is better)"`.
            Defaults to `"score"`.
        chance: float or `None`. Draws a dashed line at this score (0.5 for
            Focus). Defaults to `None`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if `layer_names` is not a list of str, a method's scores
            are not finite and of the same length.

    Example:

    ```python
    curve = randomization_curve(model, GradCAM, mosaics, targets,
                                lambda maps: focus(maps, flags))
    plot_randomization_curve(curve["layers"], {"GradCAM": curve["scores"]},
                             "figures/randomization.png", chance=0.5)
    ```

    Reference: J. Adebayo et al., "Sanity Checks for Saliency Maps",
    NeurIPS 2018.
    """
    names = check_strings(layer_names, "layer_names")
    if not names:
        raise ValueError("`layer_names` must not be empty.")
    data = _check_series(scores_by_method, "scores_by_method", ndim=1)
    for method, scores in data.items():
        if scores.shape[0] != len(names):
            raise ValueError(
                f"`scores_by_method[{method!r}]` must have one score per layer "
                f"name ({len(names)}). Received {scores.shape[0]}"
            )
    if not isinstance(ylabel, str):
        raise ValueError(f"`ylabel` must be a str. Received: ylabel={ylabel!r}")
    figure, ax = _figure(figsize or (2.0 + 0.6 * len(names), 3.5), dpi, path)
    steps = np.arange(len(names))
    for method, scores in data.items():
        ax.plot(steps, scores, marker="o", label=method)
    if chance is not None:
        chance = check_number(chance, "chance")
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(steps)
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_xlabel("randomised down to layer")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return _save(figure, ax, title, path, dpi)


def plot_sweep(
    values,
    scores_by_series,
    path,
    xlabel,
    ylabel,
    title=None,
    errors_by_series=None,
    logx=False,
    figsize=(4.5, 3.2),
    dpi=100,
):
    """A score against a swept parameter, one line per series.

    For hyper-parameter sweeps (IMPACTX's λ, the segment-overlap loss's β
    and number of views, ensemble size, reweighting rounds).

    Args:
        values: array-like `(P,)`. The parameter values (x axis).
        scores_by_series: dict `{series name: scores}`, scores array-like
            `(P,)`.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `(4.5, 3.2)`.
        xlabel: str. Label of the x axis (the parameter).
        ylabel: str. Label of the y axis; say which direction is better.
        title: str or `None`. Defaults to `None`.
        errors_by_series: dict or `None`. Optional `{series name: (P,)}`
            standard deviations, drawn as error bars. Defaults to `None`.
        logx: bool. Logarithmic x axis. Defaults to `False`.

    Returns:
        `path`, unchanged.

    Example:

    ```python
    plot_sweep([0.25, 0.5, 0.75, 1.0], {"CE+SO": accuracies}, "beta.png",
               xlabel="β", ylabel="decoy test accuracy (higher is better)")
    ```
    """
    values = check_finite(to_numpy(values).astype("float64"), "values")
    if values.ndim != 1 or values.shape[0] == 0:
        raise ValueError(
            f"`values` must be a non-empty 1-D array. Received shape {values.shape}"
        )
    data = _check_series(scores_by_series, "scores_by_series", ndim=1)
    errors = (
        {}
        if errors_by_series is None
        else _check_series(errors_by_series, "errors_by_series", ndim=1)
    )
    for name, scores in {**data, **errors}.items():
        if scores.shape[0] != values.shape[0]:
            raise ValueError(
                f"Series {name!r} must have one score per value ({values.shape[0]})."
                f" Received {scores.shape[0]}"
            )
    for label, text in (("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str):
            raise ValueError(f"`{label}` must be a str. Received: {text!r}")
    figure, ax = _figure(figsize, dpi, path)
    for name, scores in data.items():
        ax.errorbar(
            values, scores, yerr=errors.get(name), marker="o", capsize=3, label=name
        )
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_xticks(values)
    ax.set_xticklabels([f"{v:g}" for v in values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(data) > 1:
        ax.legend(fontsize="small")
    return _save(figure, ax, title, path, dpi)


def plot_per_seed(
    scores_by_arm, path, xlabel, title=None, references=None, figsize=None, dpi=100
):
    """Each arm's per-seed scores as dots, with the mean as a bar.

    For benchmarks run over several seeds: the spread shows at a glance
    which differences the seeds support.

    Args:
        scores_by_arm: dict `{arm name: scores}`, scores array-like `(S,)`
            (one per seed), drawn top to bottom in the dict's order.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `None`, sized to the arms.
        xlabel: str. Label of the score axis; say which direction is better.
        title: str or `None`. Defaults to `None`.
        references: dict or `None`. `{label: value}` drawn as dashed
            vertical lines (e.g. the floor's and ceiling's means). Defaults
            to `None`.

    Returns:
        `path`, unchanged.

    Example:

    ```python
    plot_per_seed({"floor": [0.41, 0.43], "rrr": [0.86, 0.87]}, "seeds.png",
                  xlabel="test accuracy (higher is better)")
    ```
    """
    data = _check_series(scores_by_arm, "scores_by_arm", ndim=1)
    if not isinstance(xlabel, str):
        raise ValueError(f"`xlabel` must be a str. Received: {xlabel!r}")
    references = references or {}
    if not isinstance(references, dict) or not all(
        isinstance(k, str) and np.isfinite(float(v)) for k, v in references.items()
    ):
        raise ValueError(
            "`references` must be a dict of label -> finite number. "
            f"Received: {references!r}"
        )
    figsize = figsize or (6.0, 0.9 + 0.35 * len(data))
    figure, ax = _figure(figsize, dpi, path)
    rows = np.arange(len(data))[::-1]
    for row, scores in zip(rows, data.values()):
        ax.plot(scores, np.full(scores.shape, row), "o", alpha=0.7, color="C0")
        ax.plot([scores.mean()] * 2, [row - 0.3, row + 0.3], color="C3", lw=2)
    for index, (label, value) in enumerate(references.items()):
        ax.axvline(float(value), ls="--", lw=1, color=f"C{index + 1}", label=label)
    ax.set_yticks(rows)
    ax.set_yticklabels(list(data))
    ax.set_xlabel(xlabel)
    if references:
        ax.legend(fontsize="small")
    return _save(figure, ax, title, path, dpi)


def plot_score_against_accuracy(
    runs_by_method,
    path,
    ylabel="median Focus (higher is better)",
    title=None,
    chance=None,
    figsize=(4.5, 3.4),
    dpi=100,
):
    """A score against accuracy as a model trains, one colour per method.

    Each run (e.g. a seed) is a line through its checkpoints in training
    order, so the figure shows whether the score rises with accuracy.

    Args:
        runs_by_method: dict `{method name: runs}`, each run a pair
            `(accuracies, scores)` of array-likes `(E,)`, one entry per
            checkpoint.
        path, figsize, dpi: see `keras_xai.visualization.plots`; `figsize`
            defaults to `(4.5, 3.4)`.
        ylabel: str. Label of the y axis. Defaults to
            `"median Focus (higher is better)"`.
        title: str or `None`. Defaults to `None`.
        chance: float or `None`. Draws a dashed line at this score (0.5 for
            Focus). Defaults to `None`.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if a method has no runs, a run is not a pair of finite
            arrays of one length.

    Example:

    ```python
    monitor = FocusMonitor(x_test, y_test, ["gradcam"])
    model.fit(x, y, epochs=10, callbacks=[monitor])
    runs = {"GradCAM": [([r["accuracy"] for r in monitor.history],
                         [r["gradcam"]["median"] for r in monitor.history])]}
    plot_score_against_accuracy(runs, "focus_vs_accuracy.png", chance=0.5)
    ```
    """
    if not isinstance(runs_by_method, dict) or not runs_by_method:
        raise ValueError(
            "`runs_by_method` must be a non-empty dict of method name -> runs. "
            f"Received: {type(runs_by_method).__name__}"
        )
    figure, ax = _figure(figsize, dpi, path)
    for method, runs in runs_by_method.items():
        if not isinstance(runs, (list, tuple)) or not runs:
            raise ValueError(
                f"`runs_by_method[{method!r}]` must be a non-empty list of "
                "(accuracies, scores) pairs."
            )
        color = None
        for index, run in enumerate(runs):
            if not isinstance(run, (list, tuple)) or len(run) != 2:
                raise ValueError(
                    f"`runs_by_method[{method!r}][{index}]` must be a pair "
                    "(accuracies, scores)."
                )
            pair = _check_series(
                {"accuracies": run[0], "scores": run[1]},
                f"runs_by_method[{method!r}][{index}]",
                ndim=1,
            )
            if pair["accuracies"].shape != pair["scores"].shape:
                raise ValueError(
                    f"`runs_by_method[{method!r}][{index}]`: accuracies and "
                    f"scores differ in length ({pair['accuracies'].shape[0]} "
                    f"vs {pair['scores'].shape[0]})."
                )
            (line,) = ax.plot(
                pair["accuracies"],
                pair["scores"],
                marker="o",
                markersize=3,
                color=color,
                label=method if index == 0 else None,
            )
            color = line.get_color()
    if chance is not None:
        ax.axhline(check_finite(float(chance), "chance"), ls="--", c="grey", lw=1)
    ax.set_xlabel("test accuracy (higher is better)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return _save(figure, ax, title, path, dpi)


def _check_series(value, name, ndim):
    if not isinstance(value, dict) or not value:
        raise ValueError(
            f"`{name}` must be a non-empty dict of method name -> scores. "
            f"Received: {type(value).__name__}"
        )
    result = {}
    for key, array in value.items():
        if not isinstance(key, str):
            raise ValueError(f"`{name}` keys must be str. Received key {key!r}")
        array = to_numpy(array)
        shape = "(N,)" if ndim == 1 else "(N, steps + 1)"
        if (
            array.ndim != ndim
            or array.shape[0] == 0
            or (ndim == 2 and array.shape[1] < 2)
            or not np.issubdtype(array.dtype, np.number)
        ):
            raise ValueError(
                f"`{name}[{key!r}]` must be a non-empty numeric array of shape "
                f"{shape}. Received shape {array.shape}, dtype {array.dtype}"
            )
        result[key] = check_finite(array.astype("float64"), f"{name}[{key!r}]")
    return result


def _figure(figsize, dpi, path):
    check_png_path(path)
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise ValueError(
            f"`figsize` must be (width, height) in inches. Received: {figsize!r}"
        )
    figsize = tuple(check_positive_number(v, "figsize") for v in figsize)
    dpi = check_positive_int(dpi, "dpi")
    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure, ax, title, path, dpi):
    if title is not None:
        if not isinstance(title, str):
            raise ValueError(f"`title` must be a str or None. Received: {title!r}")
        ax.set_title(title)
    filename = check_png_path(path)
    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    figure.savefig(filename, format="png", dpi=dpi)
    return path
