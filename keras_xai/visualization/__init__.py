"""Figures for explanations: normalised maps, overlays and image grids.

Everything here is numpy + matplotlib (non-interactive Agg canvas, no
pyplot), so figures are written without a display and without touching
matplotlib's global state. Backend tensors are accepted and converted.
"""

from keras_xai.visualization.consistency_figures import (
    plot_weight_histograms,
    save_consistency_examples,
)
from keras_xai.visualization.image_grid import explanation_figure, save_image_grid
from keras_xai.visualization.labelled_arrows import draw_labelled_arrows
from keras_xai.visualization.normalize import normalize_map
from keras_xai.visualization.overlay import overlay
from keras_xai.visualization.plots import (
    plot_focus_distributions,
    plot_per_seed,
    plot_perturbation_curves,
    plot_randomization_curve,
    plot_score_against_accuracy,
    plot_sweep,
)

__all__ = [
    "plot_weight_histograms",
    "save_consistency_examples",
    "draw_labelled_arrows",
    "explanation_figure",
    "normalize_map",
    "overlay",
    "plot_focus_distributions",
    "plot_perturbation_curves",
    "plot_randomization_curve",
    "plot_per_seed",
    "plot_score_against_accuracy",
    "plot_sweep",
    "save_image_grid",
]
