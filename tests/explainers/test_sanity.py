"""Adebayo et al.'s model-randomisation sanity check for explainers.

A method whose maps barely change when the weights are re-initialised
explains the input, not the model. Maps of a trained LeNet-5 and of a
randomly initialised one must be (nearly) uncorrelated.
"""

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from keras_xai import explainers
from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset

SANITY_METHODS = ["GradCAM"]


@pytest.fixture(scope="module")
def trained_and_random():
    data = load_default_dataset("digits")
    keras.utils.set_random_seed(0)
    trained = ImageClassifier("lenet5", (28, 28, 1), 10)
    trained.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    trained.fit(data.x_train, data.y_train, epochs=8, batch_size=64, verbose=0)
    _, accuracy = trained.evaluate(data.x_test, data.y_test, verbose=0)
    assert accuracy > 0.8, accuracy
    keras.utils.set_random_seed(1)
    random = ImageClassifier("lenet5", (28, 28, 1), 10)
    return trained, random, data.x_test[:40], data.y_test[:40]


@pytest.mark.large
@pytest.mark.parametrize("name", SANITY_METHODS)
def test_randomised_model_gives_uncorrelated_maps(name, trained_and_random):
    trained, random, images, labels = trained_and_random
    method = getattr(explainers, name)
    trained_maps = method(trained)(images, targets=labels)
    random_maps = method(random)(images, targets=labels)
    correlations = [
        spearmanr(a.ravel(), b.ravel())[0]
        for a, b in zip(trained_maps, random_maps)
        if a.std() > 0 and b.std() > 0
    ]
    assert len(correlations) > 20
    assert abs(np.mean(correlations)) < 0.3, np.mean(correlations)
