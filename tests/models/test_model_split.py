import keras
import numpy as np
import pytest

from keras_xai.applications import (
    ImageClassifier,
    default_feature_layer,
    logits_tensor,
    model_split,
)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.multi_backend
def test_split_gives_features_and_logits_in_one_call():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    split = model.split()
    assert split.layer_name == "pool2"
    features, logits = split(images)
    assert features.shape == (4, 4, 4, 16)
    np.testing.assert_allclose(
        _numpy(split.head(features)), _numpy(logits), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        _numpy(split.logits_model(images)), _numpy(logits), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        _numpy(keras.ops.softmax(logits)), _numpy(model(images)), rtol=1e-5, atol=1e-6
    )
    assert model.split() is split  # cached


def test_split_at_an_earlier_layer():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    split = model_split(model, "conv2")
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    features, logits = split(images)
    assert features.shape == (2, 8, 8, 16)
    np.testing.assert_allclose(
        _numpy(split.head(features)), _numpy(logits), rtol=1e-5, atol=1e-6
    )


def test_user_model_with_softmax_activation_layer():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(3, name="dense")(x)
    model = keras.Model(inputs, keras.layers.Softmax()(x))
    assert default_feature_layer(model) == "conv"
    assert logits_tensor(model) is model.get_layer("dense").output


def test_user_model_outputting_logits():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    assert logits_tensor(model) is model.outputs[0]


def test_dense_softmax_output_is_rejected_with_advice():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(
        inputs, keras.layers.Dense(3, activation="softmax", name="out")(x)
    )
    with pytest.raises(ValueError, match='Activation\\("softmax"\\)'):
        model_split(model)


def test_split_errors():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    with pytest.raises(ValueError, match="`layer` must name a layer"):
        model_split(model, "nope")
    with pytest.raises(ValueError, match="4-D"):
        model_split(model, "fc1")
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no layer with a 4-D"):
        model_split(dense)
    with pytest.raises(ValueError, match="functional or Sequential"):
        model_split("model")


def test_skip_connection_across_the_layer_is_explained():
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(3, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(3, 3, padding="same", name="b")(a)
    x = keras.layers.Add(name="add")([b, inputs])
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    with pytest.raises(ValueError, match="skip connection"):
        model_split(model, "b")


def test_one_logits_model_per_classifier():
    from keras_xai.explainers import GradCAM, Saliency
    from keras_xai.models import logits_model
    from keras_xai.training.hard_negative_mining import PerSampleLoss

    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    shared = logits_model(model)
    assert shared.name == f"{model.name}_logits"
    assert shared.outputs[0] is logits_tensor(model)
    assert model_split(model).logits_model is shared
    assert Saliency(model).logits_model is shared
    assert GradCAM(model).logits_model is shared
    assert PerSampleLoss(model).logits_model is shared
    other = ImageClassifier("lenet5", (28, 28, 1), 10)
    assert logits_model(other) is not shared
