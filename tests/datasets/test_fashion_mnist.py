import numpy as np
import pytest

from keras_xai.datasets import fashion_mnist


@pytest.mark.requires_fashion_mnist
def test_load_data_reads_the_real_dataset():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 1000))
    assert x_train.max() == 255 and x_train.min() == 0
    # Black background: the image corners are dark on average.
    assert x_train[:, 0, 0].mean() < 5
    assert fashion_mnist.is_available()


def test_class_names():
    assert len(fashion_mnist.CLASS_NAMES) == 10
    assert fashion_mnist.CLASS_NAMES[0] == "T-shirt/top"
    assert fashion_mnist.CLASS_NAMES[9] == "Ankle boot"


def test_env_var_points_at_another_directory(tmp_path, monkeypatch, make_mnist_dir):
    arrays = make_mnist_dir(tmp_path / "tiny")
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path / "tiny"))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert fashion_mnist.is_available()


def test_path_argument_wins_over_env_var(tmp_path, monkeypatch, make_mnist_dir):
    make_mnist_dir(tmp_path / "from-env", num_train=3)
    make_mnist_dir(tmp_path / "from-path", num_train=5, compress=False)
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path / "from-env"))
    (x_train, _), _ = fashion_mnist.load_data(path=tmp_path / "from-path")
    assert x_train.shape[0] == 5


def test_missing_directory_says_how_to_install(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data(path=missing)
    message = str(info.value)
    assert str(missing) in message
    assert "apt-get update && apt-get install -y dataset-fashion-mnist" in message
    assert "path=" in message


def test_missing_env_var_directory_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=r"gone \(from \$KERAS_XAI_FASHION"):
        fashion_mnist.load_data()
    assert not fashion_mnist.is_available()


def test_incomplete_directory_names_the_missing_file(tmp_path, make_mnist_dir):
    make_mnist_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data(path=tmp_path)
    assert "train-labels-idx1-ubyte" in str(info.value)
    assert "apt-get install -y dataset-fashion-mnist" in str(info.value)
    assert not fashion_mnist.is_available(tmp_path)


def test_is_available(tmp_path, make_mnist_dir):
    assert not fashion_mnist.is_available(tmp_path / "missing")
    assert not fashion_mnist.is_available(tmp_path)
    make_mnist_dir(tmp_path, compress=False)
    assert fashion_mnist.is_available(tmp_path)
    assert fashion_mnist.is_available(str(tmp_path))


def test_rejects_images_that_are_not_28x28(tmp_path, make_mnist_dir):
    make_mnist_dir(tmp_path, size=(8, 8))
    with pytest.raises(ValueError, match=r"must be 28x28.*\(6, 8, 8\)"):
        fashion_mnist.load_data(path=tmp_path)


def test_rejects_labels_outside_the_ten_classes(tmp_path, make_mnist_dir, write_idx):
    make_mnist_dir(tmp_path, compress=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0, 1, 10, 2], "uint8"))
    with pytest.raises(ValueError, match=r"test labels .* \[0, 10\).*maximum of 10"):
        fashion_mnist.load_data(path=tmp_path)
