import os
import pickle

import numpy as np
import pytest

from keras_xai.datasets import Dataset
from keras_xai.datasets.cifar import load_cifar10, load_cifar100
from tests.datasets.format_writers import (
    Payload,
    cifar_binary_records,
    cifar_rows,
    py2_pickle,
    write_lines,
)

CIFAR10_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
FINE_NAMES = [f"fine_{i}" for i in range(100)]
COARSE_NAMES = [f"coarse_{i}" for i in range(20)]


def _random_split(rng, count, num_classes):
    images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    return images, rng.integers(0, num_classes, count)


@pytest.fixture
def cifar10(tmp_path):
    """Writes the python and binary versions of a tiny CIFAR-10 (2 images a batch)."""
    rng = np.random.default_rng(0)
    batches = [_random_split(rng, 2, 10) for _ in range(5)]
    test = _random_split(rng, 3, 10)
    python_dir = tmp_path / "cifar-10-batches-py"
    binary_dir = tmp_path / "cifar-10-batches-bin"
    python_dir.mkdir()
    binary_dir.mkdir()
    files = [(f"data_batch_{i + 1}", batch) for i, batch in enumerate(batches)]
    for name, (images, labels) in files + [("test_batch", test)]:
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(label) for label in labels],
            b"data": cifar_rows(images),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(len(labels))],
        }
        (python_dir / name).write_bytes(py2_pickle(batch))
        (binary_dir / f"{name}.bin").write_bytes(cifar_binary_records(images, labels))
    meta = {
        b"label_names": [n.encode() for n in CIFAR10_NAMES],
        b"num_cases_per_batch": 2,
        b"num_vis": 3072,
    }
    (python_dir / "batches.meta").write_bytes(py2_pickle(meta))
    write_lines(binary_dir / "batches.meta.txt", CIFAR10_NAMES + ["", ""])
    x_train = np.concatenate([images for images, _ in batches])
    y_train = np.concatenate([labels for _, labels in batches])
    return tmp_path, (x_train, y_train), test


@pytest.fixture
def cifar100(tmp_path):
    rng = np.random.default_rng(1)
    splits = {}
    python_dir = tmp_path / "cifar-100-python"
    binary_dir = tmp_path / "cifar-100-binary"
    python_dir.mkdir()
    binary_dir.mkdir()
    for name, count in (("train", 4), ("test", 3)):
        images, fine = _random_split(rng, count, 100)
        coarse = fine // 5
        splits[name] = (images, fine, coarse)
        batch = {
            b"filenames": [b"x.png"] * count,
            b"batch_label": name.encode(),
            b"fine_labels": [int(v) for v in fine],
            b"coarse_labels": [int(v) for v in coarse],
            b"data": cifar_rows(images),
        }
        (python_dir / name).write_bytes(py2_pickle(batch))
        records = cifar_binary_records(images, coarse, fine)
        (binary_dir / f"{name}.bin").write_bytes(records)
    meta = {
        b"fine_label_names": [n.encode() for n in FINE_NAMES],
        b"coarse_label_names": [n.encode() for n in COARSE_NAMES],
    }
    (python_dir / "meta").write_bytes(py2_pickle(meta))
    write_lines(binary_dir / "fine_label_names.txt", FINE_NAMES)
    write_lines(binary_dir / "coarse_label_names.txt", COARSE_NAMES)
    return tmp_path, splits


def _check_split(x, y, images, labels):
    assert x.dtype == np.uint8 and x.shape == images.shape
    assert x.flags.c_contiguous
    assert y.dtype == np.int64
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("version", ["python", "binary"])
@pytest.mark.parametrize("subdir", [True, False])
def test_load_cifar10_both_versions(cifar10, version, subdir):
    root, (x_train, y_train), (x_test, y_test) = cifar10
    suffix = "py" if version == "python" else "bin"
    path = root / f"cifar-10-batches-{suffix}" if subdir else root
    data = load_cifar10(path, version=version)
    assert isinstance(data, Dataset) and data.name == "cifar10"
    _check_split(data.x_train, data.y_train, x_train, y_train)
    _check_split(data.x_test, data.y_test, x_test, y_test)
    assert data.class_names == tuple(CIFAR10_NAMES)


