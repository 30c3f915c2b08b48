import keras
import numpy as np
import pytest

from keras_xai.datasets import make_mosaics
from keras_xai.explainers import GradCAM
from keras_xai.metrics import HIGHER, focus, focus_evaluation

TL, TR, BL, BR = np.eye(4, dtype=bool)


def _quadrant_map(values, size=4):
    """(2*size, 2*size) map whose quadrants hold the constants `values`."""
    tl, tr, bl, br = values
    top = np.concatenate([np.full((size, size), tl), np.full((size, size), tr)], 1)
    bottom = np.concatenate([np.full((size, size), bl), np.full((size, size), br)], 1)
    return np.concatenate([top, bottom], 0)


def test_all_relevance_in_the_target_quadrants_scores_one():
    maps = np.stack([_quadrant_map([1, 0, 0, 2]), _quadrant_map([0, 3, 5, 0])])
    flags = np.stack([TL | BR, TR | BL])
    np.testing.assert_allclose(focus(maps, flags), [1.0, 1.0])


def test_uniform_relevance_scores_one_half():
    maps = np.ones((3, 8, 8))
    flags = np.stack([TL | TR, TL | BR, BL | BR])
    np.testing.assert_allclose(focus(maps, flags), [0.5, 0.5, 0.5])


def test_known_quadrant_shares():
    # Quadrant sums 16 * [1, 2, 3, 4]: share of the flagged ones.
    maps = np.stack([_quadrant_map([1, 2, 3, 4])] * 3)
    flags = np.stack([TL | TR, TL | BR, BL | BR])
    np.testing.assert_allclose(focus(maps, flags), [0.3, 0.5, 0.7])


def test_negative_relevance_is_ignored():
    # Positive: 1 in TL (target), 3 in BR; the -100 in TR (target) counts 0.
    maps = _quadrant_map([1, -100, 0, 3])[None]
    np.testing.assert_allclose(focus(maps, (TL | TR)[None]), [0.25])
    # Large negative relevance outside the targets changes nothing either.
    maps = _quadrant_map([1, 1, -50, -50])[None]
    np.testing.assert_allclose(focus(maps, (TL | TR)[None]), [1.0])


def test_map_without_positive_relevance_scores_chance_or_empty_score():
    maps = np.stack([np.zeros((8, 8)), -np.ones((8, 8))])
    flags = np.stack([TL | TR, TL | BR])
    np.testing.assert_allclose(focus(maps, flags), [0.5, 0.5])
    np.testing.assert_allclose(focus(maps, flags, empty_score=0.0), [0.0, 0.0])
    one_target = np.stack([TL, TL])
    np.testing.assert_allclose(focus(maps, one_target), [0.25, 0.25])


def test_quadrant_order_matches_make_mosaics():
    # Class-0 images are bright, others dark: the mosaic is its own ideal map.
    labels = np.array([0, 0, 0, 1, 2, 1, 2])
    images = (labels == 0)[:, None, None].astype("float32") * np.ones((1, 4, 4))
    mosaics, _, flags, _ = make_mosaics(images, labels, 20, target_class=0)
    assert len({tuple(f) for f in flags}) > 1  # several layouts drawn
    np.testing.assert_allclose(focus(mosaics, flags), np.ones(20))


def test_accepts_backend_tensors():
    maps = _quadrant_map([1, 2, 3, 4])[None]
    flags = (TL | BR)[None]
    scores = focus(
        keras.ops.convert_to_tensor(maps), keras.ops.convert_to_tensor(flags)
    )
    np.testing.assert_allclose(scores, [0.5])


def test_declares_higher_is_better():
    assert focus.score_direction == HIGHER


