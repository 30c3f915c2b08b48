import numpy as np
import pytest
from PIL import Image

from keras_xai.visualization import consistency_figures
from keras_xai.visualization.consistency_figures import (
    plot_weight_histograms,
    save_consistency_examples,
)


def _examples(count=6):
    rng = np.random.default_rng(0)
    images = rng.random((count, 8, 8, 1)).astype("float32")
    perturbed = np.clip(images + 0.1, 0, 1)
    heatmaps = rng.random((count, 2, 2))
    new_heatmaps = rng.random((count, 2, 2))
    scores = np.array([0.5, 0.9, 0.1, 0.7, 0.3, 0.95])[:count]
    return images, heatmaps, perturbed, new_heatmaps, scores


def test_weight_histograms_one_panel_per_round(tmp_path):
    rng = np.random.default_rng(0)
    rounds = {f"epoch {i}": rng.random(50) for i in range(1, 6)}
    path = plot_weight_histograms(rounds, tmp_path / "sub" / "weights.png")
    assert path == tmp_path / "sub" / "weights.png"
    five = Image.open(path).size
    one = Image.open(plot_weight_histograms([rng.random(50)], tmp_path / "1.png")).size
    # 5 rounds: 4 columns and 2 rows of panels; 1 round: one panel.
    assert five[0] > 3 * one[0] and five[1] > 1.5 * one[1]


def test_weight_histograms_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="at least one round"):
        plot_weight_histograms({}, tmp_path / "w.png")
    with pytest.raises(ValueError, match="must be a dict"):
        plot_weight_histograms(np.ones(3), tmp_path / "w.png")
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        plot_weight_histograms([np.ones((2, 2))], tmp_path / "w.png")
    with pytest.raises(ValueError, match="finite"):
        plot_weight_histograms([np.array([0.5, np.nan])], tmp_path / "w.png")
    with pytest.raises(ValueError, match="PNG"):
        plot_weight_histograms([np.ones(3)], tmp_path / "w.jpg")
    with pytest.raises(ValueError, match="`bins`"):
        plot_weight_histograms([np.ones(3)], tmp_path / "w.png", bins=0)


def test_consistency_examples_highest_then_lowest(tmp_path, monkeypatch):
    captured = {}
    original = consistency_figures.save_image_grid

    def capture(rows, path, titles=None, row_labels=None):
        captured.update(rows=rows, titles=titles, row_labels=row_labels)
        return original(rows, path, titles=titles, row_labels=row_labels)

    monkeypatch.setattr(consistency_figures, "save_image_grid", capture)
    images, heatmaps, perturbed, new_heatmaps, scores = _examples()
    path = save_consistency_examples(
        images, heatmaps, perturbed, new_heatmaps, scores, tmp_path / "e.png", k=2
    )
    assert Image.open(path).size == (800, 800)  # 4 rows, 4 columns of 200 px
    assert captured["titles"] == ["image", "heatmap", "perturbed", "new heatmap"]
    # Scores 0.95 (index 5), 0.9 (1), then 0.3 (4), 0.1 (2).
    assert captured["row_labels"] == [
        "high\nscore 0.950",
        "high\nscore 0.900",
        "low\nscore 0.300",
        "low\nscore 0.100",
    ]
    for row, index in zip(captured["rows"], [5, 1, 4, 2]):
        np.testing.assert_array_equal(row[0], images[index])
        np.testing.assert_array_equal(row[2], perturbed[index])
        assert row[1].shape == row[3].shape == (8, 8, 3)  # overlays
    # 2k >= N: every sample, highest first.
    save_consistency_examples(
        images[:3],
        heatmaps[:3],
        perturbed[:3],
        new_heatmaps[:3],
        scores[:3],
        tmp_path / "all.png",
        k=2,
    )
    assert captured["row_labels"] == ["score 0.900", "score 0.500", "score 0.100"]


def test_consistency_examples_bad_inputs(tmp_path):
    images, heatmaps, perturbed, new_heatmaps, scores = _examples()
    path = tmp_path / "e.png"
    with pytest.raises(ValueError, match="`perturbed` must have the shape"):
        save_consistency_examples(
            images, heatmaps, perturbed[:3], new_heatmaps, scores, path
        )
    with pytest.raises(ValueError, match="`new_heatmaps` must have the shape"):
        save_consistency_examples(
            images, heatmaps, perturbed, new_heatmaps[:, :1], scores, path
        )
    with pytest.raises(ValueError, match="same samples"):
        save_consistency_examples(
            images, heatmaps, perturbed, new_heatmaps, scores[:4], path
        )
    with pytest.raises(ValueError, match="`scores`"):
        save_consistency_examples(
            images, heatmaps, perturbed, new_heatmaps, np.full(6, np.nan), path
        )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        save_consistency_examples(
            images * 3, heatmaps, perturbed * 3, new_heatmaps, scores, path
        )
    with pytest.raises(ValueError, match="`k` must be >= 1"):
        save_consistency_examples(
            images, heatmaps, perturbed, new_heatmaps, scores, path, k=0
        )
    with pytest.raises(ValueError, match="PNG"):
        save_consistency_examples(
            images, heatmaps, perturbed, new_heatmaps, scores, tmp_path / "e"
        )
