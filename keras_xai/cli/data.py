"""Datasets the command line can train and evaluate on."""

import numpy as np

from keras_xai.datasets import by_name
from keras_xai.datasets.by_name import DATASETS

BUILTIN = by_name.BUILTIN_DATASETS


class CommandError(ValueError):
    """A user mistake the command reports in one line (exit status 2)."""


def load(name, data_dir=None, train_size=None, test_size=None, seed=0):
    """Loads `name` as float images in [0, 1], optionally subsampled.

    Args:
        name: str. One of `DATASETS`.
        data_dir: str or `None`. Directory of the dataset (`None`: CIFAR
            and STL-10 are downloaded once into the Keras cache).
        train_size: int or `None`. Random subset of the training split.
        test_size: int or `None`. First images of the test split.
        seed: int. Seed of the training subset.

    Returns:
        A `keras_xai.datasets.Dataset`.
    """
    if name not in DATASETS:
        raise CommandError(f"--data must be one of {DATASETS}; got {name!r}")
    try:
        data = by_name.load(name, data_dir)
    except (FileNotFoundError, ConnectionError) as error:
        if name in BUILTIN or data_dir is not None:
            raise
        raise CommandError(
            f"--data {name}: {error} Or give the dataset's directory with --data-dir."
        ) from None
    return subsample(data, train_size, test_size, seed)


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
