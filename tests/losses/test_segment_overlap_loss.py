import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.backend import grad
from keras_xai.layers.dihedral_views import DIHEDRAL_VIEWS, dihedral_views
from keras_xai.losses.segment_overlap_loss import (
    SegmentOverlapLoss,
    auto_blur_kernel_size,
    gaussian_blur,
    gaussian_kernel,
    segment_overlap_loss,
    softmax_pool,
)
from keras_xai.testing import TestCase


def _numpy_blur(masks, size):
    """Gaussian blur written out: OpenCV's sigma, reflected borders."""
    sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    offsets = np.arange(size) - size // 2
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    pad = size // 2
    padded = np.pad(masks, ((0, 0), (pad, pad), (pad, pad)), mode="reflect")
    height, width = masks.shape[1:]
    rows = sum(kernel[i] * padded[:, i : i + height, :] for i in range(size))
    return sum(kernel[j] * rows[:, :, j : j + width] for j in range(size))


def _numpy_loss(cams, masks, temperature, blur, epsilon=1e-7):
    cams = cams.astype("float64")
    scale = np.abs(cams).max(axis=(0, 2, 3), keepdims=True) + epsilon
    scaled = cams / scale
    weights = np.exp(temperature * scaled)
    weights /= weights.sum(axis=0, keepdims=True)
    pooled = (weights * scaled).sum(axis=0)
    target = masks if blur is None else _numpy_blur(masks.astype("float64"), blur)
    dot = (pooled * target).sum(axis=(1, 2))
    norms = np.sqrt(
        ((pooled**2).sum(axis=(1, 2)) + epsilon)
        * ((target**2).sum(axis=(1, 2)) + epsilon)
    )
    return 1.0 - dot / norms


def _data(views=3, batch=4, side=9, seed=0):
    rng = np.random.default_rng(seed)
    cams = rng.random((views, batch, side, side)).astype("float32")
    masks = (rng.random((batch, side, side)) > 0.5).astype("float32")
    return cams, masks


@pytest.mark.parametrize("temperature", [0.5, 10.0])
@pytest.mark.parametrize("blur", [None, 3, 5])
def test_value_matches_numpy(temperature, blur):
    cams, masks = _data()
    cams[:, 0] *= 1e-3  # a small-scale image: same loss shape, no ε effects
    got = ops.convert_to_numpy(
        segment_overlap_loss(cams, masks, temperature, blur_kernel_size=blur)
    )
    np.testing.assert_allclose(
        got, _numpy_loss(cams, masks, temperature, blur), rtol=1e-5, atol=1e-6
    )
    assert got.shape == (4,)
    assert np.all((got >= 0) & (got <= 1))


def test_auto_blur_is_the_default():
    cams, masks = _data(side=28)
    got = ops.convert_to_numpy(segment_overlap_loss(cams, masks))
    np.testing.assert_allclose(got, _numpy_loss(cams, masks, 10.0, 3), rtol=1e-5)


def test_cam_equal_to_the_mask_gives_zero():
    _, masks = _data(side=12)
    cams = np.stack([masks * 3.0] * 4)  # every view on the object, any scale
    loss = segment_overlap_loss(cams, masks, blur_kernel_size=None)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), 0.0, atol=1e-6)
    # With blur, the optimum is the blurred mask.
    blurred = ops.convert_to_numpy(gaussian_blur(masks, 5))
    loss = segment_overlap_loss(blurred[None], masks, blur_kernel_size=5)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), 0.0, atol=1e-6)
    # A map on the complement of a binary mask gives the maximum, 1.
    loss = segment_overlap_loss((1.0 - masks)[None], masks, blur_kernel_size=None)
    np.testing.assert_allclose(ops.convert_to_numpy(loss), 1.0, atol=1e-6)


