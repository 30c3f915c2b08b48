import gzip
import pathlib
import struct

import numpy as np
import pytest

from keras_xai.datasets import load_idx_dataset, read_idx
from tests.datasets.conftest import idx_bytes, write_bytes

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


def _values(dtype, shape):
    rng = np.random.default_rng(0)
    if dtype.startswith("float"):
        return rng.normal(size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_read_idx_round_trips_every_type(tmp_path, write_idx, dtype, compress):
    expected = _values(dtype, (3, 5, 4))
    path = write_idx(tmp_path / "data.idx", expected, compress=compress)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype)
    assert result.dtype.isnative
    assert result.shape == (3, 5, 4)
    np.testing.assert_array_equal(result, expected)
    result[0, 0, 0] = 0  # writable, not a view of the file buffer


def test_read_idx_decodes_big_endian_bytes_by_hand(tmp_path):
    data = struct.pack(">HBBI", 0, 0x0B, 1, 3) + struct.pack(">3h", 1, -2, 258)
    path = write_bytes(tmp_path / "handmade", data)
    np.testing.assert_array_equal(read_idx(str(path)), [1, -2, 258])


@pytest.mark.parametrize("shape", [(7,), (2, 3), (2, 1, 3, 2), (0, 28, 28)])
def test_read_idx_shapes(tmp_path, write_idx, shape):
    expected = np.arange(int(np.prod(shape)), dtype="uint8").reshape(shape)
    result = read_idx(write_idx(tmp_path / "x", expected))
    assert result.shape == shape
    np.testing.assert_array_equal(result, expected)


def test_read_idx_detects_gzip_by_magic_bytes_not_extension(tmp_path, write_idx):
    expected = np.arange(12, dtype="uint8").reshape(3, 4)
    gzipped = write_idx(tmp_path / "no-extension", expected, compress=True)
    plain = write_idx(tmp_path / "looks-compressed.gz", expected, compress=False)
    np.testing.assert_array_equal(read_idx(gzipped), expected)
    np.testing.assert_array_equal(read_idx(plain), expected)


def test_read_idx_missing_file(tmp_path):
    path = tmp_path / "absent-idx1-ubyte"
    with pytest.raises(FileNotFoundError, match="absent-idx1-ubyte"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_truncated_data(tmp_path, compress):
    data = idx_bytes(np.arange(20, dtype="uint8").reshape(4, 5))[:-3]
    path = write_bytes(tmp_path / "short-file", data, compress=compress)
    with pytest.raises(ValueError, match=r"short-file is truncated.*needs 20.*17"):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    # Declares 3 dimensions (16 header bytes) but stops after 2 of them.
    data = struct.pack(">HBB2I", 0, 0x08, 3, 10, 28)
    path = write_bytes(tmp_path / "short-header", data)
    with pytest.raises(ValueError, match=r"short-header is truncated.*16 header"):
        read_idx(path)


def test_read_idx_too_short_for_magic(tmp_path):
    path = write_bytes(tmp_path / "tiny", b"\x00\x00")
    with pytest.raises(ValueError, match=r"tiny is too short.*Received 2"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_trailing_bytes(tmp_path, compress):
    data = idx_bytes(np.arange(6, dtype="int32")) + b"\x00\x01"
    path = write_bytes(tmp_path / "long-file", data, compress=compress)
    with pytest.raises(ValueError, match=r"long-file has 2 trailing byte"):
        read_idx(path)


def test_read_idx_bad_magic(tmp_path):
    data = b"\x01\x02" + idx_bytes(np.arange(4, dtype="uint8"))[2:]
    path = write_bytes(tmp_path / "bad-magic", data)
    with pytest.raises(ValueError, match=r"bad-magic has a bad magic number.*0x0102"):
        read_idx(path)


def test_read_idx_unknown_type_code(tmp_path):
    data = struct.pack(">HBBI", 0, 0x0A, 1, 2) + b"\x00\x00"
    path = write_bytes(tmp_path / "bad-type", data)
    with pytest.raises(ValueError, match=r"bad-type has an unknown type code.*0x0A"):
        read_idx(path)


def test_read_idx_zero_dimensions(tmp_path):
    path = write_bytes(tmp_path / "scalar", struct.pack(">HBB", 0, 0x08, 0) + b"\x05")
    with pytest.raises(ValueError, match=r"scalar must declare at least 1"):
        read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(100, dtype="uint8")))
    path = write_bytes(tmp_path / "broken.gz", compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=r"broken.gz .*cannot be decompressed"):
        read_idx(path)


# --- load_idx_dataset ---