@pytest.mark.parametrize(
    "maps, flags, match",
    [
        (np.ones((2, 8, 8)), np.ones((2, 3), bool), "quadrant_flags"),
        (np.ones((2, 8, 8)), np.ones((3, 4), bool), "quadrant_flags"),
        (np.ones((1, 8, 8)), np.array([[0, 0, 0, 0]], bool), "target"),
        (np.ones((1, 8, 8)), np.array([[1, 1, 1, 1]], bool), "target"),
        (np.ones((1, 8, 8)), np.array([[0.5, 1, 0, 0]]), "boolean"),
        (np.ones((1, 7, 8)), np.array([TL | TR]), "even"),
        (np.ones((8, 8)), np.array([TL | TR]), r"\(N, H, W\)"),
        (np.full((1, 8, 8), np.nan), np.array([TL | TR]), "finite"),
    ],
)
def test_bad_input_raises_value_error(maps, flags, match):
    with pytest.raises(ValueError, match=match):
        focus(maps, flags)


@pytest.mark.parametrize("empty_score", [1.5, -0.1, float("nan"), "zero"])
def test_bad_empty_score_raises(empty_score):
    with pytest.raises(ValueError, match="empty_score"):
        focus(np.zeros((1, 8, 8)), (TL | TR)[None], empty_score=empty_score)


# focus_evaluation -----------------------------------------------------------


def _mosaic_model(size=16, classes=3):
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(
        inputs
    )
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(x))


def _dataset():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 1])
    images = np.zeros((8, 8, 8, 1), "float32")
    images[labels == 0] = 1.0
    return images, labels


def test_evaluation_with_an_ideal_explainer_scores_one():
    images, labels = _dataset()

    def ideal(model):
        return lambda mosaics, targets: mosaics[..., 0]  # bright = class 0

    result = focus_evaluation(
        _mosaic_model(), ideal, images, labels, 12, target_class=0, seed=3
    )
    assert set(result) == {
        "scores",
        "targets",
        "quadrant_flags",
        "source_indices",
        "empty_maps",
    }
    np.testing.assert_allclose(result["scores"], np.ones(12))
    np.testing.assert_array_equal(result["targets"], np.zeros(12))
    assert result["quadrant_flags"].shape == (12, 4)
    assert np.all(result["quadrant_flags"].sum(axis=1) == 2)
    # The flagged quadrants hold class-0 images.
    flagged = result["source_indices"][result["quadrant_flags"]]
    assert np.all(labels[flagged] == 0)
    assert not result["empty_maps"].any()


def test_evaluation_with_gradcam_returns_a_distribution():
    images, labels = _dataset()
    model = _mosaic_model()
    # Eager (compile=False) keeps the test fast; the factory form and an
    # instance built by hand on the model give the same scores.
    factory = lambda m: GradCAM(m, compile=False)  # noqa: E731
    result = focus_evaluation(model, factory, images, labels, 6, seed=1)
    scores = result["scores"]
    assert scores.shape == (6,)
    assert np.all((scores >= 0) & (scores <= 1))
    instance = GradCAM(model, compile=False)
    again = focus_evaluation(model, instance, images, labels, 6, seed=1)
    np.testing.assert_allclose(again["scores"], scores)


def test_empty_maps_are_reported_and_scored_at_chance():
    images, labels = _dataset()

    def empty(model):
        return lambda mosaics, targets: np.zeros(mosaics.shape[:3])

    result = focus_evaluation(_mosaic_model(), empty, images, labels, 4)
    assert result["empty_maps"].all()
    np.testing.assert_allclose(result["scores"], np.full(4, 0.5))


def test_model_that_cannot_take_mosaics_raises_a_clear_error():
    images, labels = _dataset()
    with pytest.raises(ValueError, match=r"2H x 2W.*global pooling"):
        focus_evaluation(_mosaic_model(size=8), GradCAM, images, labels, 4)


def test_explainer_of_another_model_raises():
    images, labels = _dataset()
    with pytest.raises(ValueError, match="different model"):
        focus_evaluation(_mosaic_model(), GradCAM(_mosaic_model()), images, labels, 4)


def test_explainer_returning_wrong_shape_raises():
    images, labels = _dataset()

    def small(model):
        return lambda mosaics, targets: np.ones((len(mosaics), 4, 4))

    with pytest.raises(ValueError, match="one \\(2H, 2W\\) map per mosaic"):
        focus_evaluation(_mosaic_model(), small, images, labels, 4)


def test_images_outside_unit_range_raise():
    images, labels = _dataset()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        focus_evaluation(_mosaic_model(), GradCAM, images * 255, labels, 4)
