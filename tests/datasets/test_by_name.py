import numpy as np
import pytest

from keras_xai.datasets import DATASETS, load
from tests.datasets.test_cifar import cifar10  # noqa: F401 (a fixture)


def test_builtin_dataset_by_name():
    data = load("digits")
    assert data.name == "digits" and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0


def test_on_disk_dataset_by_name_is_model_ready(cifar10):  # noqa: F811
    root, (x_train, y_train), _ = cifar10
    data = load("cifar10", str(root))
    assert data.name == "cifar10" and data.x_train.shape == (10, 32, 32, 3)
    np.testing.assert_allclose(data.x_train, x_train / 255.0, atol=1e-6)
    np.testing.assert_array_equal(data.y_train, y_train)
    assert data.y_train.dtype == np.int32 and len(data.class_names) == 10


def test_unknown_name():
    assert "cifar100" in DATASETS
    with pytest.raises(ValueError, match="`name` must be one of"):
        load("mnist")