def test_one_view_and_low_resolution_cams():
    masks = np.zeros((2, 8, 8), "float32")
    masks[:, 2:6, 2:6] = 1.0
    constant = np.ones((2, 2, 2), "float32")  # (B, h, w): upsampled to 8x8
    loss = ops.convert_to_numpy(
        segment_overlap_loss(constant, masks, blur_kernel_size=None)
    )
    expected = 1.0 - 16.0 / (np.sqrt(64.0) * np.sqrt(16.0))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def _numpy_upsample(maps, size):
    """Bilinear, half-pixel centres, clamped borders, via `np.interp`."""

    def along(values, axis, out):
        n = values.shape[axis]
        source = (np.arange(out) + 0.5) * n / out - 0.5
        return np.apply_along_axis(
            lambda v: np.interp(source, np.arange(n), v), axis, values
        )

    return along(along(maps, -2, size[0]), -1, size[1])


def test_low_resolution_views_pooled_then_upsampled():
    cams, _ = _data(views=3, batch=2, side=4, seed=6)
    _, masks = _data(batch=2, side=12, seed=7)
    got = ops.convert_to_numpy(
        segment_overlap_loss(cams, masks, 4.0, blur_kernel_size=3)
    )
    scaled = cams / (np.abs(cams).max(axis=(0, 2, 3), keepdims=True) + 1e-7)
    weights = np.exp(4.0 * scaled)
    pooled = _numpy_upsample((weights * scaled).sum(0) / weights.sum(0), (12, 12))
    target = _numpy_blur(masks, 3)
    cosine = (pooled * target).sum((1, 2)) / np.sqrt(
        (pooled**2).sum((1, 2)) * (target**2).sum((1, 2))
    )
    np.testing.assert_allclose(got, 1.0 - cosine, rtol=1e-5, atol=1e-6)


@pytest.mark.multi_backend
def test_all_zero_cam_or_mask_is_finite_with_finite_gradients():
    cams, masks = _data()
    cams[:, 1] = 0.0
    masks[2] = 0.0
    loss = ops.convert_to_numpy(segment_overlap_loss(cams, masks))
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss[[1, 2]], 1.0, atol=1e-6)
    gradient = ops.convert_to_numpy(
        grad(lambda c: segment_overlap_loss(c, masks), ops.convert_to_tensor(cams))
    )
    assert np.all(np.isfinite(gradient))
    np.testing.assert_array_equal(gradient[:, 2], 0.0)  # no mask, no pull
    assert np.abs(gradient[:, 0]).max() > 0
    # Everything zero at once.
    zero = np.zeros_like(cams)
    gradient = grad(
        lambda c: segment_overlap_loss(c, zero[0]), ops.convert_to_tensor(zero)
    )
    assert np.all(np.isfinite(ops.convert_to_numpy(gradient)))


@pytest.mark.multi_backend
def test_gradient_matches_central_differences():
    cams, masks = _data(views=2, batch=2, side=6, seed=3)
    direction = np.random.default_rng(4).normal(size=cams.shape).astype("float32")

    def loss(c):
        return ops.sum(segment_overlap_loss(c, masks, 2.0, blur_kernel_size=3))

    analytic = float(np.sum(ops.convert_to_numpy(grad(loss, cams)) * direction))
    h = 1e-3
    plus = float(ops.convert_to_numpy(loss(cams + h * direction)))
    minus = float(ops.convert_to_numpy(loss(cams - h * direction)))
    np.testing.assert_allclose(analytic, (plus - minus) / (2 * h), rtol=2e-2)


