"""Reader for the IDX format of MNIST-style datasets (MNIST, Fashion-MNIST, ...).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the values in
row-major order, multi-byte types big-endian. Files are often gzip-compressed.

Reference: Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of
handwritten digits", http://yann.lecun.com/exdb/mnist/.
"""

import contextlib
import gzip
import math
import os
import struct
import zlib

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"

_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Order: train images, train labels, test images, test labels.
DEFAULT_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def read_idx(path):
    """Reads one IDX file, plain or gzip-compressed, into a numpy array.

    Compression is detected from the gzip magic bytes, not the file name.
    The header is validated and the payload must hold exactly the number of
    values the header's dimensions declare.

    Args:
        path: str or path-like. The IDX file.

    Returns:
        A numpy array of the header's shape, in native byte order, with dtype
        uint8, int8, int16, int32, float32 or float64 (type codes 0x08, 0x09,
        0x0B, 0x0C, 0x0D, 0x0E).

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if the file is not a valid IDX file (bad magic number,
            unknown type code, truncated data or trailing bytes, corrupt
            gzip stream); the message names the file.

    Example:

    ```python
    labels = read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
    labels.shape  # (10000,)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        with _open_stream(path) as (stream, compressed):
            return _read_idx_stream(stream, path, compressed)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"IDX file {path} starts with the gzip magic bytes but cannot be "
            f"decompressed: {error}"
        ) from error


# numpy 1.x's limit on dimensions (2.x allows 64); IDX files have 1 to 4.
_MAX_IDX_DIMS = 32
# DEFLATE expands by at most ~1032:1, so a gzip file of n bytes holds at most
# about 1032·n bytes: a header declaring more cannot be honest.
_MAX_GZIP_RATIO = 1100
_TRAILING_CAP = 1 << 16


def _read_idx_stream(stream, path, compressed):
    """Reads and checks the header, then exactly the declared payload.

    The payload is read into a preallocated array, never more than the
    header declares (plus one byte to detect trailing data), so a
    compressed file that inflates far beyond its header is refused after
    reading one byte past the declared size, not after inflating it all.
    """
    head = stream.read(4)
    if len(head) < 4:
        raise ValueError(
            f"IDX file {path} is too short for an IDX header: expected at least "
            f"4 bytes. Received {len(head)} byte(s)"
        )
    zeros, code, ndim = struct.unpack(">HBB", head)
    if zeros != 0:
        raise ValueError(
            f"IDX file {path} has a bad magic number: expected two zero bytes, "
            f"a type code and the number of dimensions. Received: 0x{head.hex()}"
        )
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{known:02X}" for known in _IDX_DTYPES)
        raise ValueError(
            f"IDX file {path} has an unknown type code: expected one of {known}. "
            f"Received: 0x{code:02X}"
        )
    if ndim < 1:
        raise ValueError(
            f"IDX file {path} must declare at least 1 dimension. Received: ndim=0"
        )
    if ndim > _MAX_IDX_DIMS:
        raise ValueError(
            f"IDX file {path} must declare at most {_MAX_IDX_DIMS} dimensions. "
            f"Received: ndim={ndim}"
        )
    header_size = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"IDX file {path} is truncated: its header declares {ndim} "
            f"dimension(s), which needs {header_size} header bytes. "
            f"Received {4 + len(dims)} byte(s)"
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _IDX_DTYPES[code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    size = os.path.getsize(path)
    if compressed and expected > size * _MAX_GZIP_RATIO:
        raise ValueError(
            f"IDX file {path} is truncated: its header declares shape {shape} "
            f"of {dtype.name}, which needs {expected} data bytes, more than a "
            f"{size}-byte gzip file can hold"
        )
    payload = np.empty(expected, dtype=np.uint8)
    received = _read_into(stream, memoryview(payload))
    if received < expected:
        raise ValueError(
            f"IDX file {path} is truncated: its header declares shape {shape} "
            f"of {dtype.name}, which needs {expected} data bytes. "
            f"Received {received}"
        )
    # Counted up to a cap: a decompression bomb stops here, not inflated.
    trailing = len(stream.read(_TRAILING_CAP + 1))
    if trailing:
        counted = (
            f"{trailing}" if trailing <= _TRAILING_CAP else f"over {_TRAILING_CAP}"
        )
        raise ValueError(
            f"IDX file {path} has {counted} trailing byte(s): its header "
            f"declares shape {shape} of {dtype.name}, which needs {expected} "
            f"data bytes"
        )
    array = payload.view(dtype)
    # `astype` copies, so the result is writable and in native byte order.
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _read_into(stream, view):
    """Fills `view` from `stream` until it is full or the stream ends."""
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


def load_idx_dataset(directory, files=None):
    """Loads an MNIST-format dataset (four IDX files) from a directory.

    Works for MNIST, Fashion-MNIST, KMNIST and any dataset in the same layout.
    Each file is found with or without a `.gz` suffix.

    Args:
        directory: str or path-like. The directory holding the files.
        files: sequence of four str or `None`. The file names of the train
            images, train labels, test images and test labels, in that order.
            Defaults to `None`, the standard MNIST names
            (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
            `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`).

    Returns:
        `(x_train, y_train), (x_test, y_test)` like `keras.datasets`: uint8
        images of shape `(N, H, W)` and uint8 labels of shape `(N,)`.

    Raises:
        FileNotFoundError: if `directory` or one of the files is missing.
        ValueError: if a file is not valid IDX, images are not 3-D uint8,
            labels are not 1-D integers in [0, 255], image and label counts
            differ, or train and test images differ in size.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = load_idx_dataset("/data/mnist")
    x_train.shape  # (60000, 28, 28)
    ```
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"IDX dataset directory not found: {directory}")
    if files is None:
        files = DEFAULT_FILES
    if isinstance(files, (str, bytes)) or len(files) != 4:
        raise ValueError(
            "`files` must be four file names (train images, train labels, test "
            f"images, test labels). Received: files={files!r}"
        )
    paths = [find_idx_file(directory, name) for name in files]
    x_train, y_train, x_test, y_test = (read_idx(path) for path in paths)
    x_train = _check_idx_images(x_train, paths[0])
    x_test = _check_idx_images(x_test, paths[2])
    y_train = _check_idx_labels(y_train, paths[1])
    y_test = _check_idx_labels(y_test, paths[3])
    for images, labels, images_path, labels_path in (
        (x_train, y_train, paths[0], paths[1]),
        (x_test, y_test, paths[2], paths[3]),
    ):
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"IDX image and label counts differ: {images_path} holds "
                f"{images.shape[0]} images but {labels_path} holds "
                f"{labels.shape[0]} labels"
            )
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"IDX train and test images differ in size: {paths[0]} holds images "
            f"of shape {x_train.shape[1:]} but {paths[2]} holds {x_test.shape[1:]}"
        )
    return (x_train, y_train), (x_test, y_test)


def find_idx_file(directory, name):
    """Returns the path of `name` or `name + ".gz"` in `directory`.

    Raises:
        FileNotFoundError: naming the paths tried, if neither is a file.
    """
    candidates = [name] if name.endswith(".gz") else [name, name + ".gz"]
    for candidate in candidates:
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    tried = " or ".join(os.path.join(directory, c) for c in candidates)
    raise FileNotFoundError(f"IDX file not found: {tried}")


@contextlib.contextmanager
def _open_stream(path):
    """`(binary stream, compressed)`: gzip is detected from its magic bytes."""
    with open(path, "rb") as file:
        compressed = file.read(2) == _GZIP_MAGIC
        file.seek(0)
        if not compressed:
            yield file, False
            return
        with gzip.GzipFile(fileobj=file, mode="rb") as stream:
            yield stream, True


def _check_idx_images(images, path):
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"IDX image file {path} must hold a 3-D uint8 array (N, H, W). "
            f"Received shape {images.shape} of {images.dtype}"
        )
    return images


def _check_idx_labels(labels, path):
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"IDX label file {path} must hold a 1-D integer array (N,). "
            f"Received shape {labels.shape} of {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(
            f"IDX label file {path} must hold labels in [0, 255]. "
            f"Received values in [{labels.min()}, {labels.max()}]"
        )
    return labels.astype("uint8", copy=False)
