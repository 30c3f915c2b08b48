import numpy as np
import pytest

from keras_xai.datasets import load_default_dataset


def test_digits_are_resized_model_ready_images():
    data = load_default_dataset("digits", image_size=28)
    assert data.name == "digits"
    assert data.x_train.shape[1:] == (28, 28, 1)
    assert data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert data.x_train.max() > 0.9
    assert set(np.unique(data.y_test)) == set(range(10))
    assert len(data.class_names) == 10


def test_auto_falls_back_to_digits_when_fashion_mnist_is_missing(tmp_path):
    data = load_default_dataset("auto", path=str(tmp_path / "missing"))
    assert data.name == "digits"


def test_explicit_fashion_mnist_that_is_missing_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_default_dataset("fashion_mnist", path=str(tmp_path / "missing"))


@pytest.mark.requires_fashion_mnist
def test_auto_uses_fashion_mnist_when_installed():
    data = load_default_dataset("auto")
    assert data.name == "fashion_mnist"
    assert data.x_train.shape == (60000, 28, 28, 1)
    assert data.class_names[0] == "T-shirt/top"


def test_bad_name():
    with pytest.raises(ValueError, match="`name` must be one of"):
        load_default_dataset("cifar10")