def test_blur_kernel_size():
    assert auto_blur_kernel_size(224) == 23  # the paper's value
    assert auto_blur_kernel_size(28) == 3
    assert auto_blur_kernel_size(96) == 11
    assert auto_blur_kernel_size(5) == 1
    for side in range(1, 600):
        size = auto_blur_kernel_size(side)
        assert size % 2 == 1 and abs(size - side / 10) <= 1.5
    kernel = gaussian_kernel(7)
    assert kernel.shape == (7,)
    np.testing.assert_allclose(kernel.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(kernel, kernel[::-1])
    for bad in (0, 4, -3, 2.0, True, "big"):
        with pytest.raises(ValueError, match="blur_kernel_size"):
            segment_overlap_loss(*_data(), blur_kernel_size=bad)
    with pytest.raises(ValueError, match="smaller than twice"):
        gaussian_blur(np.ones((1, 4, 4), "float32"), 9)


def test_blur_matches_numpy_and_keeps_constants():
    _, masks = _data(side=10)
    np.testing.assert_allclose(
        ops.convert_to_numpy(gaussian_blur(masks, 5)), _numpy_blur(masks, 5), atol=1e-6
    )
    ones = np.ones((2, 10, 10), "float32")  # reflected borders: no dark rim
    np.testing.assert_allclose(
        ops.convert_to_numpy(gaussian_blur(ones, 7)), 1.0, rtol=1e-5
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(gaussian_blur(masks, 1)), masks)


def test_softmax_pool_bounds():
    maps = np.random.default_rng(5).normal(size=(8, 3, 5, 5)).astype("float32")
    for temperature in (0.1, 1.0, 10.0):
        pooled = ops.convert_to_numpy(softmax_pool(maps, temperature))
        assert np.all(pooled <= maps.max(0) + 1e-6)
        assert np.all(pooled >= maps.mean(0) - 1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(softmax_pool(maps, 1e-4)), maps.mean(0), atol=1e-3
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(softmax_pool(maps, 1e3)), maps.max(0), atol=1e-3
    )
    # Higher temperature: closer to the maximum everywhere.
    low = ops.convert_to_numpy(softmax_pool(maps, 1.0))
    high = ops.convert_to_numpy(softmax_pool(maps, 5.0))
    assert np.all(high >= low - 1e-6)


def test_bad_arguments():
    cams, masks = _data()
    with pytest.raises(ValueError, match="`temperature` must be a finite number > 0"):
        segment_overlap_loss(cams, masks, temperature=0.0)
    with pytest.raises(ValueError, match="`epsilon` must be a finite number > 0"):
        segment_overlap_loss(cams, masks, epsilon=-1.0)
    with pytest.raises(ValueError, match="`masks` must be one"):
        segment_overlap_loss(cams, masks[0])
    with pytest.raises(ValueError, match="`cams` must be"):
        segment_overlap_loss(cams[0, 0], masks)


class TestSegmentOverlapLoss(TestCase):
    @pytest.mark.multi_backend
    def test_class_maps_views_back(self):
        _, masks = _data(batch=2, side=8)
        loss = SegmentOverlapLoss(views=8, blur_kernel_size=None)
        # CAMs that follow each view's object exactly: zero loss.
        aligned = dihedral_views(masks, 8)
        np.testing.assert_allclose(float(loss(masks, aligned)), 0.0, atol=1e-6)
        # The same CAMs read without mapping back do not align.
        unmapped = SegmentOverlapLoss(views=1, blur_kernel_size=None)
        values = [
            float(unmapped(masks, ops.convert_to_numpy(aligned)[2 * v : 2 * v + 2]))
            for v in range(8)
        ]
        assert values[0] < 1e-6 and max(values) > 0.1
        # Equal to the function on the views mapped back by hand.
        cams, _ = _data(views=8, batch=2, side=8)
        stacked = np.concatenate(
            [
                ops.convert_to_numpy(dihedral_views(cams[v], (name,)))
                for v, name in enumerate(DIHEDRAL_VIEWS)
            ]
        )
        expected = np.mean(_numpy_loss(cams, masks, 10.0, None))
        np.testing.assert_allclose(float(loss(masks, stacked)), expected, rtol=1e-5)

    def test_config_round_trip(self):
        loss = SegmentOverlapLoss(views=("identity", "rot90"), temperature=3.0)
        config = loss.get_config()
        assert config["views"] == ("identity", "rot90")
        assert config["blur_kernel_size"] == "auto"
        revived = SegmentOverlapLoss.from_config(config)
        assert revived.get_config() == config
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(SegmentOverlapLoss(views=4))
        )
        assert isinstance(restored, SegmentOverlapLoss) and restored.views == 4
        with pytest.raises(ValueError, match="between 1 and 8"):
            SegmentOverlapLoss(views=0)
