import numpy as np
import pytest

from keras_xai.datasets.shortcut import make_shortcut_split


def _garments(num=40, side=28, seed=0):
    """Bright blobs on black: an object in the centre, never in the margin."""
    rng = np.random.default_rng(seed)
    images = np.zeros((num, side, side), "uint8")
    images[:, 8:20, 9:19] = rng.integers(60, 255, size=(num, 12, 10))
    return images, rng.integers(0, 10, size=num)


def _patch_boxes(decoys):
    boxes = []
    for mask in decoys:
        rows, cols = np.nonzero(mask)
        boxes.append((rows.min(), rows.max(), cols.min(), cols.max(), len(rows)))
    return np.array(boxes)


def test_ross_construction_on_known_inputs():
    images, labels = _garments(400)
    train = make_shortcut_split(images, labels, "ross", "train", num_classes=10)
    assert train.images.shape == images.shape and train.images.dtype == np.uint8
    boxes = _patch_boxes(train.decoy_masks)
    # A 4x4 patch inside the 28x28 image, in one of the four corners.
    np.testing.assert_array_equal(boxes[:, 4], 16)
    assert set(boxes[:, 0]) == {0, 24} and set(boxes[:, 2]) == {0, 24}
    corners = boxes[:, 0] // 24 * 2 + boxes[:, 2] // 24
    assert all(np.sum(corners == c) > 60 for c in range(4))  # each about 1/4
    # Grey 255 − 25·y on the patch; the rest of the image unchanged.
    for image, original, mask, label in zip(
        train.images, images, train.decoy_masks, labels
    ):
        np.testing.assert_array_equal(image[mask > 0], 255 - 25 * label)
        np.testing.assert_array_equal(image[mask == 0], original[mask == 0])
    np.testing.assert_array_equal(train.patch_classes, labels)
    assert np.all(train.object_masks * train.decoy_masks == 0)


def test_ross_overwrites_object_pixels_in_the_corner():
    images = np.full((2, 28, 28), 200, "uint8")
    split = make_shortcut_split(images, [9, 0], "ross", "train", num_classes=10)
    patch = split.decoy_masks > 0
    np.testing.assert_array_equal(split.images[0][patch[0]], 30)
    np.testing.assert_array_equal(split.images[1][patch[1]], 255)
    assert split.object_masks.sum() == 2 * (28 * 28 - 16)


def test_test_splits_random_far_and_none():
    images, labels = _garments(2000)
    random = make_shortcut_split(images, labels, "ross", "random", 10, seed=3)
    # Random-label greys: uniform over the ten classes, independent of y.
    counts = np.bincount(random.patch_classes, minlength=10)
    assert counts.min() > 150 and counts.max() < 250
    assert np.mean(random.patch_classes == labels) < 0.15
    levels = {int(v) for v in random.images[random.decoy_masks > 0]}
    assert levels == {255 - 25 * c for c in range(10)}
    far = make_shortcut_split(images, labels, "ross", "far", 10)
    np.testing.assert_array_equal(far.patch_classes, (labels + 5) % 10)
    none = make_shortcut_split(images, labels, "ross", "none", 10)
    np.testing.assert_array_equal(none.images, images)
    assert none.decoy_masks.sum() == 0 and np.all(none.patch_classes == -1)


def test_margin_and_anywhere_keep_off_the_object():
    images, labels = _garments(300)
    margin = make_shortcut_split(images, labels, "margin", "train", 10, pad=4)
    assert margin.images.shape == (300, 36, 36)
    boxes = _patch_boxes(margin.decoy_masks)
    assert set(boxes[:, 0]) == {0, 32} and set(boxes[:, 2]) == {0, 32}
    anywhere = make_shortcut_split(images, labels, "anywhere", "train", 10, pad=4)
    boxes = _patch_boxes(anywhere.decoy_masks)
    np.testing.assert_array_equal(boxes[:, 4], 16)
    # Never touching the object, and spread over many positions.
    padded = np.pad(images, ((0, 0), (4, 4), (4, 4)))
    assert np.all(padded[anywhere.decoy_masks > 0] == 0)
    assert len({(r, c) for r, _, c, _, _ in boxes}) > 100
    np.testing.assert_array_equal(
        anywhere.object_masks,
        np.pad(margin.object_masks[:, 4:-4, 4:-4], ((0, 0), (4, 4), (4, 4))),
    )


def test_float_images_and_determinism():
    images, labels = _garments(20)
    a = make_shortcut_split(images / 255.0, labels, "anywhere", "random", 10, seed=5)
    b = make_shortcut_split(images, labels, "anywhere", "random", 10, seed=5)
    np.testing.assert_allclose(a.images * 255.0, b.images, atol=1e-4)
    np.testing.assert_array_equal(a.decoy_masks, b.decoy_masks)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "tint"}, "`variant` must be one of"),
        ({"split": "test"}, "`split` must be one of"),
        ({"patch_size": 0}, "patch_size"),
        ({"variant": "margin", "pad": 2}, "`pad` must be >= `patch_size`"),
        ({"variant": "ross", "patch_size": 40}, "`patch_size` must fit"),
        ({"labels": [1, 2]}, "labels"),
    ],
)
def test_bad_input(kwargs, message):
    images, labels = _garments(5)
    arguments = {
        "images": images,
        "labels": labels,
        "variant": "ross",
        "split": "train",
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_shortcut_split(num_classes=10, **arguments)
