import keras
import numpy as np
import pytest

from keras_xai.applications.backbones import (
    ARCHITECTURES,
    build_features,
    check_architecture,
    lenet5_features,
    vgg_small_features,
)
from keras_xai.layers.image_preprocessing import ImagePreprocessing


def _features_model(builder, image_shape, **kwargs):
    inputs = keras.Input(image_shape)
    return keras.Model(inputs, builder(inputs, **kwargs))


def _conv_params(kernel, channels_in, filters):
    return filters * (kernel * kernel * channels_in + 1)


class TestCheckArchitecture:
    @pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
    def test_smallest_accepted_side(self, architecture):
        side = ARCHITECTURES[architecture][2]
        check_architecture(architecture, (side, side, 3))
        with pytest.raises(
            ValueError, match=f"{architecture} needs images of at least {side}x{side}"
        ):
            check_architecture(architecture, (side + 8, side - 1, 3))

    def test_unknown_architecture_lists_the_known_ones(self):
        with pytest.raises(
            ValueError, match=r"`architecture` must be one of \['efficientnet_b2'"
        ):
            check_architecture("alexnet", (32, 32, 3))

    @pytest.mark.parametrize(
        "shape", [(28, 28), (1, 28, 28, 1), (28, 28.0, 1), (28, 0, 1), (-28, 28, 1)]
    )
    def test_image_shape_must_be_three_positive_ints(self, shape):
        with pytest.raises(
            ValueError, match="`image_shape` must be \\(height, width, channels\\)"
        ):
            check_architecture("lenet5", shape)

    @pytest.mark.parametrize("channels", [2, 4])
    def test_one_or_three_channels(self, channels):
        with pytest.raises(ValueError, match="1 \\(grayscale\\) or 3 \\(RGB\\)"):
            check_architecture("lenet5", (28, 28, channels))

    def test_preprocessing_modes_are_known_to_the_layer(self):
        for mode, needs_rgb, _ in ARCHITECTURES.values():
            layer = ImagePreprocessing(
                mode=mode, output_channels=3 if needs_rgb else None
            )
            assert layer.mode == mode


class TestOwnArchitectures:
    def test_lenet5_shapes_names_and_parameters(self):
        model = _features_model(lenet5_features, (28, 28, 1))
        # 28 -conv5-> 24 -pool-> 12 -conv5-> 8 -pool-> 4.
        assert model.output.shape == (None, 4, 4, 16)
        assert [layer.name for layer in model.layers[1:]] == [
            "conv1",
            "pool1",
            "conv2",
            "pool2",
        ]
        assert model.count_params() == _conv_params(5, 1, 6) + _conv_params(5, 6, 16)
        assert model.get_layer("conv2").activation is keras.activations.relu
        rgb = _features_model(lenet5_features, (32, 32, 3))
        assert rgb.output.shape == (None, 5, 5, 16)

    def test_vgg_small_default_widths(self):
        model = _features_model(vgg_small_features, (28, 28, 1))
        assert model.output.shape == (None, 7, 7, 64)
        names = [layer.name for layer in model.layers[1:]]
        assert names == [
            "block1_conv1",
            "block1_conv2",
            "block1_pool",
            "block2_conv1",
            "block2_conv2",
            "block2_pool",
            "block3_conv1",
            "block3_conv2",
        ]
        expected = sum(
            _conv_params(3, a, b)
            for a, b in [(1, 16), (16, 16), (16, 32), (32, 32), (32, 64), (64, 64)]
        )
        assert model.count_params() == expected

    @pytest.mark.parametrize(
        "widths, output_shape", [((4,), (9, 9, 4)), ((4, 8), (4, 4, 8))]
    )
    def test_vgg_small_widths_set_blocks_and_pools(self, widths, output_shape):
        # "same" padding keeps the side; a pool after every block but the last.
        model = _features_model(vgg_small_features, (9, 9, 2), widths=widths)
        assert model.output.shape[1:] == output_shape
        pools = [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.MaxPooling2D)
        ]
        assert len(pools) == len(widths) - 1

    def test_build_features_matches_the_builders(self):
        inputs = keras.Input((28, 28, 1))
        built = keras.Model(inputs, build_features("vgg_small", inputs, (28, 28, 1)))
        direct = _features_model(vgg_small_features, (28, 28, 1))
        assert built.output.shape == direct.output.shape
        assert built.count_params() == direct.count_params()

    @pytest.mark.parametrize("architecture", ["lenet5", "vgg_small"])
    @pytest.mark.parametrize("weights", ["imagenet", "weights.h5"])
    def test_own_architectures_have_no_pretrained_weights(self, architecture, weights):
        with pytest.raises(ValueError, match=f"{architecture} has no pretrained"):
            build_features(architecture, keras.Input((32, 32, 1)), (32, 32, 1), weights)


def test_keras_application_is_built_flat_in_the_callers_graph():
    inputs = keras.Input((32, 32, 3))
    features = build_features("mobilenet", inputs, (32, 32, 3))
    assert features.shape == (None, 1, 1, 1024)
    model = keras.Model(inputs, features)
    # No nested model: each backbone layer is reachable by name for CAMs.
    assert not [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert model.get_layer("conv_pw_13_relu").output is features
    out = model(np.zeros((1, 32, 32, 3), "float32"))
    assert tuple(out.shape) == (1, 1, 1, 1024)


def test_missing_weights_file_is_refused_before_building(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        build_features(
            "mobilenet",
            keras.Input((32, 32, 3)),
            (32, 32, 3),
            weights=str(tmp_path / "absent.h5"),
        )
