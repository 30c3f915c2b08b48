"""Adebayo et al.'s model-randomisation sanity check for explainers.

A method whose maps barely change when the weights are re-initialised
explains the input, not the model. For each method we compare, by Spearman
rank correlation per image, the maps of a trained LeNet-5 with those of
(a) a randomly initialised LeNet-5 and (b) a second LeNet-5 trained from
another seed. Maps must depend on the learned weights: (a) at least 0.15 below (b).

Measured here (digits, 40 test images): GradCAM 0.78 (trained vs trained)
against ~0 (trained vs random); Input×Gradient and Integrated Gradients
~0.6 against ~0. Saliency (|∂y/∂x|) keeps ~0.45 against 0.71: with valid
convolutions, border pixels get systematically smaller gradients in any
LeNet-5, a positional pattern shared by random and trained weights.
"""

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from keras_xai import explainers
from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset

# (method, bound on |correlation| with the random model, or None)
SANITY_METHODS = [
    ("GradCAM", 0.3),
    ("InputXGradient", 0.3),
    ("IntegratedGradients", 0.3),
    ("Saliency", None),
]


def _trained(data, seed):
    keras.utils.set_random_seed(seed)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(data.x_train, data.y_train, epochs=8, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    assert accuracy > 0.8, accuracy
    return model


@pytest.fixture(scope="module")
def models():
    data = load_default_dataset("digits")
    first, second = _trained(data, 0), _trained(data, 5)
    keras.utils.set_random_seed(1)
    random = ImageClassifier("lenet5", (28, 28, 1), 10)
    return first, second, random, data.x_test[:40], data.y_test[:40]


def _correlation(maps_a, maps_b):
    values = [
        spearmanr(a.ravel(), b.ravel())[0]
        for a, b in zip(maps_a, maps_b)
        if a.std() > 0 and b.std() > 0
    ]
    return float(np.mean(values)) if values else 0.0


@pytest.mark.large
@pytest.mark.parametrize("name, bound", SANITY_METHODS)
def test_maps_depend_on_the_learned_weights(name, bound, models):
    first, second, random, images, labels = models
    method = getattr(explainers, name)
    reference = method(first)(images, targets=labels)
    with_trained = _correlation(reference, method(second)(images, targets=labels))
    with_random = _correlation(reference, method(random)(images, targets=labels))
    assert with_random < with_trained - 0.15, (with_random, with_trained)
    if bound is not None:
        assert abs(with_random) < bound, with_random
