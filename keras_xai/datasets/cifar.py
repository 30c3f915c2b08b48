"""CIFAR-10 and CIFAR-100, read from the original python or binary files.

Nothing is downloaded. Both distributed versions are read:

- the python version (`cifar-10-batches-py/`: `data_batch_1` ... `_5`,
  `test_batch`, `batches.meta`; `cifar-100-python/`: `train`, `test`,
  `meta`), pickled dicts read with the restricted unpickler of
  `keras_xai.datasets.safe_pickle` (a pickle can run code when loaded with
  plain `pickle`);
- the binary version (`cifar-10-batches-bin/`: `data_batch_1.bin` ...
  `_5.bin`, `test_batch.bin`, `batches.meta.txt`; `cifar-100-binary/`:
  `train.bin`, `test.bin`, `fine_label_names.txt`,
  `coarse_label_names.txt`), fixed-size records of label byte(s) followed
  by 3072 pixel bytes.

Every image is 3072 bytes: the 1024 red values row-major, then green, then
blue.

Reference: A. Krizhevsky, "Learning Multiple Layers of Features from Tiny
Images", technical report, University of Toronto, 2009.
"""

import os

import numpy as np

from keras_xai.datasets._binary_records import count_records
from keras_xai.datasets._image_files import check_choice
from keras_xai.datasets._text_tables import require_file
from keras_xai.datasets.default_dataset import Dataset
from keras_xai.datasets.downloads import fetch_dataset
from keras_xai.datasets.safe_pickle import load_file

_PIXELS = 32 * 32 * 3
VERSIONS = ("auto", "binary", "python")
LABEL_MODES = ("fine", "coarse")

# dataset -> version -> (directory name, train files, test file).
_LAYOUTS = {
    "CIFAR-10": {
        "binary": (
            "cifar-10-batches-bin",
            tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
            "test_batch.bin",
        ),
        "python": (
            "cifar-10-batches-py",
            tuple(f"data_batch_{i}" for i in range(1, 6)),
            "test_batch",
        ),
    },
    "CIFAR-100": {
        "binary": ("cifar-100-binary", ("train.bin",), "test.bin"),
        "python": ("cifar-100-python", ("train",), "test"),
    },
}


def load_cifar10(path=None, version="auto"):
    """Loads CIFAR-10 from the original python or binary files.

    Args:
        path: str or path-like. The directory holding the batch files
            (`cifar-10-batches-py/` or `cifar-10-batches-bin/`), or its
            parent.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("cifar10")`). Defaults to `None`.
        version: str. `"python"`, `"binary"`, or `"auto"` to use whichever
            is there (the binary version when both are, as it needs no
            unpickling). Defaults to `"auto"`.

    Returns:
        A `keras_xai.datasets.Dataset` named `"cifar10"`: `x_train`,
        `x_test` uint8 images `(N, 32, 32, 3)` channels-last (values 0-255,
        as `keras.datasets.cifar10.load_data()` gives them; see
        `to_float_images`), `y_train`, `y_test` int64 labels in `[0, 10)`,
        and `class_names` read from `batches.meta` / `batches.meta.txt`
        (`"airplane"`, ... `"truck"`). N is 50000 and 10000 for the original
        files.

    Raises:
        FileNotFoundError: if no CIFAR-10 files are found or one is missing;
            the message names it.
        ValueError: if `version` is not recognised, or a file is corrupt: a
            binary file whose size is not a multiple of the 3073-byte
            record, a pickle that is not a batch dict or holds code, `data`
            that is not `(N, 3072)` uint8, labels outside `[0, 10)`, or
            metadata not listing 10 names; the message names the file.

    Example:

    ```python
    from keras_xai.datasets import to_float_images
    from keras_xai.datasets.cifar import load_cifar10

    data = load_cifar10("/data/cifar-10-batches-py")
    x_train = to_float_images(data.x_train)  # (50000, 32, 32, 3) float32
    data.class_names[data.y_train[0]]  # 'frog'
    ```
    """
    if path is None:
        path = fetch_dataset("cifar10")
    directory, version = _find_version(path, "CIFAR-10", version)
    _, train_files, test_file = _LAYOUTS["CIFAR-10"][version]
    train = [_read_split(directory, name, version, "CIFAR-10") for name in train_files]
    x_test, y_test = _read_split(directory, test_file, version, "CIFAR-10")
    if version == "binary":
        names_path = os.path.join(directory, "batches.meta.txt")
        names = _read_names_txt(names_path)
    else:
        names_path = os.path.join(directory, "batches.meta")
        names = _read_names_pickle(names_path, "label_names")
    return Dataset(
        "cifar10",
        np.concatenate([images for images, _ in train]),
        np.concatenate([labels for _, labels in train]),
        x_test,
        y_test,
        _check_names(names, 10, names_path),
    )


