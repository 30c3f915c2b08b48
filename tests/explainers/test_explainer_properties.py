"""One generated property test for every attribution method.

Every method of the explainer registry (`keras_xai.explainers.by_name`) is
tested: shape, dtype, finite values, per-image targets, batch invariance,
determinism and bad input. A new method is tested by being registered.
"""

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.explainers.by_name import EXPLAINERS

# Options that keep a method fast; others run with their defaults.
FAST_OPTIONS = {
    "integrated_gradients": {"steps": 8},
    "smoothgrad": {"n": 4, "seed": 0},
    "gradient_shap": {"n": 4, "seed": 0},
    "occlusion": {"patch_size": 7},
    "shap": {"max_evals": 200},
    "lime": {"num_samples": 100},
}
# Methods whose map does not depend on the target class.
CLASS_AGNOSTIC = {"eigencam"}
# (name, options, class_specific), one entry per registered method.
METHODS = [
    pytest.param(name, FAST_OPTIONS.get(name, {}), name not in CLASS_AGNOSTIC, id=name)
    for name in EXPLAINERS
]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return ImageClassifier("lenet5", (28, 28, 1), num_classes=10)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(11)
    return rng.random((5, 28, 28, 1)).astype("float32")


def _make(name, options, model):
    return EXPLAINERS[name](model, **options)


@pytest.mark.multi_backend
@pytest.mark.parametrize("name, options, class_specific", METHODS)
def test_shape_dtype_targets_and_batch_invariance(
    name, options, class_specific, model, images
):
    explainer = _make(name, options, model)
    targets = np.array([0, 3, 9, 3, 1])
    maps = explainer(images, targets=targets)
    assert maps.shape == (5, 28, 28)
    assert maps.dtype == np.float32
    assert np.all(np.isfinite(maps))
    # Explained together or one by one: the same maps.
    single = np.concatenate(
        [explainer(images[i : i + 1], targets=targets[i : i + 1]) for i in range(5)]
    )
    np.testing.assert_allclose(maps, single, rtol=1e-3, atol=1e-5)
    # Deterministic.
    np.testing.assert_array_equal(maps, explainer(images, targets=targets))
    if class_specific:
        other = explainer(images, targets=(targets + 1) % 10)
        assert not np.allclose(maps, other)


@pytest.mark.parametrize("name, options, class_specific", METHODS)
def test_bad_input_is_a_clear_value_error(name, options, class_specific, model, images):
    explainer = _make(name, options, model)
    with pytest.raises(ValueError, match="`images`"):
        explainer(images[0])
    with pytest.raises(ValueError, match="`images` must have per-image shape"):
        explainer(np.zeros((2, 32, 32, 1), "float32"))
    with pytest.raises(ValueError, match="`targets` must be class indices"):
        explainer(images, targets=[0, 1, 2, 3, 10])
    with pytest.raises(ValueError, match="one entry per image"):
        explainer(images, targets=[0, 1])
    bad = images.copy()
    bad[0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        explainer(bad)


@pytest.mark.parametrize("name, options, class_specific", METHODS)
def test_default_targets_are_the_predicted_classes(
    name, options, class_specific, model, images
):
    explainer = _make(name, options, model)
    predicted = np.argmax(keras.ops.convert_to_numpy(model(images)), axis=-1)
    np.testing.assert_allclose(
        explainer(images), explainer(images, targets=predicted), rtol=1e-5, atol=1e-6
    )
