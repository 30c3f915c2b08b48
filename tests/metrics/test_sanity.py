import keras
import numpy as np
import pytest

from keras_xai.explainers import GradCAM
from keras_xai.metrics import cascading_randomization, focus, randomization_curve

# Re-initialising and running Keras models: every backend.
pytestmark = pytest.mark.multi_backend

WEIGHTED = ["conv", "bn", "dense1", "dense2"]  # input to output


def _model():
    """conv -> BN -> flatten -> dense1 -> dense2 -> softmax, all weights
    set away from their initial values (biases and BN statistics too), so
    every re-initialisation is visible."""
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(4, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(3, name="dense2")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(x))
    rng = np.random.default_rng(0)
    model.set_weights(
        [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in model.get_weights()]
    )
    return model


def _weights(model):
    return {
        layer.name: [np.array(w) for w in layer.get_weights()]
        for layer in model.layers
        if layer.weights
    }


def _changed(before, after):
    """Names of layers whose every weight array differs."""
    changed = set()
    for name, arrays in before.items():
        same = [np.array_equal(a, b) for a, b in zip(arrays, after[name])]
        assert all(same) or not any(same), (name, same)
        if not any(same):
            changed.add(name)
    return changed


def test_cascade_randomises_exactly_the_top_layers_cumulatively():
    model = _model()
    original = _weights(model)
    steps = list(cascading_randomization(model, seed=3))
    assert [name for name, _ in steps] == WEIGHTED[::-1]
    for k, (_, randomized) in enumerate(steps, start=1):
        assert randomized is not model
        assert _changed(original, _weights(randomized)) == set(WEIGHTED[::-1][:k])
    # The original model is untouched.
    assert _changed(original, _weights(model)) == set()
    for name, arrays in _weights(model).items():
        for a, b in zip(arrays, original[name]):
            np.testing.assert_array_equal(a, b)


def test_weights_are_redrawn_with_each_layers_initializers():
    model = _model()
    *_, (_, randomized) = cascading_randomization(model)
    kernel, bias = randomized.get_layer("dense1").get_weights()
    limit = np.sqrt(6 / (kernel.shape[0] + kernel.shape[1]))  # glorot_uniform
    assert np.abs(kernel).max() <= limit
    assert kernel.std() > 0
    np.testing.assert_array_equal(bias, 0)  # zeros
    gamma, beta, mean, variance = randomized.get_layer("bn").get_weights()
    np.testing.assert_array_equal(gamma, 1)
    np.testing.assert_array_equal(beta, 0)
    np.testing.assert_array_equal(mean, 0)
    np.testing.assert_array_equal(variance, 1)


def test_cascade_is_reproducible_and_consistent_across_steps():
    model = _model()
    first = [_weights(m) for _, m in cascading_randomization(model, seed=5)]
    second = [_weights(m) for _, m in cascading_randomization(model, seed=5)]
    other = [_weights(m) for _, m in cascading_randomization(model, seed=6)]
    for a, b in zip(first, second):
        for name in a:
            for x, y in zip(a[name], b[name]):
                np.testing.assert_array_equal(x, y)
    # dense2 gets the same random weights in every step that randomises it.
    for step in first[1:]:
        np.testing.assert_array_equal(step["dense2"][0], first[0]["dense2"][0])
    assert not np.array_equal(other[0]["dense2"][0], first[0]["dense2"][0])


def test_chosen_layers_in_chosen_order():
    model = _model()
    original = _weights(model)
    steps = list(cascading_randomization(model, layers=["dense1", "conv"]))
    assert [name for name, _ in steps] == ["dense1", "conv"]
    assert _changed(original, _weights(steps[0][1])) == {"dense1"}
    assert _changed(original, _weights(steps[1][1])) == {"dense1", "conv"}


@pytest.mark.parametrize(
    "layers, match",
    [
        (["nope"], "not a layer"),
        (["flatten"], "no weights"),
        (["conv", "conv"], "repeats"),
        ([], "non-empty"),
        ("conv", "list of layer names"),
    ],
)
def test_bad_layers_raise(layers, match):
    with pytest.raises(ValueError, match=match):
        cascading_randomization(_model(), layers=layers)


def test_not_a_model_raises():
    with pytest.raises(ValueError, match="keras.Model"):
        cascading_randomization(lambda x: x)


def test_randomization_curve_scores_each_step():
    model = _model()
    images = np.random.default_rng(0).random((4, 6, 6, 1)).astype("float32")

    def explainer(m):
        # A "map" that depends on the top layer's weights only.
        value = float(np.sum(m.get_layer("dense2").get_weights()[0]))
        return lambda x, t: np.full((len(x), 6, 6), value)

    curve = randomization_curve(
        model, explainer, images, None, metric=lambda maps: maps[:, 0, 0]
    )
    assert curve["layers"] == ["original", "dense2", "dense1", "bn", "conv"]
    expected = [np.sum(model.get_layer("dense2").get_weights()[0])]
    for _, m in cascading_randomization(model):
        expected.append(np.sum(m.get_layer("dense2").get_weights()[0]))
    np.testing.assert_allclose(curve["scores"], expected, rtol=1e-6)
    assert curve["scores"][0] != curve["scores"][1]
    assert [s.shape for s in curve["per_image_scores"]] == [(4,)] * 5


def test_randomization_curve_with_gradcam_and_focus():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(
        inputs
    )
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(2, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(x))
    mosaics = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    flags = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]], bool)
    curve = randomization_curve(
        model,
        lambda m: GradCAM(m, compile=False),
        mosaics,
        [0, 1, 0],
        metric=lambda maps: focus(maps, flags),
    )
    assert curve["layers"] == ["original", "logits", "conv"]
    assert curve["scores"].shape == (3,)
    assert np.all((curve["scores"] >= 0) & (curve["scores"] <= 1))


def test_randomization_curve_rejects_nan_scores_and_non_callables():
    model = _model()
    images = np.zeros((2, 6, 6, 1), "float32")

    def explainer(m):
        return lambda x, t: np.zeros((len(x), 6, 6))

    with pytest.raises(ValueError, match="finite"):
        randomization_curve(model, explainer, images, None, lambda maps: np.nan)
    with pytest.raises(ValueError, match="metric"):
        randomization_curve(model, explainer, images, None, metric="focus")
