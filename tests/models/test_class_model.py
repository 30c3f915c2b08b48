import numpy as np
import pytest

from keras_xai.applications import IMPACTX, ImageClassifier
from keras_xai.models.class_model import (
    class_model,
    has_own_explanation,
    predict_outputs,
)


def test_plain_classifier_is_its_own_class_model():
    model = ImageClassifier("lenet5", (28, 28, 1), 3)
    assert class_model(model) is model
    assert not has_own_explanation(model)
    probabilities, explanations = predict_outputs(model, np.zeros((2, 28, 28, 1)))
    assert probabilities.shape == (2, 3) and explanations is None


def test_self_explaining_model_gives_its_class_output_and_map():
    model = IMPACTX(ImageClassifier("lenet5", (28, 28, 1), 3), latent_dim=8)
    images = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    sub = class_model(model)
    assert sub is class_model(model)  # cached: one traced predict function
    outputs = model.predict(images, verbose=0)
    np.testing.assert_allclose(sub.predict(images, verbose=0), outputs["class"])
    probabilities, explanations = predict_outputs(model, images)
    assert has_own_explanation(model)
    np.testing.assert_allclose(explanations, outputs["explanation"])
    np.testing.assert_allclose(probabilities, outputs["class"])


def test_bad_model():
    with pytest.raises(ValueError, match="keras.Model"):
        class_model("model")
