import numpy as np
import pytest

from keras_xai.datasets import Dataset
from keras_xai.datasets.stl10 import load_stl10, load_stl10_unlabeled
from tests.datasets.format_writers import write_lines

SIZE = 96
NAMES = [
    "airplane",
    "bird",
    "car",
    "cat",
    "deer",
    "dog",
    "horse",
    "monkey",
    "ship",
    "truck",
]


def _value(n, row, col, channel):
    """The byte stored for image n, pixel (row, col), channel: unique-ish
    and asymmetric in row and column, so any wrong axis order shows."""
    return (n * 61 + row * 7 + col * 3 + channel * 101) % 256


def _column_major_bytes(count, offset=0):
    # Written straight from the format description: per image, per channel,
    # per column, the pixels from top to bottom.
    out = bytearray()
    for n in range(offset, offset + count):
        for channel in range(3):
            for col in range(SIZE):
                out.extend(_value(n, row, col, channel) for row in range(SIZE))
    return bytes(out)


def _expected(count, offset=0):
    n, row, col, channel = np.meshgrid(
        np.arange(offset, offset + count),
        np.arange(SIZE),
        np.arange(SIZE),
        np.arange(3),
        indexing="ij",
    )
    return _value(n, row, col, channel).astype(np.uint8)


@pytest.fixture
def stl10(tmp_path):
    directory = tmp_path / "stl10_binary"
    directory.mkdir()
    (directory / "train_X.bin").write_bytes(_column_major_bytes(2))
    (directory / "train_y.bin").write_bytes(bytes([1, 10]))
    (directory / "test_X.bin").write_bytes(_column_major_bytes(3, offset=2))
    (directory / "test_y.bin").write_bytes(bytes([5, 2, 7]))
    (directory / "unlabeled_X.bin").write_bytes(_column_major_bytes(3, offset=5))
    write_lines(directory / "class_names.txt", NAMES)
    return tmp_path


@pytest.mark.parametrize("subdir", [True, False])
def test_load_stl10_transposes_column_major_images(stl10, subdir):
    path = stl10 / "stl10_binary" if subdir else stl10
    data = load_stl10(path)
    assert isinstance(data, Dataset) and data.name == "stl10"
    x_train, y_train, x_test, y_test = (
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
    )
    assert x_train.shape == (2, 96, 96, 3) and x_train.dtype == np.uint8
    assert x_train.flags.c_contiguous
    np.testing.assert_array_equal(x_train, _expected(2))
    np.testing.assert_array_equal(x_test, _expected(3, offset=2))
    # One pixel by hand: image 1, row 5, column 80, blue.
    assert x_train[1, 5, 80, 2] == (61 + 35 + 240 + 202) % 256
    assert y_train.dtype == np.int64
    assert y_train.tolist() == [0, 9]
    assert y_test.tolist() == [4, 1, 6]
    assert data.class_names == tuple(NAMES)


def test_unlabeled_images_are_not_loaded_by_default(stl10):
    (stl10 / "stl10_binary" / "unlabeled_X.bin").write_bytes(b"not images")
    load_stl10(stl10)  # would fail if it read the broken unlabelled file
    with pytest.raises(ValueError, match=r"unlabeled_X\.bin is truncated"):
        load_stl10_unlabeled(stl10)


def test_load_stl10_unlabeled(stl10):
    np.testing.assert_array_equal(load_stl10_unlabeled(stl10), _expected(3, offset=5))
    first = load_stl10_unlabeled(stl10, max_images=2)
    np.testing.assert_array_equal(first, _expected(2, offset=5))
    assert load_stl10_unlabeled(stl10, max_images=10).shape[0] == 3
    with pytest.raises(ValueError, match="`max_images` must be None or an int >= 1"):
        load_stl10_unlabeled(stl10, max_images=0)


def test_truncated_image_file(stl10):
    path = stl10 / "stl10_binary" / "test_X.bin"
    path.write_bytes(path.read_bytes()[:-96])
    with pytest.raises(ValueError, match=r"test_X\.bin is truncated.*27648"):
        load_stl10(stl10)


@pytest.mark.parametrize("labels", [bytes([0, 3]), bytes([1, 11])])
def test_labels_must_be_1_to_10(stl10, labels):
    (stl10 / "stl10_binary" / "train_y.bin").write_bytes(labels)
    with pytest.raises(ValueError, match=r"train_y\.bin must hold labels in \[1, 10\]"):
        load_stl10(stl10)


def test_image_and_label_counts_must_match(stl10):
    (stl10 / "stl10_binary" / "test_y.bin").write_bytes(bytes([1, 2]))
    with pytest.raises(
        ValueError, match=r"test_X\.bin holds 3 images but .*test_y\.bin"
    ):
        load_stl10(stl10)


def test_missing_files(tmp_path, stl10):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_stl10(tmp_path / "nowhere")
    (stl10 / "stl10_binary" / "class_names.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"class_names\.txt"):
        load_stl10(stl10)
    (stl10 / "stl10_binary" / "test_y.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"test_y\.bin"):
        load_stl10(stl10)


def test_class_names_count_is_checked(stl10):
    write_lines(stl10 / "stl10_binary" / "class_names.txt", NAMES + ["extra"])
    with pytest.raises(ValueError, match="must list 10 names. Received 11"):
        load_stl10(stl10)