def test_load_idx_dataset_reads_the_four_standard_files(tmp_path, make_mnist_dir):
    arrays = make_mnist_dir(tmp_path / "mnist", size=(5, 6))
    (x_train, y_train), (x_test, y_test) = load_idx_dataset(tmp_path / "mnist")
    for result in (x_train, y_train, x_test, y_test):
        assert result.dtype == np.uint8
    assert x_train.shape == (6, 5, 6) and y_train.shape == (6,)
    assert x_test.shape == (4, 5, 6) and y_test.shape == (4,)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_idx_dataset_mixes_plain_and_gzipped_files(tmp_path, make_mnist_dir):
    arrays = make_mnist_dir(tmp_path, compress=False)
    # Replace one plain file by its compressed version.
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    write_bytes(tmp_path / "t10k-labels-idx1-ubyte.gz", plain.read_bytes(), True)
    plain.unlink()
    (_, _), (_, y_test) = load_idx_dataset(str(tmp_path))
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_idx_dataset_custom_file_names(tmp_path, write_idx):
    images = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3)
    labels = np.array([1, 0], dtype="uint8")
    names = ["a-images", "a-labels", "b-images.gz", "b-labels"]
    write_idx(tmp_path / names[0], images)
    write_idx(tmp_path / names[1], labels)
    write_idx(tmp_path / names[2], images[::-1], compress=True)
    write_idx(tmp_path / "b-labels.gz", labels[::-1], compress=True)
    (x_train, y_train), (x_test, y_test) = load_idx_dataset(tmp_path, files=names)
    np.testing.assert_array_equal(x_test, images[::-1])
    np.testing.assert_array_equal(y_test, labels[::-1])


def test_load_idx_dataset_casts_wider_integer_labels(tmp_path, make_mnist_dir):
    make_mnist_dir(tmp_path, compress=False)
    labels = np.array([0, 1, 2, 3, 4, 255], dtype="int32")
    write_bytes(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))
    (_, y_train), _ = load_idx_dataset(tmp_path)
    assert y_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train, labels)


def test_load_idx_dataset_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_idx_dataset(tmp_path / "nowhere")


def test_load_idx_dataset_missing_file(tmp_path, make_mnist_dir):
    make_mnist_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte or .*\.gz"):
        load_idx_dataset(tmp_path)


def test_load_idx_dataset_count_mismatch(tmp_path, make_mnist_dir, write_idx):
    make_mnist_dir(tmp_path, compress=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, dtype="uint8"))
    with pytest.raises(ValueError, match=r"counts differ.*6 images.*5 labels"):
        load_idx_dataset(tmp_path)


@pytest.mark.parametrize(
    "images",
    [np.zeros((6, 28), "uint8"), np.zeros((6, 2, 2), "float32")],
    ids=["2d", "float"],
)
def test_load_idx_dataset_rejects_bad_images(tmp_path, make_mnist_dir, images):
    make_mnist_dir(tmp_path, compress=False)
    write_bytes(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte must hold a 3-D"):
        load_idx_dataset(tmp_path)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.zeros((4, 1), "uint8"), "must hold a 1-D integer"),
        (np.zeros(4, "float32"), "must hold a 1-D integer"),
        (np.array([0, 1, 2, 300], "int16"), r"must hold labels in \[0, 255\].*300"),
    ],
    ids=["2d", "float", "out-of-range"],
)
def test_load_idx_dataset_rejects_bad_labels(tmp_path, make_mnist_dir, labels, message):
    make_mnist_dir(tmp_path, compress=False)
    write_bytes(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte " + message):
        load_idx_dataset(tmp_path)


def test_load_idx_dataset_train_test_size_mismatch(tmp_path, make_mnist_dir, write_idx):
    make_mnist_dir(tmp_path, compress=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 27, 28), "uint8"))
    with pytest.raises(ValueError, match=r"differ in size.*\(28, 28\).*\(27, 28\)"):
        load_idx_dataset(tmp_path)


@pytest.mark.parametrize("files", [("a", "b", "c"), "abcd"])
def test_load_idx_dataset_rejects_bad_files_argument(tmp_path, files):
    with pytest.raises(ValueError, match="`files` must be four file names"):
        load_idx_dataset(tmp_path, files=files)


def test_load_idx_dataset_propagates_corrupt_file_errors(tmp_path, make_mnist_dir):
    make_mnist_dir(tmp_path, compress=False)
    path = pathlib.Path(tmp_path / "train-images-idx3-ubyte")
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte is truncated"):
        load_idx_dataset(tmp_path)


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    import gzip
    import tracemalloc

    # A header for 10 bytes, then 64 MB of zeros: ~64 KB compressed.
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=1) as file:
        file.write(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big"))
        block = bytes(1 << 20)
        for _ in range(64):
            file.write(block)
    tracemalloc.start()
    with pytest.raises(ValueError, match="bomb-idx1-ubyte.gz has over .* trailing"):
        read_idx(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20  # never the 64 MB payload


def test_header_larger_than_the_gzip_can_hold(tmp_path):
    import gzip

    path = tmp_path / "huge-idx3-ubyte.gz"
    header = b"\x00\x00\x08\x03" + b"".join(
        n.to_bytes(4, "big") for n in (60000, 2000, 2000)
    )
    path.write_bytes(gzip.compress(header))
    with pytest.raises(ValueError, match="huge-idx3-ubyte.gz is truncated.*more than"):
        read_idx(path)


def test_too_many_dimensions_names_the_file(tmp_path):
    path = tmp_path / "dims-idx"
    path.write_bytes(b"\x00\x00\x08\x64" + (1).to_bytes(4, "big") * 100 + b"\x07")
    with pytest.raises(ValueError, match="dims-idx must declare at most 32"):
        read_idx(path)
