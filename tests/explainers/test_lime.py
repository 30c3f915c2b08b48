import keras
import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from keras_xai.explainers.lime import (
    LIME,
    fit_surrogate,
    lime_weights,
    superpixel_means,
)
from tests.explainers.perturbation_models import linear_model, numpy_init

SIDE = 12


def _grid(image):
    """Nine 4x4 superpixels, labelled row by row."""
    rows, cols = np.indices(image.shape[:2]) // 4
    return rows * 3 + cols


def _region_model(weight=3.0):
    """Class 1's logit is `weight * sum` of the centre 4x4 block; class 0's
    is the sum of the whole image."""
    kernel = np.zeros((SIDE, SIDE, 2), "float32")
    kernel[..., 0] = 1.0 / SIDE
    kernel[4:8, 4:8, 1] = weight
    return linear_model(kernel.reshape(-1, 2))


def _images(count, seed=0):
    return np.random.default_rng(seed).random((count, SIDE, SIDE, 1)).astype("float32")


@pytest.mark.multi_backend
def test_region_read_by_the_model_gets_the_largest_coefficient():
    model = _region_model()
    images = _images(2)
    explainer = LIME(
        model, num_samples=300, segmentation=_grid, hide_color=0.0, output="logits"
    )
    maps = explainer(images, targets=[1, 1])
    assert maps.shape == (2, SIDE, SIDE) and maps.dtype == np.float32
    for image, lime_map in zip(images, maps):
        centre = lime_map[4:8, 4:8]
        np.testing.assert_array_equal(centre, centre[0, 0])  # one superpixel
        assert centre[0, 0] > 0
        others = np.delete(lime_map.reshape(3, 4, 3, 4)[:, 0, :, 0].ravel(), 4)
        assert np.abs(others).max() < 0.05 * centre[0, 0]
        # The score is exactly linear in the mask: ridge shrinks the true
        # effect (3 * the block's sum) only slightly.
        assert centre[0, 0] == pytest.approx(3.0 * image[4:8, 4:8].sum(), rel=0.05)
    # num_features=1 keeps that superpixel alone.
    single = LIME(
        model,
        num_samples=300,
        num_features=1,
        segmentation=_grid,
        hide_color=0.0,
        output="logits",
    )(images[:1], targets=[1])[0]
    assert np.count_nonzero(single) == 16 and np.all(single[4:8, 4:8] > 0)


def test_surrogate_is_lime_weighted_ridge_regression():
    rng = np.random.default_rng(0)
    samples = rng.integers(0, 2, size=(200, 6))
    samples[0] = 1
    scores = samples @ rng.normal(size=6) + 0.1 * rng.normal(size=200)
    weights = lime_weights(samples, 0.25)
    # LIME's kernel on sklearn's cosine distance to the all-ones mask.
    distances = pairwise_distances(samples, np.ones((1, 6)), metric="cosine")[:, 0]
    np.testing.assert_allclose(
        weights, np.sqrt(np.exp(-(distances**2) / 0.25**2)), rtol=1e-10
    )
    # Weighted ridge with an unpenalised intercept, solved in closed form.
    design = np.hstack([np.ones((200, 1)), samples])
    penalty = np.diag([0.0] + [1.0] * 6)
    gram = design.T @ (weights[:, None] * design) + penalty
    solution = np.linalg.solve(gram, design.T @ (weights * scores))
    np.testing.assert_allclose(
        fit_surrogate(samples, scores, weights), solution[1:], rtol=1e-6, atol=1e-9
    )


def test_reproducible_with_a_seed_and_independent_of_the_batch():
    inputs = keras.Input((SIDE, SIDE, 1))
    hidden = keras.layers.Dense(
        16, activation="relu", kernel_initializer=numpy_init(0)
    )(keras.layers.Flatten()(inputs))
    logits = keras.layers.Dense(3, kernel_initializer=numpy_init(1))(hidden)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    images = _images(3, seed=1)
    targets = np.array([0, 2, 1])
    explainer = LIME(model, num_samples=64, segmentation=_grid, seed=5)
    maps = explainer(images, targets=targets)
    np.testing.assert_array_equal(maps, explainer(images, targets=targets))
    alone = explainer(images[1:2], targets=targets[1:2])
    np.testing.assert_allclose(alone[0], maps[1], rtol=1e-5, atol=1e-8)
    other_seed = LIME(model, num_samples=64, segmentation=_grid, seed=6)
    assert not np.allclose(maps, other_seed(images, targets=targets))


