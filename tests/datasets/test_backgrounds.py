import numpy as np
import pytest

from keras_xai.datasets import object_masks, with_backgrounds


def _garments(num=4):
    images = np.zeros((num, 12, 12), "uint8")
    images[:, 3:9, 4:8] = 200
    return images


@pytest.mark.parametrize("kind", ["noise", "texture"])
def test_background_is_filled_and_the_object_kept(kind):
    images = _garments()
    out, masks = with_backgrounds(images, kind, seed=3, strength=0.4)
    assert out.shape == (4, 12, 12, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(masks, object_masks(images))
    inside = masks > 0
    np.testing.assert_allclose(out[..., 0][inside], 200 / 255, rtol=1e-6)
    background = out[..., 0][~inside]
    assert 0.0 <= background.min() and background.max() <= 0.4 + 1e-6
    assert background.std() > 0.02  # not black any more
    again, _ = with_backgrounds(images, kind, seed=3, strength=0.4)
    np.testing.assert_array_equal(out, again)
    other, _ = with_backgrounds(images, kind, seed=4, strength=0.4)
    assert not np.array_equal(out, other)


def test_black_is_the_control_and_channels_are_kept():
    images = _garments()
    out, _ = with_backgrounds(images, "black")
    np.testing.assert_allclose(out[..., 0], images / 255.0, atol=1e-6)
    rgb = np.repeat(images[..., None], 3, axis=-1)
    coloured, masks = with_backgrounds(rgb, "texture")
    assert coloured.shape == (4, 12, 12, 3)
    # One background value per pixel, the same in every channel.
    np.testing.assert_array_equal(coloured[..., 0], coloured[..., 2])
    assert masks.shape == (4, 12, 12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`kind` must be one of"):
        with_backgrounds(_garments(), "plaid")
    with pytest.raises(ValueError, match="`strength`"):
        with_backgrounds(_garments(), "noise", strength=0.0)
    with pytest.raises(ValueError, match="`seed`"):
        with_backgrounds(_garments(), "noise", seed=-1)
