import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.backend import grad
from keras_xai.losses import (
    gradcam_mask_fit,
    gradcam_region_penalty,
    normalized_cams,
)


def _cams_and_masks(batch=3, side=6, seed=0):
    rng = np.random.default_rng(seed)
    cams = rng.random((batch, side, side)).astype("float32")
    masks = (rng.random((batch, side, side)) > 0.5).astype("float32")
    return cams, masks


@pytest.mark.multi_backend
def test_closed_form_at_the_mask_size():
    cams, masks = _cams_and_masks()
    scaled = cams / (cams.max(axis=(1, 2), keepdims=True) + 1e-7)
    penalty = ops.convert_to_numpy(gradcam_region_penalty(cams, masks, weight=2.5))
    np.testing.assert_allclose(
        penalty, 2.5 * (((1 - masks) * scaled) ** 2).sum(axis=(1, 2)), rtol=1e-5
    )
    fit = ops.convert_to_numpy(gradcam_mask_fit(cams, masks))
    np.testing.assert_allclose(
        fit, ((scaled - masks) ** 2).mean(axis=(1, 2)), rtol=1e-5
    )


@pytest.mark.multi_backend
def test_upsampled_maps_match_keras_resize():
    cams, _ = _cams_and_masks(side=4)
    maps = ops.convert_to_numpy(normalized_cams(cams, (12, 12)))
    scaled = cams / (cams.max(axis=(1, 2), keepdims=True) + 1e-7)
    expected = ops.convert_to_numpy(
        ops.image.resize(scaled[..., None], (12, 12), interpolation="bilinear")
    )[..., 0]
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    masks = np.zeros((3, 12, 12), "float32")
    penalty = ops.convert_to_numpy(gradcam_region_penalty(cams, masks))
    np.testing.assert_allclose(penalty, (expected**2).sum(axis=(1, 2)), rtol=1e-4)


@pytest.mark.multi_backend
def test_no_annotation_and_empty_maps_stay_finite():
    cams, masks = _cams_and_masks()
    full = np.ones_like(masks)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(gradcam_region_penalty(cams, full, weight=100.0)), 0.0
    )
    empty = np.zeros_like(cams)
    penalty = ops.convert_to_numpy(gradcam_region_penalty(empty, masks))
    fit = ops.convert_to_numpy(gradcam_mask_fit(empty, masks))
    np.testing.assert_array_equal(penalty, 0.0)
    np.testing.assert_allclose(fit, masks.mean(axis=(1, 2)), rtol=1e-6)
    # The gradient at an all-zero map is finite too.
    variable = keras.Variable(empty)

    def total(value):
        return ops.sum(gradcam_mask_fit(value, masks))

    gradient = ops.convert_to_numpy(grad(total, ops.convert_to_tensor(variable)))
    assert np.all(np.isfinite(gradient))


def test_bad_shapes_and_weight():
    cams, masks = _cams_and_masks()
    with pytest.raises(ValueError, match="`cams` must be"):
        gradcam_region_penalty(cams, masks[:2])
    with pytest.raises(ValueError, match="`cams` must be"):
        gradcam_mask_fit(cams[0], masks)
    with pytest.raises(ValueError, match="`weight` must be a finite number >= 0"):
        gradcam_region_penalty(cams, masks, weight=-1.0)
