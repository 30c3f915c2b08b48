import keras
import numpy as np
import pytest

from keras_xai.benchmarks.shortcut.evaluation import explanation_faithfulness
from keras_xai.datasets.shortcut import ShortcutSplit


def _patch_model(explanation):
    """Class 0's logit is the top-left 4x4 patch's sum minus 8.

    With that patch at 1 the model is sure of class 0; replacing the patch
    by U(0, 1) noise takes it to about even. `explanation` picks the map the
    model outputs: the image itself (a faithful map: the patch is its only
    bright region) or its negative (the patch ranked last).
    """
    images = keras.Input((8, 8, 1))
    weights = np.zeros((64, 2), "float32")
    weights[[row * 8 + col for row in range(4) for col in range(4)], 0] = 1.0
    dense = keras.layers.Dense(2)
    logits = dense(keras.layers.Flatten()(images))
    probabilities = keras.layers.Activation("softmax")(logits)
    dense.set_weights([weights, np.array([-8.0, 0.0], "float32")])
    if explanation is None:
        return keras.Model(images, probabilities)
    maps = keras.layers.Reshape((8, 8))(images)
    if explanation == "negated":
        maps = keras.layers.Lambda(lambda m: -m)(maps)
    return keras.Model(images, {"class": probabilities, "explanation": maps})


def _split(num=40):
    images = np.zeros((num, 8, 8, 1), "float32")
    images[:, :4, :4, 0] = np.linspace(0.95, 1.0, num)[:, None, None]
    labels = np.zeros(num, "int64")
    masks = np.zeros((num, 8, 8), "float32")
    return ShortcutSplit(images, labels, masks, masks, labels)


def test_a_faithful_own_map_beats_random_and_matches_shap():
    result = explanation_faithfulness(
        _patch_model("image"), _split(), num_images=40, shap_evals=64
    )
    # The patch goes first: the probability drops from ~1 to ~0.5 at once.
    assert result["aopc_own"] > 0.4
    assert result["aopc_random"] < result["aopc_own"] - 0.1
    assert result["aopc_shap"] == pytest.approx(result["aopc_own"], abs=0.02)
    assert abs(result["aopc_own_minus_shap"]) < 0.02
    assert result["own_shap_correlation"] > 0.5


def test_an_unfaithful_own_map_loses_to_shap():
    result = explanation_faithfulness(
        _patch_model("negated"), _split(), num_images=40, shap_evals=64
    )
    assert result["aopc_own"] < result["aopc_random"]
    assert result["aopc_own_minus_shap"] < -0.2
    assert result["own_shap_correlation"] < 0.0


def test_a_plain_classifier_has_no_own_map_keys():
    result = explanation_faithfulness(
        _patch_model(None), _split(), num_images=8, shap_evals=64
    )
    assert set(result) == {"aopc_shap", "aopc_random"}


def test_bad_num_images():
    with pytest.raises(ValueError, match="num_images"):
        explanation_faithfulness(_patch_model(None), _split(), num_images=0)
