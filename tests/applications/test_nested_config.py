import copy

import keras

from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.nested_config import deserialize_classifier


def _functional():
    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(hidden))


def _layer_configs(model):
    return [(type(layer).__name__, layer.get_config()) for layer in model.layers]


def test_classifier_entry_becomes_the_serialised_model():
    classifier = _functional()
    config = {
        "classifier": keras.saving.serialize_keras_object(classifier),
        "latent_dim": 8,
        "name": "outer",
    }
    result = deserialize_classifier(config)
    assert result is not config
    assert result["latent_dim"] == 8 and result["name"] == "outer"
    model = result["classifier"]
    assert isinstance(model, keras.Model) and model is not classifier
    assert _layer_configs(model) == _layer_configs(classifier)


def test_the_given_config_is_not_consumed():
    # Keras deserialisation edits a functional model's config dict in
    # place; the caller's config must survive, so it can be reused.
    config = {"classifier": keras.saving.serialize_keras_object(_functional())}
    before = copy.deepcopy(config)
    first = deserialize_classifier(config)["classifier"]
    assert config == before
    second = deserialize_classifier(config)["classifier"]
    assert first is not second
    assert _layer_configs(first) == _layer_configs(second)


def test_keras_xai_classifier_comes_back_as_its_class():
    classifier = ImageClassifier("lenet5", (20, 20, 1), 3, hidden_units=(4,))
    config = {"classifier": keras.saving.serialize_keras_object(classifier)}
    model = deserialize_classifier(config)["classifier"]
    assert type(model) is ImageClassifier
    assert model.get_config() == classifier.get_config()


def test_entries_that_are_not_dicts_pass_through():
    classifier = _functional()
    config = {"classifier": classifier, "seed": 1}
    result = deserialize_classifier(config)
    assert result == config and result is not config
    assert result["classifier"] is classifier
    assert deserialize_classifier({"seed": 1}) == {"seed": 1}
