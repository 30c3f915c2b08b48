import numpy as np
import pytest

import keras_xai.datasets as datasets
from keras_xai.datasets import to_float_images


def test_package_exports():
    for name in (
        "fashion_mnist",
        "digits",
        "read_idx",
        "load_idx_dataset",
        "to_float_images",
        "object_masks",
        "make_decoy",
        "make_mosaics",
    ):
        assert hasattr(datasets, name), name
    assert callable(datasets.digits.load_data)
    assert callable(datasets.fashion_mnist.load_data)


def test_uint8_grayscale_gets_a_channel_axis_and_is_scaled():
    x = np.array([[[0, 51], [255, 102]]], dtype="uint8")
    result = to_float_images(x)
    assert result.shape == (1, 2, 2, 1) and result.dtype == np.float32
    np.testing.assert_allclose(result[..., 0], [[[0.0, 0.2], [1.0, 0.4]]])


def test_uint8_color_keeps_channels():
    x = np.random.default_rng(0).integers(0, 256, (3, 4, 5, 3), dtype="uint8")
    result = to_float_images(x)
    assert result.shape == (3, 4, 5, 3)
    np.testing.assert_allclose(result, x / 255.0, rtol=1e-6)


def test_other_integer_dtypes_in_pixel_range_are_scaled():
    x = np.array([[[0, 255]]], dtype="int64")
    np.testing.assert_allclose(to_float_images(x)[..., 0], [[[0.0, 1.0]]])


def test_float_images_pass_through():
    x = np.random.default_rng(0).random((2, 3, 3, 1)).astype("float32")
    result = to_float_images(x)
    assert np.shares_memory(result, x)
    np.testing.assert_array_equal(result, x)


def test_float64_grayscale_becomes_float32_with_channel_axis():
    x = np.linspace(0, 1, 8).reshape(2, 2, 2)
    result = to_float_images(x)
    assert result.shape == (2, 2, 2, 1) and result.dtype == np.float32
    np.testing.assert_allclose(result[..., 0], x, rtol=1e-6)


def test_bool_images_become_zero_and_one():
    x = np.array([[[True, False]]])
    np.testing.assert_array_equal(to_float_images(x)[..., 0], [[[1.0, 0.0]]])


def test_accepts_lists_and_empty_batches():
    assert to_float_images([[[0, 255]]]).shape == (1, 1, 2, 1)
    assert to_float_images(np.zeros((0, 4, 4), "uint8")).shape == (0, 4, 4, 1)


@pytest.mark.parametrize("shape", [(28, 28 * 28), (4,), (1, 2, 3, 4, 5)])
def test_rejects_bad_rank(shape):
    with pytest.raises(ValueError, match=r"`x` must be a batch of images.*x.shape="):
        to_float_images(np.zeros(shape, "uint8"))


@pytest.mark.parametrize("value", [-0.5, 1.5, 255.0])
def test_rejects_floats_outside_unit_interval(value):
    x = np.full((1, 2, 2), value, dtype="float32")
    with pytest.raises(
        ValueError, match=r"`x` holds floats, which must be in \[0, 1\]"
    ):
        to_float_images(x)


def test_rejects_non_finite_floats():
    x = np.array([[[0.5, np.nan]]], dtype="float32")
    with pytest.raises(ValueError, match="`x` must contain only finite"):
        to_float_images(x)


@pytest.mark.parametrize("value", [-1, 256])
def test_rejects_integers_outside_pixel_range(value):
    x = np.full((1, 2, 2), value, dtype="int32")
    with pytest.raises(ValueError, match=r"must be pixel values in \[0, 255\]"):
        to_float_images(x)


def test_rejects_non_numeric():
    with pytest.raises(ValueError, match="`x` must be numeric"):
        to_float_images(np.full((1, 2, 2), "a"))