@pytest.mark.parametrize(
    "segmentation, options",
    [
        ("slic", None),
        ("quickshift", {"kernel_size": 2, "max_dist": 5}),
        ("felzenszwalb", {"min_size": 5}),
    ],
)
def test_maps_are_constant_on_each_scikit_image_superpixel(segmentation, options):
    model = _region_model()
    # Four flat quadrants plus a little noise: clear superpixels.
    rows, cols = np.indices((SIDE, SIDE)) // (SIDE // 2)
    image = (0.1 + 0.3 * (2 * rows + cols))[None, ..., None] + 0.02 * _images(1)
    explainer = LIME(
        model,
        num_samples=40,
        segmentation=segmentation,
        segmentation_options=options,
    )
    labels = explainer.segment(image[0])
    assert labels.shape == (SIDE, SIDE) and labels.min() == 0
    assert labels.max() >= 1  # more than one superpixel
    lime_map = explainer(image, targets=[1])[0]
    for label in range(labels.max() + 1):
        values = lime_map[labels == label]
        np.testing.assert_array_equal(values, values[0])


def test_hidden_superpixels_take_their_mean_colour():
    image = np.arange(2 * 4 * 2, dtype="float32").reshape(2, 4, 2)
    labels = np.array([[0, 0, 1, 1], [2, 2, 1, 1]])
    means = superpixel_means(image, labels)
    np.testing.assert_allclose(means[0, 0], image[0, :2].mean(0))
    np.testing.assert_allclose(means[1, 3], image[:, 2:].reshape(-1, 2).mean(0))
    np.testing.assert_allclose(means[1, 0], image[1, :2].mean(0))


def test_lime_bad_arguments():
    model = _region_model()
    for bad in (1, 0, 10.5, None):
        with pytest.raises(ValueError, match="`num_samples`"):
            LIME(model, num_samples=bad)
    with pytest.raises(ValueError, match="`num_features` must be >= 1"):
        LIME(model, num_features=0)
    with pytest.raises(ValueError, match="`segmentation` must be one of"):
        LIME(model, segmentation="watershed")
    with pytest.raises(ValueError, match="`segmentation_options` must be a dict"):
        LIME(model, segmentation_options=[("n_segments", 5)])
    for bad in (0, -0.1, np.inf, "wide"):
        with pytest.raises(ValueError, match="`kernel_width` must be a"):
            LIME(model, kernel_width=bad)
    with pytest.raises(ValueError, match="`hide_color` must broadcast"):
        LIME(model, hide_color=np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="`output` must be one of"):
        LIME(model, output="softmax")
    with pytest.raises(ValueError, match="`segmentation` must give integer labels"):
        LIME(model, segmentation=lambda image: np.zeros((4, 4), "int32"))(
            _images(1), targets=[0]
        )
    with pytest.raises(ValueError, match="`targets` must be class indices"):
        LIME(model)(_images(1), targets=[2])


def test_quickshift_needs_one_or_three_channels():
    model = linear_model(np.zeros((128, 2)), image_shape=(8, 8, 2))
    with pytest.raises(ValueError, match="quickshift.*1- or 3-channel"):
        LIME(model, num_samples=8, segmentation="quickshift")(
            np.zeros((1, 8, 8, 2), "float32"), targets=[0]
        )


def test_progress_bar_only_when_verbose(capsys):
    model = _region_model()
    LIME(model, num_samples=16, segmentation=_grid)(_images(2), targets=[0, 1])
    assert capsys.readouterr().err == ""
    LIME(model, num_samples=16, segmentation=_grid, verbose=True)(
        _images(2), targets=[0, 1]
    )
    assert "LIME" in capsys.readouterr().err
