import itertools

import numpy as np
import pytest

from keras_xai.datasets import make_mosaics

# Quadrant order: top-left, top-right, bottom-left, bottom-right.
QUADRANTS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def _dataset(num_images=60, size=(5, 6), num_classes=4, channels=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (num_images,) + size + ((channels,) if channels else ())
    images = rng.integers(0, 256, shape, dtype="uint8")
    labels = rng.integers(0, num_classes, num_images)
    return images, labels


def test_shapes_and_dtypes():
    images, labels = _dataset()
    mosaics, targets, flags, sources = make_mosaics(images, labels, 7)
    assert mosaics.shape == (7, 10, 12) and mosaics.dtype == np.uint8
    assert targets.shape == (7,) and targets.dtype == np.int32
    assert flags.shape == (7, 4) and flags.dtype == np.bool_
    assert sources.shape == (7, 4) and sources.dtype == np.int64


def test_quadrants_hold_the_source_images():
    images, labels = _dataset(channels=3)
    images = images.astype("float32") / 255.0
    mosaics, _, _, sources = make_mosaics(images, labels, 20)
    assert mosaics.shape == (20, 10, 12, 3) and mosaics.dtype == np.float32
    height, width = images.shape[1:3]
    for quadrant, (row, col) in enumerate(QUADRANTS):
        tile = mosaics[
            :, row * height : (row + 1) * height, col * width : (col + 1) * width
        ]
        np.testing.assert_array_equal(tile, images[sources[:, quadrant]])


def test_flags_mark_the_two_target_class_quadrants():
    images, labels = _dataset(num_images=100)
    _, targets, flags, sources = make_mosaics(images, labels, 300, seed=3)
    np.testing.assert_array_equal(labels[sources] == targets[:, None], flags)
    np.testing.assert_array_equal(flags.sum(axis=1), np.full(300, 2))
    target_sources = sources[flags].reshape(300, 2)
    assert np.all(target_sources[:, 0] != target_sources[:, 1])
    other_sources = sources[~flags].reshape(300, 2)
    assert np.any(other_sources[:, 0] != other_sources[:, 1])


def test_target_positions_are_random():
    images, labels = _dataset()
    _, _, flags, _ = make_mosaics(images, labels, 300)
    patterns = {tuple(row) for row in flags.tolist()}
    expected = {
        tuple(i in pair for i in range(4))
        for pair in itertools.combinations(range(4), 2)
    }
    assert patterns == expected


def test_other_images_come_from_all_other_classes():
    images, labels = _dataset(num_images=200, num_classes=5)
    _, _, flags, sources = make_mosaics(images, labels, 400, target_class=2)
    other_labels = labels[sources[~flags]]
    assert set(np.unique(other_labels)) == {0, 1, 3, 4}
    # Both other images sometimes share a class, sometimes not.
    pairs = other_labels.reshape(400, 2)
    assert np.any(pairs[:, 0] == pairs[:, 1]) and np.any(pairs[:, 0] != pairs[:, 1])


def test_fixed_target_class():
    images, labels = _dataset()
    _, targets, flags, sources = make_mosaics(
        images, labels, 50, target_class=np.int64(1)
    )
    np.testing.assert_array_equal(targets, np.ones(50))
    assert np.all(labels[sources[flags]] == 1)
    assert np.all(labels[sources[~flags]] != 1)


def test_random_targets_only_use_classes_with_two_images():
    images, labels = _dataset(num_images=40, num_classes=3)
    labels[labels == 2] = 0
    labels[-1] = 2  # class 2 has a single image; class 5 has one too
    labels[-2] = 5
    _, targets, flags, sources = make_mosaics(images, labels, 300)
    assert set(np.unique(targets)) == {0, 1}
    # Single-image classes still serve as other-class images.
    assert {2, 5} <= set(labels[sources[~flags]].tolist())


def test_smallest_possible_dataset():
    images = np.arange(3 * 2 * 2, dtype="uint8").reshape(3, 2, 2)
    labels = np.array([0, 1, 0])
    mosaics, targets, flags, sources = make_mosaics(images, labels, 5)
    np.testing.assert_array_equal(targets, np.zeros(5))
    np.testing.assert_array_equal(np.sort(sources[flags].reshape(5, 2)), [[0, 2]] * 5)
    np.testing.assert_array_equal(sources[~flags], np.ones(10))
    assert mosaics.shape == (5, 4, 4)


def test_seed_makes_it_reproducible():
    images, labels = _dataset()
    first = make_mosaics(images, labels, 30, seed=7)
    again = make_mosaics(images, labels, 30, seed=7)
    other = make_mosaics(images, labels, 30, seed=8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], other[3])


@pytest.mark.parametrize(
    "num_mosaics, message",
    [
        (0, r"`num_mosaics` must be >= 1. Received: num_mosaics=0"),
        (-3, r"`num_mosaics` must be >= 1"),
        (2.0, r"`num_mosaics` must be an integer"),
        ("3", r"`num_mosaics` must be an integer"),
    ],
)
def test_rejects_bad_num_mosaics(num_mosaics, message):
    images, labels = _dataset()
    with pytest.raises(ValueError, match=message):
        make_mosaics(images, labels, num_mosaics)


@pytest.mark.parametrize(
    "target_class, message",
    [
        (3, r"`target_class` must have at least 2 images.*target_class=3, which has 1"),
        (7, r"`target_class` must have at least 2 images.*has 0"),
        (-1, r"`target_class` must have at least 2 images.*has 0"),
        (1.0, r"`target_class` must be an integer class index or None"),
        (True, r"`target_class` must be an integer class index or None"),
    ],
)
def test_rejects_bad_target_class(target_class, message):
    images = np.zeros((5, 2, 2), "uint8")
    labels = np.array([0, 0, 1, 1, 3])
    with pytest.raises(ValueError, match=message):
        make_mosaics(images, labels, 2, target_class=target_class)


def test_rejects_a_dataset_without_other_classes():
    images = np.zeros((4, 2, 2), "uint8")
    labels = np.full(4, 2)
    with pytest.raises(ValueError, match=r"a class other than `target_class`"):
        make_mosaics(images, labels, 2, target_class=2)
    with pytest.raises(ValueError, match=r"at least one image of another class"):
        make_mosaics(images, labels, 2)


def test_rejects_when_no_class_has_two_images():
    images = np.zeros((3, 2, 2), "uint8")
    with pytest.raises(ValueError, match=r"class with at least 2 images.*\[1, 1, 1\]"):
        make_mosaics(images, np.array([0, 1, 2]), 2)


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((4, 2, 2), "uint8"), [0, 0, 1], r"`labels` must have one entry per"),
        (
            np.zeros((4, 2, 2), "uint8"),
            [0, 0, 1, -1],
            r"`labels` must be class indices",
        ),
        (np.zeros((4, 2, 2), "uint8"), np.zeros((4, 1)), r"`labels` must be one class"),
        (
            np.zeros((4, 2), "uint8"),
            [0, 0, 1, 1],
            r"`images` must be a batch of images",
        ),
        (np.zeros((0, 2, 2), "uint8"), [], r"`images` is an empty batch"),
    ],
)
def test_rejects_bad_images_and_labels(images, labels, message):
    with pytest.raises(ValueError, match=message):
        make_mosaics(images, labels, 2)
