import pathlib

import numpy as np
import pytest
from matplotlib.image import imread

from keras_xai.visualization import plots
from keras_xai.visualization.plots import (
    plot_focus_distributions,
    plot_per_seed,
    plot_perturbation_curves,
    plot_randomization_curve,
    plot_score_against_accuracy,
    plot_sweep,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read_png(path):
    assert pathlib.Path(path).read_bytes()[:8] == PNG_SIGNATURE
    return imread(path)


@pytest.fixture
def legend_texts(monkeypatch):
    """Records the legend entries of every figure saved."""
    texts = []
    original = plots._save

    def recording_save(figure, ax, title, path, dpi):
        texts.extend(t.get_text() for t in ax.get_legend().get_texts())
        return original(figure, ax, title, path, dpi)

    monkeypatch.setattr(plots, "_save", recording_save)
    return texts


def _scores(seed=0, n=40):
    return np.random.default_rng(seed).uniform(0, 1, n)


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_focus_distributions_writes_a_png_in_new_directories(tmp_path, kind):
    path = tmp_path / "new" / "dir" / "focus.png"
    result = plot_focus_distributions(
        {"GradCAM": _scores(0), "LRP": _scores(1)}, path, kind=kind, dpi=50
    )
    assert result == path
    width = _read_png(path).shape[1]
    # The default width grows with the number of methods.
    wide = plot_focus_distributions(
        {str(i): _scores(i) for i in range(6)}, tmp_path / "wide.png", dpi=50
    )
    assert _read_png(wide).shape[1] > width


def test_box_and_violin_differ(tmp_path):
    data = {"GradCAM": _scores(0)}
    box = plot_focus_distributions(data, tmp_path / "box.png", kind="box")
    violin = plot_focus_distributions(data, tmp_path / "violin.png", kind="violin")
    assert pathlib.Path(box).read_bytes() != pathlib.Path(violin).read_bytes()


def test_perturbation_curves_show_aopc_in_the_legend(tmp_path, legend_texts):
    fast = np.array([[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]])  # AOPC 0.75
    flat = np.array([[0.8, 0.8, 0.8]])  # AOPC 0
    path = plot_perturbation_curves(
        {"IMPACTX": fast, "SHAP": flat}, tmp_path / "morf.png", title="MoRF"
    )
    _read_png(path)
    assert legend_texts == ["IMPACTX (AOPC = 0.750)", "SHAP (AOPC = 0.000)"]


def test_randomization_curve_writes_a_png(tmp_path, legend_texts):
    names = ["original", "logits", "conv2", "conv1"]
    path = plot_randomization_curve(
        names,
        {"GradCAM": [0.9, 0.5, 0.52, 0.49], "LRP": np.array([0.95, 0.6, 0.5, 0.5])},
        tmp_path / "sub" / "randomization.png",
        ylabel="Focus (higher is better)",
        chance=0.5,
    )
    _read_png(path)
    assert legend_texts == ["GradCAM", "LRP", "chance"]


@pytest.mark.parametrize(
    "data, kwargs, match",
    [
        ({}, {}, "non-empty dict"),
        ([1, 2], {}, "non-empty dict"),
        ({"a": np.ones((3, 2))}, {}, "shape"),
        ({"a": np.array([0.5, np.nan])}, {}, "finite"),
        ({1: np.ones(3)}, {}, "keys must be str"),
        ({"a": np.ones(3)}, {"kind": "bar"}, "kind"),
        ({"a": np.ones(3)}, {"path": "focus.jpg"}, "PNG"),
        ({"a": np.ones(3)}, {"dpi": 0}, "dpi"),
        ({"a": np.ones(3)}, {"figsize": (3,)}, "figsize"),
    ],
)
def test_focus_distributions_bad_input(tmp_path, data, kwargs, match):
    path = kwargs.pop("path", tmp_path / "x.png")
    with pytest.raises(ValueError, match=match):
        plot_focus_distributions(data, path, **kwargs)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "curves, match",
    [
        (np.ones((3, 1)), "shape"),
        (np.ones(3), "shape"),
        (np.array([[1.0, np.inf]]), "finite"),
    ],
)
def test_perturbation_curves_bad_input(tmp_path, curves, match):
    with pytest.raises(ValueError, match=match):
        plot_perturbation_curves({"a": curves}, tmp_path / "x.png")


