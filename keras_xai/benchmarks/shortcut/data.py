"""The splits of a shortcut benchmark: train, validation and three test splits."""

import collections

import numpy as np

from keras_xai.datasets.images import to_float_images
from keras_xai.datasets.shortcut import SHORTCUT_VARIANTS, make_shortcut_split
from keras_xai.utils.validation import check_positive_int

# Data seeds: fixed, so every arm and model seed sees the same images.
_TRAIN_SEED, _VALIDATION_SEED, _TEST_SEED = 0, 1, 2
TEST_SPLITS = ("random", "far", "none")

ShortcutBenchmarkData = collections.namedtuple(
    "ShortcutBenchmarkData",
    [
        "variant",
        "num_classes",
        "train",
        "clean_train",
        "validation",
        "validation_random",
        "test",
        "patch_size",
        "pad",
    ],
)
ShortcutBenchmarkData.__doc__ = """Every split of one shortcut benchmark.

Fields:
    variant: str. The `keras_xai.datasets.SHORTCUT_VARIANTS` entry.
    num_classes: int.
    train: `ShortcutSplit` ("train": the patch codes the label).
    clean_train: `ShortcutSplit` of the same images without a patch (the
        clean-trained ceiling).
    validation: `ShortcutSplit` carved from the training images, built like
        `train` (the shortcut is there): early stopping.
    validation_random: the same validation images with random-class
        patches: selects `λ` without looking at the test split.
    test: dict split name -> `ShortcutSplit` for `TEST_SPLITS` ("random":
        Ross et al.'s protocol, "far": a patch coding a far class, "none":
        no patch), all from the test images.
    patch_size: int. Side of the patch.
    pad: int. Margin of the padded variants (0 for `ross`).
Images are float32 in [0, 1], channels last.
"""


def shortcut_benchmark_data(
    x_train,
    y_train,
    x_test,
    y_test,
    variant="ross",
    num_classes=None,
    validation_size=6000,
    train_size=None,
    test_size=None,
    patch_size=4,
    pad=4,
):
    """Builds the train, validation and test splits of a shortcut benchmark.

    `validation_size` images are drawn at random (seed 0) from the training
    set and kept out of `train`; the test splits come from the test set
    only. Patch positions and random classes use fixed seeds, so the data
    are the same for every arm and model seed.

    Args:
        x_train, y_train: training images (uint8 0-255 or float [0, 1],
            `(N, H, W)` or `(N, H, W, C)`) and int labels.
        x_test, y_test: test images and labels, likewise.
        variant: str. One of `keras_xai.datasets.SHORTCUT_VARIANTS`.
            Defaults to `"ross"`.
        num_classes: int or `None` (inferred from the labels).
        validation_size: int >= 1. Images carved from training data.
            Defaults to 6,000 (a tenth of Fashion-MNIST's training set).
        train_size: int or `None`. Training images kept after the
            validation split (`None`: all). Defaults to `None`.
        test_size: int or `None`. Test images used (`None`: all).
        patch_size: int. Side of the patch. Defaults to `4` (Ross et al.).
        pad: int. Margin of the padded variants. Defaults to `4`.

    Returns:
        A `ShortcutBenchmarkData`.

    Raises:
        ValueError: on an unknown variant, sizes that do not fit the data,
            or invalid images/labels.

    Example:

    ```python
    (x, y), (xt, yt) = keras_xai.datasets.fashion_mnist.load_data()
    data = shortcut_benchmark_data(x, y, xt, yt, variant="ross")
    data.train.images.shape, data.test["far"].images.shape
    # ((54000, 28, 28, 1), (10000, 28, 28, 1))
    ```
    """
    if variant not in SHORTCUT_VARIANTS:
        raise ValueError(
            f"`variant` must be one of {SHORTCUT_VARIANTS}. Received: "
            f"variant={variant!r}"
        )
    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    if num_classes is None:
        num_classes = int(max(np.max(y_train), np.max(y_test))) + 1
    validation_size = check_positive_int(validation_size, "validation_size")
    if validation_size >= len(x_train):
        raise ValueError(
            "`validation_size` must leave training images: it must be < "
            f"{len(x_train)}. Received: validation_size={validation_size}"
        )
    order = np.random.default_rng(0).permutation(len(x_train))
    validation_rows, train_rows = order[:validation_size], order[validation_size:]
    if train_size is not None:
        train_size = check_positive_int(train_size, "train_size")
        train_rows = train_rows[:train_size]
    if test_size is not None:
        test_size = check_positive_int(test_size, "test_size")
        x_test, y_test = x_test[:test_size], y_test[:test_size]

    def split(images, labels, name, seed):
        made = make_shortcut_split(
            images,
            labels,
            variant,
            name,
            num_classes=num_classes,
            seed=seed,
            patch_size=patch_size,
            pad=pad,
        )
        return made._replace(images=to_float_images(made.images))

    xt, yt = x_train[train_rows], y_train[train_rows]
    xv, yv = x_train[validation_rows], y_train[validation_rows]
    return ShortcutBenchmarkData(
        variant=variant,
        num_classes=int(num_classes),
        train=split(xt, yt, "train", _TRAIN_SEED),
        clean_train=split(xt, yt, "none", _TRAIN_SEED),
        validation=split(xv, yv, "train", _VALIDATION_SEED),
        validation_random=split(xv, yv, "random", _VALIDATION_SEED),
        test={name: split(x_test, y_test, name, _TEST_SEED) for name in TEST_SPLITS},
        patch_size=int(patch_size),
        pad=0 if variant == "ross" else int(pad),
    )