def test_cifar10_channel_layout_by_hand(tmp_path):
    # Red encodes the row, green the column, blue is constant: a transposed or
    # channel-swapped reader gives different pixels.
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = np.arange(32)[:, None]
    image[..., 1] = np.arange(32)[None, :] + 100
    image[..., 2] = 7
    red = bytes(r for r in range(32) for _ in range(32))
    green = bytes(c + 100 for _ in range(32) for c in range(32))
    blue = bytes([7]) * 1024
    record = bytes([4]) + red + green + blue
    directory = tmp_path / "cifar-10-batches-bin"
    directory.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (directory / name).write_bytes(record)
    write_lines(directory / "batches.meta.txt", CIFAR10_NAMES)
    data = load_cifar10(tmp_path)
    assert data.x_train.shape == (5, 32, 32, 3) and data.y_train.tolist() == [4] * 5
    np.testing.assert_array_equal(data.x_test[0], image)
    assert data.x_test[0, 3, 17].tolist() == [3, 117, 7]


def test_auto_prefers_the_directory_given_then_binary(cifar10):
    root, *_ = cifar10
    # Both versions under `root`: auto takes the binary one. Break the python
    # files to show they are not read.
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(b"garbage")
    load_cifar10(root)
    with pytest.raises(ValueError, match="test_batch is not a valid pickle"):
        load_cifar10(root, version="python")
    with pytest.raises(ValueError, match="test_batch is not a valid pickle"):
        load_cifar10(root / "cifar-10-batches-py")


@pytest.mark.parametrize("version", ["python", "binary"])
@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_load_cifar100_both_versions(cifar100, version, label_mode):
    root, splits = cifar100
    data = load_cifar100(root, label_mode=label_mode, version=version)
    assert data.name == ("cifar100" if label_mode == "fine" else "cifar100_coarse")
    column = 1 if label_mode == "fine" else 2
    _check_split(
        data.x_train, data.y_train, splits["train"][0], splits["train"][column]
    )
    _check_split(data.x_test, data.y_test, splits["test"][0], splits["test"][column])
    names = FINE_NAMES if label_mode == "fine" else COARSE_NAMES
    assert data.class_names == tuple(names)


def test_bad_arguments(cifar10, cifar100):
    root, *_ = cifar10
    with pytest.raises(ValueError, match=r"`version` must be one of .*'pickle'"):
        load_cifar10(root, version="pickle")
    with pytest.raises(ValueError, match=r"`label_mode` must be one of .*'medium'"):
        load_cifar100(root, label_mode="medium")
    with pytest.raises(ValueError, match="`label_mode`"):
        load_cifar100(root, label_mode=None)


def test_missing_files(tmp_path, cifar10):
    with pytest.raises(FileNotFoundError, match="not_here"):
        load_cifar10(tmp_path / "not_here")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"No CIFAR-10 files found.*test_batch"):
        load_cifar10(empty)
    with pytest.raises(FileNotFoundError, match="No CIFAR-100 files"):
        load_cifar100(empty)
    root, *_ = cifar10
    os.remove(root / "cifar-10-batches-bin" / "data_batch_3.bin")
    with pytest.raises(FileNotFoundError, match=r"data_batch_3\.bin"):
        load_cifar10(root)
    os.remove(root / "cifar-10-batches-py" / "batches.meta")
    with pytest.raises(FileNotFoundError, match=r"batches\.meta"):
        load_cifar10(root, version="python")


def test_truncated_binary_file(cifar10, cifar100):
    root, *_ = cifar10
    path = root / "cifar-10-batches-bin" / "data_batch_2.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"data_batch_2\.bin is truncated.*3073-byte"):
        load_cifar10(root)
    root100, _ = cifar100
    path = root100 / "cifar-100-binary" / "test.bin"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match=r"test\.bin is truncated.*3074-byte"):
        load_cifar100(root100, version="binary")


