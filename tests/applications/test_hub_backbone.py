"""keras-hub image backbones inside `ImageClassifier` and the guided models.

The backbones are built from their configuration with random weights:
nothing is downloaded.
"""

import keras
import numpy as np
import pytest

from keras_xai.applications import (
    ABN,
    IMPACTX,
    ExplanationGuidedClassifier,
    ImageClassifier,
    MultitaskAttributeClassifier,
)
from keras_xai.explainers import GradCAM

keras_hub = pytest.importorskip(
    "keras_hub", reason="keras-hub is not installed (extra keras-xai[hub])"
)


def _resnet(image_shape=(None, None, 3)):
    """A two-stage ResNet (basic blocks), small enough for a test."""
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 32],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=image_shape,
    )


def _images(count=4, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((count, 32, 32, channels)).astype("float32")


def test_classifier_on_a_hub_backbone_predicts_explains_and_round_trips(tmp_path):
    backbone = _resnet()
    model = ImageClassifier(backbone, (32, 32, 1), 3)
    x = _images()
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (4, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert model.architecture == "keras_hub.ResNetBackbone"
    # The backbone is one layer; its output in the classifier's graph is
    # the CAM layer's feature map (4x4 here: the stem's stride and pooling
    # halve 32 twice, the second stage once more).
    split = model.split()
    assert split.layer_name == backbone.name
    features, _ = split.features_and_logits(x)
    assert tuple(features.shape) == (4, 4, 4, 32)
    maps = GradCAM(model)(x)
    assert maps.shape == (4, 32, 32) and np.all(np.isfinite(maps))
    assert np.ptp(maps) > 0
    # `.keras` round trip: the backbone is saved by its config and weights.
    path = tmp_path / "hub.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), probabilities, rtol=1e-5, atol=1e-6
    )
    assert restored.architecture == "keras_hub.ResNetBackbone"


def test_guided_models_wrap_a_hub_classifier_and_train():
    classifier = ImageClassifier(_resnet(), (32, 32, 1), 3)
    x, y = _images(8), np.arange(8) % 3
    masks = np.zeros((8, 32, 32), "float32")
    masks[:, 8:24, 8:24] = 1.0
    guided = ExplanationGuidedClassifier(classifier, views=2)
    guided.compile()
    history = guided.fit(x, {"label": y, "mask": masks}, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    impactx = IMPACTX(classifier)
    impactx.compile()
    outputs = impactx.predict(x, verbose=0)
    assert outputs["explanation"].shape == (8, 32, 32)
    abn = ABN(classifier, filters=(8,))
    abn.compile()
    history = abn.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # ABN copies the backbone's weights (they come with it, like pretrained
    # ones) instead of starting from a fresh initialisation.
    assert abn.init_from_classifier


def test_bad_hub_backbones_fail_clearly():
    with pytest.raises(ValueError, match="brings its own weights"):
        ImageClassifier(_resnet(), (32, 32, 3), 3, weights="imagenet")
    with pytest.raises(ValueError, match="does not fit the keras-hub backbone"):
        ImageClassifier(_resnet((64, 64, 3)), (32, 32, 3), 3)
    with pytest.raises(ValueError, match="`architecture` must be one of"):
        ImageClassifier(keras.Sequential([keras.layers.Dense(2)]), (32, 32, 3), 3)


def test_classifier_from_a_local_hub_preset(tmp_path):
    # A preset directory as keras-hub writes it (config and weights): the
    # same path a Kaggle handle takes once downloaded, with no network.
    backbone = _resnet()
    backbone.save_to_preset(str(tmp_path / "preset"))
    model = ImageClassifier.from_hub_preset(str(tmp_path / "preset"), (32, 32, 3), 4)
    assert model.architecture == "keras_hub.ResNetBackbone"
    loaded = model.get_layer(backbone.name)
    for got, want in zip(loaded.get_weights(), backbone.get_weights()):
        np.testing.assert_array_equal(got, want)  # the preset's weights
    assert model.predict(_images(2, channels=3), verbose=0).shape == (2, 4)
    with pytest.raises(ValueError, match="`preset` must be"):
        ImageClassifier.from_hub_preset("", (32, 32, 3), 4)


def test_multitask_model_on_a_hub_backbone_round_trips(tmp_path):
    model = MultitaskAttributeClassifier(
        _resnet(), (32, 32, 1), 3, attribute_names=["a", "b"]
    )
    x = _images(2)
    outputs = model.predict(x, verbose=0)
    path = tmp_path / "multitask.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    again = restored.predict(x, verbose=0)
    for key in ("class", "attributes"):
        np.testing.assert_allclose(again[key], outputs[key], rtol=1e-5, atol=1e-6)
