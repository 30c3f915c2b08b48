import keras
import matplotlib
import numpy as np
import pytest

from keras_xai.visualization import normalize_map, overlay


def _image(channels=3, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (size, size, channels)).astype("float32")


def _cam(size=8, seed=1):
    return np.random.default_rng(seed).uniform(0, 5, (size, size)).astype("float32")


@pytest.mark.parametrize("channels", [1, 3])
def test_returns_rgb_float32_in_unit_range(channels):
    result = overlay(_image(channels), _cam())
    assert result.shape == (8, 8, 3) and result.dtype == np.float32
    assert result.min() >= 0.0 and result.max() <= 1.0


def test_alpha_zero_returns_the_image_exactly():
    image = _image()
    np.testing.assert_array_equal(overlay(image, _cam(), alpha=0.0), image)


def test_alpha_zero_expands_a_grayscale_image_to_rgb():
    image = _image(channels=1)
    result = overlay(image, _cam(), alpha=0.0)
    np.testing.assert_array_equal(result, np.repeat(image, 3, axis=-1))


def test_alpha_one_returns_the_colour_mapped_map():
    cam = _cam()
    expected = matplotlib.colormaps["jet"](normalize_map(cam))[..., :3]
    result = overlay(_image(), cam, alpha=1.0)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_blend_is_linear_in_alpha():
    image, cam = _image(), _cam()
    colours = overlay(image, cam, alpha=1.0)
    result = overlay(image, cam, alpha=0.3)
    np.testing.assert_allclose(result, 0.7 * image + 0.3 * colours, atol=1e-6)


def test_signed_map_uses_a_diverging_colormap_centred_at_zero():
    gradient = np.array([[-4.0, 0.0], [2.0, 4.0]])
    result = overlay(np.zeros((2, 2, 3)), gradient, alpha=1.0)
    bwr = matplotlib.colormaps["bwr"]
    np.testing.assert_allclose(result[0, 0], bwr(0.0)[:3], atol=1e-6)  # blue
    np.testing.assert_allclose(result[0, 1], bwr(0.5)[:3], atol=1e-6)  # white
    np.testing.assert_allclose(result[1, 0], bwr(0.75)[:3], atol=1e-6)
    np.testing.assert_allclose(result[1, 1], bwr(1.0)[:3], atol=1e-6)  # red


def test_explicit_cmap_is_used_for_signed_maps():
    gradient = np.array([[-4.0, 0.0], [2.0, 4.0]])
    result = overlay(np.zeros((2, 2, 3)), gradient, cmap="viridis", alpha=1.0)
    positions = (normalize_map(gradient) + 1) / 2
    expected = matplotlib.colormaps["viridis"](positions)[..., :3]
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_signed_false_treats_a_signed_map_as_non_negative():
    gradient = np.array([[-4.0, 0.0], [2.0, 4.0]])
    result = overlay(np.zeros((2, 2, 3)), gradient, alpha=1.0, signed=False)
    expected = matplotlib.colormaps["jet"](np.array([[0, 0.5], [0.75, 1]]))
    np.testing.assert_allclose(result, expected[..., :3], atol=1e-6)


def test_accepts_a_colormap_instance():
    cam = _cam()
    by_name = overlay(_image(), cam, cmap="magma")
    by_instance = overlay(_image(), cam, cmap=matplotlib.colormaps["magma"])
    np.testing.assert_array_equal(by_name, by_instance)


def test_small_map_is_resized_bilinearly_to_the_image():
    cam = np.array([[0.0, 1.0], [0.0, 1.0]])
    result = overlay(np.zeros((8, 8, 3)), cam, cmap="gray", alpha=1.0)
    assert result.shape == (8, 8, 3)
    # Pixel centres of the 8 columns fall at -0.375, -0.125, 0.125, ... 1.375 in
    # the 2-column map: clamped at the edges, linear in between.
    expected = [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1]
    for row in result:
        np.testing.assert_allclose(row[:, 0], expected, atol=1 / 255)


def test_large_map_is_shrunk_to_the_image():
    cam = np.zeros((32, 32))
    cam[:, 16:] = 1.0
    result = overlay(np.zeros((4, 4, 3)), cam, cmap="gray", alpha=1.0)
    assert result.shape == (4, 4, 3)
    np.testing.assert_allclose(result[:, 0, 0], 0.0, atol=1 / 255)
    np.testing.assert_allclose(result[:, -1, 0], 1.0, atol=1 / 255)


def test_constant_map_renders_without_nan():
    with np.errstate(all="raise"):
        result = overlay(_image(), np.zeros((4, 4)), alpha=1.0)
    expected = matplotlib.colormaps["jet"](0.0)[:3]
    np.testing.assert_allclose(result, np.broadcast_to(expected, (8, 8, 3)), atol=1e-6)


def test_accepts_backend_tensors():
    image, cam = _image(), _cam()
    result = overlay(
        keras.ops.convert_to_tensor(image), keras.ops.convert_to_tensor(cam)
    )
    np.testing.assert_allclose(result, overlay(image, cam), atol=1e-6)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan])
def test_alpha_out_of_range_raises(alpha):
    with pytest.raises(ValueError, match=r"`alpha` must be in \[0, 1\]. Received"):
        overlay(_image(), _cam(), alpha=alpha)


@pytest.mark.parametrize("alpha", ["0.5", True, None])
def test_alpha_not_a_number_raises(alpha):
    with pytest.raises(ValueError, match="`alpha` must be a number"):
        overlay(_image(), _cam(), alpha=alpha)


@pytest.mark.parametrize("cmap", ["not_a_colormap", 3])
def test_unknown_cmap_raises(cmap):
    with pytest.raises(ValueError, match="`cmap` must be a matplotlib colormap name"):
        overlay(_image(), _cam(), cmap=cmap)


@pytest.mark.parametrize(
    "shape", [(8, 8), (1, 8, 8, 3), (8, 8, 2), (8, 8, 4), (0, 8, 3)]
)
def test_bad_image_shape_raises(shape):
    with pytest.raises(ValueError, match=r"`image` must .*Received: image.shape="):
        overlay(np.zeros(shape), _cam())


@pytest.mark.parametrize("value", [1.5, -0.2, 255.0])
def test_image_out_of_unit_range_raises(value):
    image = _image()
    image[0, 0, 0] = value
    with pytest.raises(ValueError, match=r"`image` must have values in \[0, 1\]"):
        overlay(image, _cam())


def test_non_finite_image_raises():
    image = _image()
    image[2, 2, 1] = np.nan
    with pytest.raises(ValueError, match="`image` must contain only finite"):
        overlay(image, _cam())


@pytest.mark.parametrize("shape", [(8,), (1, 8, 8), (8, 8, 1)])
def test_bad_map_shape_raises(shape):
    with pytest.raises(ValueError, match=r"`attribution` must be an attribution map"):
        overlay(_image(), np.zeros(shape))


def test_non_finite_map_raises():
    cam = _cam()
    cam[0, 0] = np.nan
    with pytest.raises(ValueError, match="`attribution` must contain only finite"):
        overlay(_image(), cam)


def test_bad_signed_raises():
    with pytest.raises(ValueError, match="`signed` must be True, False or None"):
        overlay(_image(), _cam(), signed="auto")
