import numpy as np
import pytest

from keras_xai.datasets import digits, make_decoy, object_masks
from keras_xai.datasets.decoy import decoy_levels

CORNERS = {
    "top-left": (slice(0, 4), slice(0, 4)),
    "top-right": (slice(0, 4), slice(-4, None)),
    "bottom-left": (slice(-4, None), slice(0, 4)),
    "bottom-right": (slice(-4, None), slice(-4, None)),
}


def _full_frame_images(num_images=200, size=28, seed=0):
    """Objects that reach every corner, like many Fashion-MNIST garments."""
    rng = np.random.default_rng(seed)
    images = rng.integers(40, 256, (num_images, size, size), dtype="uint8")
    labels = rng.integers(0, 10, num_images)
    return images, labels


def _padded(images, pad):
    padding = ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (images.ndim - 3)
    return np.pad(images, padding)


def _patch_levels(decoy, images, pad=4):
    """The grey level of each image's patch, read from the changed pixels."""
    changed = decoy != _padded(images, pad)
    if changed.ndim == 4:
        changed = changed.any(axis=-1)
        decoy = decoy[..., 0]
    return np.array([d[c].max() for d, c in zip(decoy, changed)]), changed


def test_decoy_levels_encoding():
    np.testing.assert_array_equal(decoy_levels(10), 255 - 25 * np.arange(10))
    levels = decoy_levels(3)
    np.testing.assert_array_equal(levels, [255, 142, 30])
    assert decoy_levels(1).tolist() == [255]
    assert np.all(np.diff(decoy_levels(40)) < 0)


def test_shapes_dtype_and_object_pixels_unchanged():
    images, labels = _full_frame_images()
    decoy, masks = make_decoy(images, labels, "train")
    assert decoy.shape == (200, 36, 36) and decoy.dtype == np.uint8
    assert masks.shape == (200, 36, 36) and masks.dtype == np.float32
    np.testing.assert_array_equal(decoy[:, 4:-4, 4:-4], images)


@pytest.mark.parametrize("split", ["train", "test"])
def test_patch_is_one_corner_square_outside_the_mask(split):
    images, labels = _full_frame_images()
    decoy, masks = make_decoy(images, labels, split)
    _, changed = _patch_levels(decoy, images)
    assert np.all(changed.sum(axis=(1, 2)) == 16)
    assert np.all(masks[changed] == 0)
    in_corner = np.stack(
        [changed[:, rows, cols].all(axis=(1, 2)) for rows, cols in CORNERS.values()],
        axis=1,
    )
    np.testing.assert_array_equal(in_corner.sum(axis=1), np.ones(200))
    # Corners are drawn per image: all four occur, roughly equally often.
    assert np.all(in_corner.sum(axis=0) > 25)


def test_masks_are_the_object_masks_of_the_padded_originals():
    (x_train, y_train), _ = digits.load_data()
    decoy, masks = make_decoy(x_train, y_train, "train", patch_size=2, pad=3)
    assert decoy.shape == (x_train.shape[0], 14, 14)
    np.testing.assert_array_equal(masks, object_masks(_padded(x_train, 3)))
    # The masks mark the object but not the patch.
    assert np.all(masks[decoy != _padded(x_train, 3)] == 0)
    assert masks.sum() > 0


def test_train_level_is_a_function_of_the_label():
    images, labels = _full_frame_images(num_images=300)
    decoy, _ = make_decoy(images, labels, "train", num_classes=10)
    levels, _ = _patch_levels(decoy, images)
    np.testing.assert_array_equal(levels, 255 - 25 * labels)


def test_test_level_is_independent_of_the_label():
    images, labels = _full_frame_images(num_images=2000)
    decoy, _ = make_decoy(images, labels, "test", num_classes=10, seed=5)
    levels, _ = _patch_levels(decoy, images)
    assert set(np.unique(levels)) == set(decoy_levels(10))
    # Matches the label's code only by chance (about 1 in 10).
    assert np.mean(levels == 255 - 25 * labels) < 0.2
    assert abs(np.corrcoef(levels, labels)[0, 1]) < 0.1
    for label in range(10):
        assert len(np.unique(levels[labels == label])) >= 5


def test_train_fraction_weakens_the_shortcut():
    images, labels = _full_frame_images(num_images=2000)
    decoy, _ = make_decoy(images, labels, "train", num_classes=10, train_fraction=0.5)
    levels, _ = _patch_levels(decoy, images)
    # Half encode the label, the other half match it with probability 1/10.
    assert 0.47 < np.mean(levels == 255 - 25 * labels) < 0.63


