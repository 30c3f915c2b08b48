"""Datasets the command line can train and evaluate on."""

import numpy as np

from keras_xai.datasets.default_dataset import Dataset, load_default_dataset

BUILTIN = ("auto", "fashion_mnist", "digits")
ON_DISK = ("cifar10", "cifar100", "stl10")
DATASETS = BUILTIN + ON_DISK


class CommandError(ValueError):
    """A user mistake the command reports in one line (exit status 2)."""


def load(name, data_dir=None, train_size=None, test_size=None, seed=0):
    """Loads `name` as float images in [0, 1], optionally subsampled.

    Args:
        name: str. One of `DATASETS`.
        data_dir: str or `None`. Directory of the on-disk dataset
            (required for CIFAR and STL-10; optional for Fashion-MNIST).
        train_size: int or `None`. Random subset of the training split.
        test_size: int or `None`. First images of the test split.
        seed: int. Seed of the training subset.

    Returns:
        A `keras_xai.datasets.Dataset`.
    """
    if name not in DATASETS:
        raise CommandError(f"--data must be one of {DATASETS}; got {name!r}")
    if name in BUILTIN:
        data = load_default_dataset(name, path=data_dir)
    else:
        if data_dir is None:
            raise CommandError(
                f"--data {name} reads the dataset from disk: give its directory "
                "with --data-dir (nothing is downloaded)"
            )
        data = _load_on_disk(name, data_dir)
    return subsample(data, train_size, test_size, seed)


def _load_on_disk(name, data_dir):
    # Imported here so the command starts fast for the built-in datasets.
    from keras_xai.datasets import cifar, stl10
    from keras_xai.datasets.images import to_float_images

    loaded = {
        "cifar10": lambda: cifar.load_cifar10(data_dir),
        "cifar100": lambda: cifar.load_cifar100(data_dir),
        "stl10": lambda: stl10.load_stl10(data_dir),
    }[name]()
    return Dataset(
        name,
        to_float_images(loaded.x_train),
        np.asarray(loaded.y_train, "int32"),
        to_float_images(loaded.x_test),
        np.asarray(loaded.y_test, "int32"),
        tuple(loaded.class_names),
    )


def subsample(data, train_size=None, test_size=None, seed=0):
    """`data` with a seeded random training subset and the first test images."""
    for flag, value in (("--train-size", train_size), ("--test-size", test_size)):
        if value is not None and value < 1:
            raise CommandError(f"{flag} must be >= 1; got {value}")
    x_train, y_train = data.x_train, data.y_train
    if train_size is not None and train_size < len(x_train):
        rows = np.random.default_rng(seed).permutation(len(x_train))[:train_size]
        x_train, y_train = x_train[rows], y_train[rows]
    x_test, y_test = data.x_test, data.y_test
    if test_size is not None:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    return data._replace(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
