import keras
import numpy as np
import pytest

from keras_xai.applications import ARCHITECTURES, ImageClassifier
from keras_xai.testing import TestCase


class TestImageClassifier(TestCase):
    @pytest.mark.multi_backend
    def test_lenet5_round_trips(self, tmp_path):
        images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
        model = self.run_model_test(
            ImageClassifier,
            {"architecture": "lenet5", "image_shape": (28, 28, 1), "num_classes": 10},
            images,
            expected_output_shape=(3, 10),
            tmp_path=tmp_path,
        )
        probabilities = keras.ops.convert_to_numpy(model(images))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    def test_lenet5_layers_are_classic(self):
        model = ImageClassifier("lenet5", (32, 32, 1), num_classes=7)
        assert model.get_layer("conv1").filters == 6
        assert model.get_layer("conv1").kernel_size == (5, 5)
        assert model.get_layer("conv2").filters == 16
        assert model.get_layer("fc1").units == 120
        assert model.get_layer("fc2").units == 84
        assert model.get_layer("logits").units == 7
        assert model.get_layer("pool2").output.shape[1:] == (5, 5, 16)

    @pytest.mark.large
    @pytest.mark.parametrize("architecture", sorted(set(ARCHITECTURES) - {"lenet5"}))
    def test_keras_applications_backbones(self, architecture):
        model = ImageClassifier(architecture, (32, 32, 1), num_classes=4)
        images = np.random.default_rng(1).random((2, 32, 32, 1)).astype("float32")
        features, logits = model.split()(images)
        assert features.shape[0] == 2 and len(features.shape) == 4
        probabilities = keras.ops.convert_to_numpy(model(images))
        np.testing.assert_allclose(
            probabilities,
            keras.ops.convert_to_numpy(keras.ops.softmax(logits)),
            rtol=1e-4,
            atol=1e-6,
        )

    def test_vgg_small_is_a_six_conv_cam_friendly_backbone(self):
        model = ImageClassifier("vgg_small", (28, 28, 1), 10)
        convs = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
        ]
        assert len(convs) == 6 and model.pooling == "avg"
        assert model.split().layer_name == "block3_conv2"
        assert model.get_layer("block3_conv2").output.shape[1:] == (7, 7, 64)
        with pytest.raises(ValueError, match="vgg_small has no pretrained weights"):
            ImageClassifier("vgg_small", (28, 28, 1), 10, weights="imagenet")

    def test_global_pooling_accepts_larger_inputs(self):
        model = ImageClassifier(
            "lenet5", (28, 28, 1), 10, pooling="avg", hidden_units=()
        )
        revived = ImageClassifier.from_config(
            {**model.get_config(), "image_shape": (56, 56, 1)}
        )
        revived.set_weights(model.get_weights())
        out = revived(np.zeros((1, 56, 56, 1), "float32"))
        assert out.shape == (1, 10)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"architecture": "alexnet"}, "`architecture` must be one of"),
            ({"image_shape": (28, 28)}, "`image_shape` must be"),
            ({"image_shape": (28, 28, 4)}, "1 \\(grayscale\\) or 3"),
            ({"architecture": "vgg16", "image_shape": (28, 28, 3)}, "at least 32x32"),
            ({"num_classes": 1}, "`num_classes` must be an int >= 2"),
            ({"num_classes": 2.5}, "`num_classes` must be an int >= 2"),
            ({"pooling": "sum"}, "`pooling` must be one of"),
            ({"dropout": 1.0}, "`dropout` must be in"),
            ({"weights": "imagenet"}, "lenet5 has no pretrained weights"),
        ],
    )
    def test_bad_arguments(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            ImageClassifier(**kwargs)