def test_explicit_num_classes_fixes_the_levels():
    images, labels = _full_frame_images(num_images=50)
    labels = labels % 3
    decoy, _ = make_decoy(images, labels, "train", num_classes=10)
    levels, _ = _patch_levels(decoy, images)
    np.testing.assert_array_equal(levels, 255 - 25 * labels)
    inferred, _ = make_decoy(images, labels, "train")
    levels, _ = _patch_levels(inferred, images)
    np.testing.assert_array_equal(levels, decoy_levels(3)[labels])


def test_float_images_keep_dtype_and_get_levels_over_255():
    images, labels = _full_frame_images(num_images=30)
    floats = images.astype("float64") / 255.0
    decoy, masks = make_decoy(floats, labels, "train", num_classes=10)
    assert decoy.dtype == np.float64 and decoy.shape == (30, 36, 36)
    levels, _ = _patch_levels(decoy, floats)
    np.testing.assert_allclose(levels, (255 - 25 * labels) / 255.0)
    reference, reference_masks = make_decoy(images, labels, "train", num_classes=10)
    np.testing.assert_allclose(decoy, reference / 255.0)
    np.testing.assert_array_equal(masks, reference_masks)


def test_color_images_get_the_same_level_on_every_channel():
    images, labels = _full_frame_images(num_images=30)
    color = np.stack([images, images // 2, images // 3], axis=-1)
    decoy, masks = make_decoy(color, labels, "train", num_classes=10)
    assert decoy.shape == (30, 36, 36, 3) and decoy.dtype == np.uint8
    assert masks.shape == (30, 36, 36)
    np.testing.assert_array_equal(decoy[:, 4:-4, 4:-4], color)
    changed = (decoy != _padded(color, 4)).any(axis=-1)
    patch = decoy[changed].reshape(30, 16, 3)
    np.testing.assert_array_equal(
        patch, np.broadcast_to((255 - 25 * labels)[:, None, None], (30, 16, 3))
    )


def test_seed_makes_it_reproducible():
    images, labels = _full_frame_images(num_images=100)
    first, _ = make_decoy(images, labels, "test", seed=1)
    again, _ = make_decoy(images, labels, "test", seed=1)
    other, _ = make_decoy(images, labels, "test", seed=2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_does_not_modify_its_input():
    images, labels = _full_frame_images(num_images=10)
    copy = images.copy()
    make_decoy(images, labels, "train")
    np.testing.assert_array_equal(images, copy)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "val"}, r"`split` must be 'train' or 'test'. Received: split='val'"),
        ({"patch_size": 5}, r"`patch_size` must be <= `pad`.*patch_size=5, pad=4"),
        ({"patch_size": 0}, r"`patch_size` must be >= 1"),
        ({"patch_size": 2.0}, r"`patch_size` must be an integer"),
        ({"pad": 0, "patch_size": 1}, r"`pad` must be >= 1"),
        ({"train_fraction": 1.5}, r"`train_fraction` must be in \[0, 1\]"),
        ({"num_classes": 0}, r"`num_classes` must be >= 1"),
        ({"num_classes": 2.5}, r"`num_classes` must be an integer or None"),
        ({"num_classes": 5}, r"`labels` must be class indices in \[0, 5\)"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    images = np.zeros((3, 8, 8), "uint8")
    labels = np.array([0, 5, 9])
    arguments = {"split": "train", **kwargs}
    with pytest.raises(ValueError, match=message):
        make_decoy(images, labels, **arguments)


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((3, 8, 8), "uint8"), [0, 1], r"`labels` must have one entry per"),
        (np.zeros((3, 8, 8), "uint8"), [0, -1, 2], r"`labels` must be class indices"),
        (np.zeros((3, 8, 8), "uint8"), [0, 1.5, 2], r"`labels` must hold integer"),
        (np.zeros((8, 8), "uint8"), [0], r"`images` must be a batch of images"),
        (np.zeros((0, 8, 8), "uint8"), [], r"`images` is an empty batch"),
        (np.zeros((1, 8, 8), bool), [0], r"`images` must be integer .* or float"),
        (np.full((1, 8, 8), 1.5), [0], r"`images` holds floats"),
        (np.full((1, 8, 8), 300), [0], r"`images` holds integers"),
    ],
)
def test_rejects_bad_images_and_labels(images, labels, message):
    with pytest.raises(ValueError, match=message):
        make_decoy(images, labels, "train")