def load_cifar100(path=None, label_mode="fine", version="auto"):
    """Loads CIFAR-100 from the original python or binary files.

    Args:
        path: str or path-like. The directory holding the files
            (`cifar-100-python/` or `cifar-100-binary/`), or its parent.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("cifar100")`). Defaults to `None`.
        label_mode: str. `"fine"` (100 classes) or `"coarse"` (20
            superclasses). Defaults to `"fine"`.
        version: str. `"python"`, `"binary"` or `"auto"` (see
            `load_cifar10`). Defaults to `"auto"`.

    Returns:
        A `keras_xai.datasets.Dataset` named `"cifar100"` (fine) or
        `"cifar100_coarse"`: uint8 images `(N, 32, 32, 3)`, int64 labels in
        `[0, 100)` or `[0, 20)`, and the matching `class_names` from `meta`
        / `fine_label_names.txt` / `coarse_label_names.txt`. N is 50000 and
        10000 for the original files.

    Raises:
        FileNotFoundError: if no CIFAR-100 files are found or one is missing.
        ValueError: if `label_mode` or `version` is not recognised, or a file
            is corrupt (see `load_cifar10`; binary records are 3074 bytes:
            coarse label, fine label, pixels).

    Example:

    ```python
    data = load_cifar100("/data", label_mode="coarse")
    data.class_names[0]  # 'aquatic_mammals'
    ```
    """
    check_choice(label_mode, "label_mode", LABEL_MODES)
    if path is None:
        path = fetch_dataset("cifar100")
    directory, version = _find_version(path, "CIFAR-100", version)
    _, (train_file,), test_file = _LAYOUTS["CIFAR-100"][version]
    x_train, y_train = _read_split(
        directory, train_file, version, "CIFAR-100", label_mode
    )
    x_test, y_test = _read_split(directory, test_file, version, "CIFAR-100", label_mode)
    if version == "binary":
        names_path = os.path.join(directory, f"{label_mode}_label_names.txt")
        names = _read_names_txt(names_path)
    else:
        names_path = os.path.join(directory, "meta")
        names = _read_names_pickle(names_path, f"{label_mode}_label_names")
    return Dataset(
        "cifar100" if label_mode == "fine" else "cifar100_coarse",
        x_train,
        y_train,
        x_test,
        y_test,
        _check_names(names, _num_classes("CIFAR-100", label_mode), names_path),
    )


def _find_version(path, dataset, version):
    """Returns `(directory, version)` holding `dataset`'s files."""
    check_choice(version, "version", VERSIONS)
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{dataset} directory not found: {path}")
    versions = ("binary", "python") if version == "auto" else (version,)
    candidates = []
    for name in versions:
        dirname, _, test_file = _LAYOUTS[dataset][name]
        for directory in (path, os.path.join(path, dirname)):
            candidates.append((directory, name, os.path.join(directory, test_file)))
    # A batches directory given directly wins over one of its subdirectories.
    candidates.sort(key=lambda candidate: candidate[0] != path)
    for directory, name, marker in candidates:
        if os.path.isfile(marker):
            return directory, name
    tried = ", ".join(marker for _, _, marker in candidates)
    raise FileNotFoundError(
        f"No {dataset} files found in {path}: looked for {tried}. Pass the "
        "directory of the extracted python or binary version (or its parent)"
    )


