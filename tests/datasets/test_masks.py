import numpy as np
import pytest
from scipy import ndimage

from keras_xai.datasets import object_masks


def _ring(size=9, value=200):
    """A square ring: a closed outline around a dark hole."""
    image = np.zeros((size, size), "uint8")
    image[2:7, 2:7] = value
    image[3:6, 3:6] = 0
    return image


def test_marks_bright_pixels_and_fills_enclosed_holes():
    masks = object_masks(_ring()[None])
    expected = np.zeros((9, 9), "float32")
    expected[2:7, 2:7] = 1
    assert masks.shape == (1, 9, 9) and masks.dtype == np.float32
    np.testing.assert_array_equal(masks[0], expected)


def test_does_not_fill_background_open_to_the_border():
    image = _ring()
    image[4, 6] = 0  # opens the ring's right side: the cavity is background
    image[4, 7:] = 0
    masks = object_masks(image[None])
    assert masks[0, 4, 4] == 0
    assert masks[0, 2, 2] == 1


def test_holes_are_4_connected_to_the_border():
    image = _ring()
    image[6, 6] = 0  # a diagonal gap does not open the hole
    masks = object_masks(image[None])
    assert masks[0, 4, 4] == 1


def test_threshold_is_strict_and_on_the_unit_scale():
    image = np.array([[[0, 25, 26, 255]]], dtype="uint8")  # 25.5 = 0.1 * 255
    np.testing.assert_array_equal(object_masks(image)[0, 0], [0, 0, 1, 1])
    floats = np.array([[[0.0, 0.5, 0.5001, 1.0]]])
    np.testing.assert_array_equal(
        object_masks(floats, threshold=0.5)[0, 0], [0, 0, 1, 1]
    )
    np.testing.assert_array_equal(
        object_masks(floats, threshold=0.0)[0, 0], [0, 1, 1, 1]
    )


def test_uint8_and_float_inputs_agree():
    images = np.random.default_rng(0).integers(0, 256, (20, 12, 12), dtype="uint8")
    np.testing.assert_array_equal(
        object_masks(images, 0.3), object_masks(images / 255.0, 0.3)
    )


def test_color_uses_the_brightest_channel():
    image = np.zeros((1, 3, 3, 3), "uint8")
    image[0, 1, 1, 2] = 255  # only the blue channel is lit
    masks = object_masks(image)
    assert masks.shape == (1, 3, 3)
    assert masks[0, 1, 1] == 1 and masks.sum() == 1


def test_each_image_is_filled_independently():
    rng = np.random.default_rng(1)
    images = (rng.random((50, 10, 10)) < 0.55).astype("float32")
    expected = np.stack(
        [ndimage.binary_fill_holes(image > 0.1) for image in images]
    ).astype("float32")
    np.testing.assert_array_equal(object_masks(images), expected)
    # The batch neighbours of a ring do not change its filling.
    batch = np.stack([np.zeros((9, 9), "uint8"), _ring(), np.zeros((9, 9), "uint8")])
    masks = object_masks(batch)
    assert masks[0].sum() == 0 and masks[2].sum() == 0 and masks[1].sum() == 25


def test_accepts_uint8_4d_with_one_channel_and_empty_batches():
    masks = object_masks(_ring()[None, :, :, None])
    assert masks.shape == (1, 9, 9) and masks.sum() == 25
    assert object_masks(np.zeros((0, 5, 5), "uint8")).shape == (0, 5, 5)


def test_masks_on_real_digits_cover_the_digit():
    from keras_xai.datasets import digits

    (x_train, _), _ = digits.load_data()
    masks = object_masks(x_train)
    assert set(np.unique(masks)) == {0.0, 1.0}
    # Every digit has some object pixels, and the object is not the whole image.
    assert np.all(masks.sum(axis=(1, 2)) > 5)
    assert np.all(masks.mean(axis=(1, 2)) < 0.9)
    # No bright pixel is left out of the mask.
    assert np.all(masks[x_train > 0.1 * 255] == 1)


@pytest.mark.parametrize("threshold", [-0.1, 1.0, 2, float("nan")])
def test_rejects_threshold_outside_range(threshold):
    with pytest.raises(ValueError, match=r"`threshold` must be in \[0, 1\)"):
        object_masks(np.zeros((1, 3, 3), "uint8"), threshold=threshold)


@pytest.mark.parametrize("threshold", ["0.1", None, True])
def test_rejects_non_numeric_threshold(threshold):
    with pytest.raises(ValueError, match="`threshold` must be a number"):
        object_masks(np.zeros((1, 3, 3), "uint8"), threshold=threshold)


def test_rejects_bad_images():
    with pytest.raises(ValueError, match=r"`images` must be a batch.*\(3, 3\)"):
        object_masks(np.zeros((3, 3), "uint8"))
    with pytest.raises(ValueError, match=r"`images` holds floats.*\[0, 1\]"):
        object_masks(np.full((1, 3, 3), 2.0))
    with pytest.raises(ValueError, match=r"`images` holds integers.*\[0, 255\]"):
        object_masks(np.full((1, 3, 3), 300))