@pytest.mark.parametrize(
    "names, scores, kwargs, match",
    [
        (["original", "logits"], {"a": [1.0, 2.0, 3.0]}, {}, "one score per layer"),
        ("original", {"a": [1.0]}, {}, "layer_names"),
        ([], {"a": [1.0]}, {}, "layer_names"),
        (["original"], {"a": [1.0]}, {"chance": float("nan")}, "chance"),
        (["original"], {"a": [1.0]}, {"ylabel": 3}, "ylabel"),
        (["original"], {"a": [1.0]}, {"title": 3}, "title"),
    ],
)
def test_randomization_curve_bad_input(tmp_path, names, scores, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_randomization_curve(names, scores, tmp_path / "x.png", **kwargs)
    assert not (tmp_path / "x.png").exists()


def test_sweep_draws_one_line_per_series_at_the_given_values(tmp_path, monkeypatch):
    drawn = {}
    original = plots._save

    def recording_save(figure, ax, title, path, dpi):
        for container in ax.containers:  # one ErrorbarContainer per series
            drawn[container.get_label()] = container.lines[0].get_xydata().tolist()
        return original(figure, ax, title, path, dpi)

    monkeypatch.setattr(plots, "_save", recording_save)
    path = plot_sweep(
        [0.25, 0.5, 1.0],
        {"CE+SO": [0.5, 0.6, 0.7], "RRR": [0.4, 0.45, 0.5]},
        tmp_path / "beta.png",
        xlabel="beta",
        ylabel="accuracy",
        errors_by_series={"CE+SO": [0.01, 0.02, 0.0]},
    )
    _read_png(path)
    assert set(drawn) == {"CE+SO", "RRR"}
    assert drawn["RRR"] == [[0.25, 0.4], [0.5, 0.45], [1.0, 0.5]]


@pytest.mark.parametrize(
    "values, series, match",
    [
        ([], {"a": []}, "values"),
        ([1, 2], {"a": [1.0]}, "one score per value"),
        ([1, 2], {}, "scores_by_series"),
        ([1, np.nan], {"a": [1.0, 2.0]}, "values"),
    ],
)
def test_sweep_bad_input(tmp_path, values, series, match):
    with pytest.raises(ValueError, match=match):
        plot_sweep(values, series, tmp_path / "s.png", xlabel="x", ylabel="y")


def test_plot_per_seed(tmp_path):
    path = plot_per_seed(
        {"floor": [0.41, 0.43, 0.42], "rrr": [0.86, 0.87, 0.85]},
        tmp_path / "seeds.png",
        xlabel="accuracy (higher is better)",
        references={"ceiling": 0.88},
    )
    assert pathlib.Path(path).stat().st_size > 1000
    with pytest.raises(ValueError, match="non-empty numeric array"):
        plot_per_seed({"floor": []}, tmp_path / "x.png", xlabel="a")
    with pytest.raises(ValueError, match="`references` must be"):
        plot_per_seed({"a": [1.0]}, tmp_path / "x.png", xlabel="a", references=[1])
    with pytest.raises(ValueError, match=r"\.png"):
        plot_per_seed({"a": [1.0]}, tmp_path / "x.jpg", xlabel="a")


def test_score_against_accuracy_one_colour_per_method(tmp_path, monkeypatch):
    drawn = []
    original = plots._save

    def recording_save(figure, ax, title, path, dpi):
        for line in ax.get_lines():
            drawn.append((line.get_label(), line.get_color(), line.get_xydata()))
        return original(figure, ax, title, path, dpi)

    monkeypatch.setattr(plots, "_save", recording_save)
    runs = {
        "GradCAM": [([0.1, 0.8, 0.9], [0.5, 0.7, 0.75]), ([0.1, 0.85], [0.5, 0.8])],
        "random": [([0.1, 0.8, 0.9], [0.5, 0.5, 0.49])],
    }
    path = plot_score_against_accuracy(runs, tmp_path / "f.png", chance=0.5)
    _read_png(path)
    # Lines in order: GradCAM seed 0, GradCAM seed 1, random, the chance line.
    assert len(drawn) == 4
    (first, colour, _), (_, second_colour, second), (label, other, _), _ = drawn
    assert first == "GradCAM" and label == "random"
    # The two GradCAM seeds share a colour; the random maps have their own.
    assert colour == second_colour and other != colour
    np.testing.assert_allclose(second, [[0.1, 0.5], [0.85, 0.8]])
    np.testing.assert_allclose(drawn[3][2][:, 1], 0.5)


@pytest.mark.parametrize(
    "runs, match",
    [
        ({}, "non-empty dict"),
        ({"a": []}, "non-empty list"),
        ({"a": [([0.1, 0.2],)]}, "must be a pair"),
        ({"a": [([0.1, 0.2], [0.5])]}, "differ in length"),
        ({"a": [([0.1, np.nan], [0.5, 0.6])]}, "finite"),
    ],
)
def test_score_against_accuracy_bad_input(tmp_path, runs, match):
    with pytest.raises(ValueError, match=match):
        plot_score_against_accuracy(runs, tmp_path / "f.png")
