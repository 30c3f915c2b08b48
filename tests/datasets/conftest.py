"""Fixtures writing small IDX files in the original format."""

import gzip
import struct

import numpy as np
import pytest

IDX_CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int8"): 0x09,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
    np.dtype("float64"): 0x0E,
}


def idx_bytes(array):
    """Encodes `array` as IDX: magic, big-endian uint32 dims, big-endian data."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype]
    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_bytes(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def write_idx():
    """Returns `write(path, array, compress=False)` writing an IDX file."""

    def write(path, array, compress=False):
        return write_bytes(path, idx_bytes(array), compress=compress)

    return write


@pytest.fixture
def make_mnist_dir(write_idx):
    """Returns `make(directory, ...)` writing a tiny MNIST-format dataset."""

    def make(
        directory,
        num_train=6,
        num_test=4,
        size=(28, 28),
        num_classes=10,
        compress=True,
        seed=0,
    ):
        rng = np.random.default_rng(seed)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            "train-images-idx3-ubyte": rng.integers(
                0, 256, (num_train,) + size, dtype=np.uint8
            ),
            "train-labels-idx1-ubyte": rng.integers(
                0, num_classes, num_train, dtype=np.uint8
            ),
            "t10k-images-idx3-ubyte": rng.integers(
                0, 256, (num_test,) + size, dtype=np.uint8
            ),
            "t10k-labels-idx1-ubyte": rng.integers(
                0, num_classes, num_test, dtype=np.uint8
            ),
        }
        for name, array in arrays.items():
            filename = name + ".gz" if compress else name
            write_idx(directory / filename, array, compress=compress)
        return arrays

    return make
