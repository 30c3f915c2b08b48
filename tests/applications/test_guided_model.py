import keras
import numpy as np
import pytest

from keras_xai.applications import (
    ABN,
    IMPACTX,
    ExplanationEnsemble,
    ExplanationGuidedClassifier,
    MultitaskAttributeClassifier,
)
from keras_xai.applications.guided_model import GuidedModel, is_auto

WRAPPERS = (ABN, IMPACTX, ExplanationEnsemble, ExplanationGuidedClassifier)


class _Model(GuidedModel):
    config_arguments = ("alpha",)

    def __init__(self, classifier, alpha=0.5, **kwargs):
        super().__init__(classifier.inputs, classifier.outputs, **kwargs)
        self.classifier, self.alpha = classifier, alpha

    def compile_defaults(self, arguments):
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}


def test_is_auto_only_for_the_string():
    assert is_auto("auto")
    assert not is_auto("adam") and not is_auto(None)
    assert not is_auto(np.array(["auto", "auto"]))


def test_resolve_compile_arguments():
    model = _Model.from_architecture("lenet5", (28, 28, 1), 3)
    resolved = model.resolve_compile_arguments(
        optimizer="auto", loss="auto", loss_weights="auto", metrics=["mae"]
    )
    assert isinstance(resolved["optimizer"], keras.optimizers.Adam)
    assert float(resolved["optimizer"].learning_rate) == pytest.approx(1e-3)
    assert resolved["loss"] == "sparse_categorical_crossentropy"
    # No default: None, Keras's own default.
    assert resolved["loss_weights"] is None
    assert resolved["metrics"] == ["mae"]
    sgd = keras.optimizers.SGD()
    assert model.resolve_compile_arguments(optimizer=sgd) == {"optimizer": sgd}


def test_config_comes_from_the_declared_arguments():
    model = _Model.from_architecture("lenet5", (28, 28, 1), 3, alpha=0.25)
    config = model.get_config()
    assert list(config) == ["classifier", "alpha", "name", "trainable"]
    again = _Model.from_config(config)
    assert again.alpha == 0.25 and again.classifier is not model.classifier
    model.compile()
    assert model.compiled and isinstance(model.optimizer, keras.optimizers.Adam)


@pytest.mark.parametrize("cls", WRAPPERS)
def test_every_wrapper_builds_from_an_architecture(cls):
    options = {"filters": (8,)} if cls is ABN else {}
    if cls is ExplanationEnsemble:
        options = {"num_members": 2}
    model = cls.from_architecture("lenet5", (28, 28, 1), 3, **options)
    assert isinstance(model, GuidedModel)
    output = model.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)
    if isinstance(output, dict):
        output = output["class"]
    assert output.shape == (2, 3)
    assert list(model.get_config())[0] == "classifier"
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.Adam)


def test_multitask_builds_its_own_backbone_from_an_architecture():
    model = MultitaskAttributeClassifier.from_architecture(
        "lenet5", (28, 28, 1), 3, attribute_names=["x", "y"]
    )
    assert isinstance(model, GuidedModel)
    assert model.num_attributes == 2 and model.num_classes == 3
