import numpy as np
import pytest

from keras_xai.layers import ImagePreprocessing
from keras_xai.testing import TestCase


class TestImagePreprocessing(TestCase):
    @pytest.mark.multi_backend
    def test_layer_round_trips(self, tmp_path):
        images = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
        self.run_layer_test(
            ImagePreprocessing,
            {"mode": "caffe", "output_channels": 3},
            images,
            expected_output_shape=(2, 8, 8, 3),
            tmp_path=tmp_path,
        )

    @pytest.mark.parametrize(
        "mode, pixel, expected",
        [
            ("none", 0.5, [0.5, 0.5, 0.5]),
            ("tf", 0.25, [-0.5, -0.5, -0.5]),
            ("scale255", 1.0, [255.0, 255.0, 255.0]),
            ("torch", 0.485, [0.0, (0.485 - 0.456) / 0.224, (0.485 - 0.406) / 0.225]),
        ],
    )
    def test_modes(self, mode, pixel, expected):
        images = np.full((1, 2, 2, 3), pixel, "float32")
        out = np.asarray(ImagePreprocessing(mode=mode)(images))
        np.testing.assert_allclose(out[0, 0, 0], expected, rtol=1e-5, atol=1e-5)

    def test_caffe_flips_to_bgr_and_subtracts_mean(self):
        images = np.zeros((1, 1, 1, 3), "float32")
        images[..., 0] = 1.0  # pure red
        out = np.asarray(ImagePreprocessing(mode="caffe")(images))[0, 0, 0]
        np.testing.assert_allclose(out, [-103.939, -116.779, 255.0 - 123.68], rtol=1e-5)

    def test_grayscale_repeated_to_rgb(self):
        images = np.random.default_rng(1).random((2, 4, 4, 1)).astype("float32")
        out = np.asarray(ImagePreprocessing(output_channels=3)(images))
        assert out.shape == (2, 4, 4, 3)
        for channel in range(3):
            np.testing.assert_array_equal(out[..., channel], images[..., 0])

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="`mode` must be one of"):
            ImagePreprocessing(mode="imagenet")
        with pytest.raises(ValueError, match="`output_channels`"):
            ImagePreprocessing(output_channels=4)