def test_binary_labels_out_of_range(cifar10, cifar100):
    root, *_ = cifar10
    path = root / "cifar-10-batches-bin" / "test_batch.bin"
    data = bytearray(path.read_bytes())
    data[3073] = 10  # label of the second record
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"test_batch\.bin holds labels outside \[0, 10\)"
    ):
        load_cifar10(root)
    root100, _ = cifar100
    path = root100 / "cifar-100-binary" / "train.bin"
    data = bytearray(path.read_bytes())
    data[0] = 20  # coarse label of the first record
    path.write_bytes(bytes(data))
    load_cifar100(root100, "fine", version="binary")  # fine labels are fine
    with pytest.raises(ValueError, match=r"train\.bin holds labels outside \[0, 20\)"):
        load_cifar100(root100, "coarse", version="binary")


def _rewrite_python_batch(path, **changes):
    batch = {
        b"labels": [0, 1],
        b"data": np.zeros((2, 3072), np.uint8),
        b"batch_label": b"x",
    }
    batch.update({key.encode(): value for key, value in changes.items()})
    batch = {key: value for key, value in batch.items() if value is not None}
    path.write_bytes(py2_pickle(batch))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"labels": [0, 10]}, r"labels outside \[0, 10\)"),
        ({"labels": [0, 1, 2]}, "holds 2 images but 3 'labels'"),
        ({"labels": None}, "no 'labels' entry"),
        ({"data": np.zeros((2, 3071), np.uint8)}, r"\(N, 3072\). Received shape"),
        ({"data": np.zeros((2, 3072), np.int64)}, "of int64"),
        ({"data": [1, 2]}, "Received list"),
    ],
)
def test_corrupt_python_batches(cifar10, changes, message):
    root, *_ = cifar10
    path = root / "cifar-10-batches-py" / "data_batch_4"
    _rewrite_python_batch(path, **changes)
    with pytest.raises(ValueError, match=f"data_batch_4.*{message}"):
        load_cifar10(root, version="python")


def test_python_batch_not_a_dict(cifar10):
    root, *_ = cifar10
    (root / "cifar-10-batches-py" / "test_batch").write_bytes(py2_pickle([1, 2]))
    with pytest.raises(ValueError, match="test_batch must hold a dict"):
        load_cifar10(root, version="python")


def test_python3_pickles_load_too(cifar10):
    root, (x_train, y_train), _ = cifar10
    directory = root / "cifar-10-batches-py"
    for index, protocol in zip(range(1, 6), (0, 2, 3, 4, 5)):
        rows = slice(2 * (index - 1), 2 * index)
        images, labels = x_train[rows], y_train[rows]
        batch = {"data": cifar_rows(images), "labels": labels.tolist()}
        (directory / f"data_batch_{index}").write_bytes(pickle.dumps(batch, protocol))
    data = load_cifar10(directory)
    np.testing.assert_array_equal(data.x_train, x_train)
    np.testing.assert_array_equal(data.y_train, y_train)


def test_malicious_batch_is_refused_and_not_run(cifar10):
    root, *_ = cifar10
    marker = root / "pwned"
    evil = {b"data": Payload(os.system, f"touch {marker}"), b"labels": [0]}
    (root / "cifar-10-batches-py" / "data_batch_1").write_bytes(pickle.dumps(evil, 2))
    with pytest.raises(ValueError, match=r"data_batch_1.*posix\.system"):
        load_cifar10(root, version="python")
    assert not marker.exists()


def test_class_names_count_is_checked(cifar10):
    root, *_ = cifar10
    write_lines(root / "cifar-10-batches-bin" / "batches.meta.txt", CIFAR10_NAMES[:9])
    with pytest.raises(
        ValueError, match=r"batches\.meta\.txt must list 10 .*Received 9"
    ):
        load_cifar10(root)