def _read_split(directory, name, version, dataset, label_mode="fine"):
    path = require_file(os.path.join(directory, name), f"{dataset} file")
    if version == "binary":
        return _read_binary(path, dataset, label_mode)
    return _read_python(path, dataset, label_mode)


def _read_binary(path, dataset, label_mode):
    # CIFAR-10 records: label, pixels. CIFAR-100: coarse, fine, pixels.
    label_bytes = 1 if dataset == "CIFAR-10" else 2
    record = label_bytes + _PIXELS
    count = count_records(
        path,
        record,
        f"{dataset} binary file",
        f"the {record}-byte record ({label_bytes} label byte(s) + {_PIXELS} "
        "pixel bytes)",
    )
    records = np.fromfile(path, dtype=np.uint8).reshape(count, record)
    column = 1 if (dataset == "CIFAR-100" and label_mode == "fine") else 0
    labels = records[:, column].astype(np.int64)
    _check_labels(labels, _num_classes(dataset, label_mode), path)
    return _to_images(records[:, label_bytes:]), labels


def _read_python(path, dataset, label_mode):
    batch = _decode_keys(load_file(path), path)
    key = "labels" if dataset == "CIFAR-10" else f"{label_mode}_labels"
    for needed in ("data", key):
        if needed not in batch:
            raise ValueError(
                f"{dataset} batch {path} has no {needed!r} entry. Received keys: "
                f"{sorted(batch)}"
            )
    data = batch["data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != _PIXELS
    ):
        described = (
            f"shape {data.shape} of {data.dtype}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise ValueError(
            f"{dataset} batch {path}: 'data' must be a uint8 array of shape "
            f"(N, {_PIXELS}). Received {described}"
        )
    labels = batch[key]
    if not isinstance(labels, (list, np.ndarray)) or not all(
        isinstance(label, (int, np.integer)) and not isinstance(label, bool)
        for label in labels
    ):
        raise ValueError(
            f"{dataset} batch {path}: {key!r} must be a list of ints. "
            f"Received {type(labels).__name__}"
        )
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.shape[0] != data.shape[0]:
        raise ValueError(
            f"{dataset} batch {path} holds {data.shape[0]} images but "
            f"{labels.shape[0]} {key!r}"
        )
    _check_labels(labels, _num_classes(dataset, label_mode), path)
    return _to_images(data), labels


def _decode_keys(batch, path):
    if not isinstance(batch, dict):
        raise ValueError(
            f"CIFAR file {path} must hold a dict. Received {type(batch).__name__}"
        )
    decoded = {}
    for key, value in batch.items():
        if isinstance(key, bytes):
            key = key.decode("latin1")
        decoded[key] = value
    return decoded


def _to_images(rows):
    # Each row is the red plane, then green, then blue, each row-major.
    images = rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images)


def _num_classes(dataset, label_mode):
    if dataset == "CIFAR-10":
        return 10
    return 100 if label_mode == "fine" else 20


def _check_labels(labels, num_classes, path):
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"CIFAR file {path} holds labels outside [0, {num_classes}). "
            f"Received values in [{labels.min()}, {labels.max()}]"
        )


def _read_names_txt(path):
    require_file(path, "CIFAR metadata file")
    try:
        with open(path, encoding="utf-8") as file:
            return [line.strip() for line in file if line.strip()]
    except UnicodeDecodeError as error:
        raise ValueError(f"CIFAR metadata file {path} is not text: {error}") from error


def _read_names_pickle(path, key):
    meta = _decode_keys(load_file(path), path)
    names = meta.get(key)
    if not isinstance(names, list) or not all(
        isinstance(name, (bytes, str)) for name in names
    ):
        raise ValueError(
            f"CIFAR metadata file {path} must hold a list of names under {key!r}. "
            f"Received keys: {sorted(meta)}"
        )
    return [name.decode("utf-8") if isinstance(name, bytes) else name for name in names]


def _check_names(names, count, path):
    if len(names) != count:
        raise ValueError(
            f"CIFAR metadata file {path} must list {count} class names. "
            f"Received {len(names)}"
        )
    return tuple(names)
