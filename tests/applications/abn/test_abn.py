import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_xai.applications import IMPACTX, ImageClassifier
from keras_xai.applications.abn import ABN
from keras_xai.export import export_saved_model
from keras_xai.testing import TestCase


def _images(n=4, side=28, seed=0):
    return np.random.default_rng(seed).random((n, side, side, 1)).astype("float32")


def _quadrant_data(n=16, side=28, seed=0):
    """Dim noise with a bright square in the quadrant given by the label."""
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.random((n, side, side, 1)).astype("float32")
    y = np.arange(n) % 4
    half, square = side // 2, 6
    for image, label in zip(x, y):
        top = (label // 2) * half + rng.integers(0, half - square + 1)
        left = (label % 2) * half + rng.integers(0, half - square + 1)
        image[top : top + square, left : left + square] = 1.0
    return x, y


def _small(classes=4, **kwargs):
    classifier = ImageClassifier("lenet5", (28, 28, 1), classes)
    return ABN(classifier, **{"filters": (8,), **kwargs})


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def _softmax(logits):
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _bilinear(maps, size):
    """Half-pixel-centre bilinear resize of (B, h, w) maps, in numpy."""

    def weights(n_in, n_out):
        source = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        matrix = np.zeros((n_out, n_in))
        matrix[np.arange(n_out), low] += 1 - (source - low)
        matrix[np.arange(n_out), high] += source - low
        return matrix

    rows = weights(maps.shape[1], size[0])
    cols = weights(maps.shape[2], size[1])
    return np.einsum("ih,bhw,jw->bij", rows, maps, cols)


class TestABN(TestCase):
    @pytest.mark.multi_backend
    def test_round_trips(self, tmp_path):
        self.run_model_test(
            ABN,
            {"classifier": ImageClassifier("lenet5", (28, 28, 1), 4), "filters": (8,)},
            _images(3),
            expected_output_shape={
                "class": (3, 4),
                "explanation": (3, 28, 28),
                "attention_class": (3, 4),
            },
            tmp_path=tmp_path,
        )

    def test_explanation_is_the_upsampled_attention_map(self):
        x = _images(5)
        model = _small()
        outputs = {key: _numpy(value) for key, value in model(x).items()}
        explanation = outputs["explanation"]
        assert explanation.shape == (5, 28, 28) and explanation.dtype == np.float32
        assert explanation.min() >= 0.0 and explanation.max() <= 1.0
        features = model.get_layer("feature_extractor")(x)
        _, attention = model.get_layer("attention_branch")(features)
        attention = _numpy(attention)[..., 0]
        assert attention.shape == (5, 4, 4)  # LeNet-5's pool2 at 28x28
        np.testing.assert_allclose(
            explanation, _bilinear(attention, (28, 28)), atol=1e-5
        )
        for key in ("class", "attention_class"):
            np.testing.assert_allclose(outputs[key].sum(axis=-1), 1.0, rtol=1e-5)

    def test_attention_gates_the_perception_branch(self):
        x = _images(4, seed=1)
        model = _small()
        extractor = model.get_layer("feature_extractor")
        perception = model.get_layer("perception_branch")
        features = _numpy(extractor(x))
        attention = _numpy(model.get_layer("attention_branch")(features)[1])
        expected = _softmax(_numpy(perception(features * attention + features)))
        np.testing.assert_allclose(_numpy(model(x)["class"]), expected, atol=1e-6)

        # Forcing M to 1 (then 0) through the final BatchNorm: the
        # perception branch then sees 2·A (then A).
        norm = model.get_layer("attention_branch").attention_bn
        gamma, beta, mean, variance = norm.get_weights()
        outputs = {}
        for value, scale in ((30.0, 2.0), (-30.0, 1.0)):
            norm.set_weights([0 * gamma, beta + value, mean, variance])
            out = model(x)
            np.testing.assert_allclose(
                _numpy(out["explanation"]), scale - 1.0, atol=1e-6
            )
            outputs[scale] = _numpy(out["class"])
            np.testing.assert_allclose(
                outputs[scale],
                _softmax(_numpy(perception(scale * features))),
                atol=1e-6,
            )
        assert np.abs(outputs[2.0] - outputs[1.0]).max() > 1e-3

    @pytest.mark.multi_backend
    def test_compute_loss_is_the_sum_of_both_cross_entropies(self):
        x, y = _quadrant_data(8)
        model = _small()
        model.compile()
        y_pred = model(x)
        rows = np.arange(len(y))
        expected = -np.mean(np.log(_numpy(y_pred["class"])[rows, y])) - np.mean(
            np.log(_numpy(y_pred["attention_class"])[rows, y])
        )
        for labels in (y, y[:, None], {"class": y, "attention_class": y}, {"class": y}):
            loss = model.compute_loss(x=x, y=labels, y_pred=y_pred, training=False)
            np.testing.assert_allclose(float(_numpy(loss)), expected, rtol=1e-5)
        # Different labels per branch reach their own branch.
        other = (y + 1) % 4
        loss = model.compute_loss(
            x=x, y={"class": y, "attention_class": other}, y_pred=y_pred
        )
        expected_other = -np.mean(np.log(_numpy(y_pred["class"])[rows, y])) - np.mean(
            np.log(_numpy(y_pred["attention_class"])[rows, other])
        )
        np.testing.assert_allclose(float(_numpy(loss)), expected_other, rtol=1e-5)
        # A custom loss on "class" alone: the attention branch is not trained.
        model.compile(loss={"class": keras.losses.SparseCategoricalCrossentropy()})
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        expected_class = -np.mean(np.log(_numpy(y_pred["class"])[rows, y]))
        np.testing.assert_allclose(float(_numpy(loss)), expected_class, rtol=1e-5)

    @pytest.mark.multi_backend
    def test_fit_on_location_encoded_classes_lowers_the_loss(self):
        x, y = _quadrant_data(16)
        keras.utils.set_random_seed(0)
        classifier = ImageClassifier("lenet5", (28, 28, 1), 4)
        before = [w.copy() for w in classifier.get_weights()]
        model = ABN(classifier, filters=(8,), init_from_classifier=True)
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = model.fit(x, y, epochs=8, batch_size=8, verbose=0).history
        # ABN trained its own copy: the classifier passed in is unchanged,
        # and `model.classifier` (the network without the gate) moved.
        for a, b in zip(before, classifier.get_weights()):
            np.testing.assert_array_equal(a, b)
        extractor = model.get_layer("feature_extractor")
        assert extractor.get_layer("conv1") is model.classifier.get_layer("conv1")
        assert not np.allclose(
            model.classifier.get_layer("conv1").get_weights()[0],
            classifier.get_layer("conv1").get_weights()[0],
        )
        assert set(history) >= {
            "loss",
            "class_loss",
            "attention_class_loss",
            "class_accuracy",
        }
        # Seeds 0-4 end at 0.3-0.4 of the first epoch's loss on TF and torch.
        assert history["loss"][-1] < 0.6 * history["loss"][0]
        attention_loss = history["attention_class_loss"]
        assert attention_loss[-1] < 0.9 * attention_loss[0]
        logs = model.evaluate(
            x, {"class": y, "attention_class": y}, verbose=0, return_dict=True
        )
        np.testing.assert_allclose(
            logs["loss"],
            logs["class_loss"] + logs["attention_class_loss"],
            rtol=1e-4,
        )

    @pytest.mark.multi_backend
    def test_bad_labels(self):
        x, y = _quadrant_data(8)
        model = _small()
        model.compile()
        model.fit(x, y, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="shape \\(batch,\\) or \\(batch, 1\\)"):
            model.fit(x, keras.utils.to_categorical(y, 4), epochs=1, verbose=0)
        with pytest.raises(ValueError, match="Received keys: \\['klass'\\]"):
            model.fit(x, {"klass": y}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match='need a loss for "explanation"'):
            targets = np.zeros((8, 28, 28), "float32")
            model.fit(x, {"class": y, "explanation": targets}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="attention_class"):
            model.evaluate(x, {"class": y, "attention_class": y[:, None, None]})
        # The model is still usable after the rejected calls (on JAX an
        # error inside the train step would have detached its variables).
        model.fit(x, y, epochs=1, verbose=0)

    def test_classifier_weights_are_copied_only_when_asked(self):
        classifier = ImageClassifier("lenet5", (28, 28, 1), 4)
        conv1 = classifier.get_layer("conv1").get_weights()[0]
        fresh = ABN(classifier, filters=(8,))
        assert not fresh.init_from_classifier
        assert fresh.classifier is not classifier
        assert not np.allclose(
            fresh.classifier.get_layer("conv1").get_weights()[0], conv1
        )
        warm = ABN(classifier, filters=(8,), init_from_classifier=True)
        np.testing.assert_array_equal(
            warm.classifier.get_layer("conv1").get_weights()[0], conv1
        )
        # Pretrained backbone weights are kept unless told otherwise.
        classifier.weights_source = "pretrained.weights.h5"
        kept = ABN(classifier, filters=(8,))
        assert kept.init_from_classifier
        np.testing.assert_array_equal(
            kept.classifier.get_layer("conv1").get_weights()[0], conv1
        )
        assert not ABN(classifier, init_from_classifier=False).init_from_classifier

    def test_feature_layer_option(self):
        model = _small(feature_layer="pool1")
        assert model.feature_layer == "pool1"
        features = model.get_layer("feature_extractor").output
        assert tuple(features.shape) == (None, 12, 12, 6)
        names = [layer.name for layer in model.get_layer("perception_branch").layers]
        assert "conv2" in names and "conv1" not in names
        assert _numpy(model(_images(2))["explanation"]).shape == (2, 28, 28)
        assert _small().feature_layer == "pool2"

    def test_bad_arguments(self):
        classifier = ImageClassifier("lenet5", (28, 28, 1), 4)
        with pytest.raises(ValueError, match="`classifier` must be"):
            ABN("lenet5")
        with pytest.raises(ValueError, match="`classifier` must be"):
            ABN(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()]))
        with pytest.raises(ValueError, match="4-D .* Received: layer='fc1'"):
            ABN(classifier, feature_layer="fc1")
        with pytest.raises(ValueError, match="Received: layer='conv9'"):
            ABN(classifier, feature_layer="conv9")
        with pytest.raises(ValueError, match="`feature_layer` must be a layer name"):
            ABN(classifier, feature_layer=3)
        with pytest.raises(ValueError, match="`filters` must be a tuple"):
            ABN(classifier, filters=(8, -1))
        with pytest.raises(ValueError, match="`filters` must be a tuple"):
            ABN(classifier, filters=8)
        with pytest.raises(ValueError, match="`kernel_size` must be >= 1"):
            ABN(classifier, kernel_size=0)

    def test_mixed_precision_outputs_float32(self):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy("mixed_float16")
        try:
            model = _small()
            outputs = model(_images(2))
        finally:
            keras.config.set_dtype_policy(previous)
        assert model.get_layer("attention_branch").compute_dtype == "float16"
        for key, value in outputs.items():
            value = _numpy(value)
            assert value.dtype == np.float32, key
            assert np.all(np.isfinite(value))
        explanation = _numpy(outputs["explanation"])
        assert explanation.min() >= 0.0 and explanation.max() <= 1.0

    @pytest.mark.multi_backend
    @pytest.mark.large
    def test_savedmodel_export_serves_class_and_explanation(self, tmp_path):
        model = _small()
        x = _images(3)
        expected = {key: _numpy(value) for key, value in model(x).items()}
        export_saved_model(model, tmp_path / "saved")
        np.save(tmp_path / "x.npy", x)
        script = (
            "import json, sys\nimport numpy as np\nimport tensorflow as tf\n"
            # Keep the loaded object alive: its variables die with it.
            "loaded = tf.saved_model.load(sys.argv[1])\n"
            "outputs = loaded.serve(np.load(sys.argv[2]))\n"
            "assert not any(name.startswith('keras_xai') for name in sys.modules)\n"
            "print(json.dumps({k: v.numpy().tolist() for k, v in outputs.items()}))\n"
        )
        completed = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                script,
                str(tmp_path / "saved"),
                str(tmp_path / "x.npy"),
            ],
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        served = json.loads(completed.stdout.strip().splitlines()[-1])
        assert set(served) == {"class", "explanation", "attention_class"}
        for key in served:
            np.testing.assert_allclose(np.array(served[key]), expected[key], atol=1e-5)


class TestPresets:
    def test_preset_table_mirrors_impactx(self):
        assert set(ABN.presets) == set(IMPACTX.presets)
        assert ABN.presets["lenet5_cifar100"]["config"]["num_classes"] == 100
        assert ABN.presets["mobilenet_stl10"]["config"]["image_shape"] == (96, 96, 3)

    @pytest.mark.parametrize(
        "name, side, channels, classes, grid",
        [
            ("lenet5_fashion_mnist", 28, 1, 10, 4),
            ("lenet5_cifar10", 32, 3, 10, 5),
            ("lenet5_cifar100", 32, 3, 100, 5),
        ],
    )
    def test_from_preset_name(self, name, side, channels, classes, grid):
        model = ABN.from_preset(name, filters=(8,))
        assert model.filters == (8,)
        out = model(np.zeros((2, side, side, channels), "float32"))
        assert tuple(out["class"].shape) == (2, classes)
        assert tuple(out["attention_class"].shape) == (2, classes)
        assert tuple(out["explanation"].shape) == (2, side, side)
        features = model.get_layer("feature_extractor").output
        assert tuple(features.shape[1:3]) == (grid, grid)

    def test_unknown_name_lists_valid_ones(self):
        with pytest.raises(ValueError, match="lenet5_fashion_mnist"):
            ABN.from_preset("lenet7_mnist")

    @pytest.mark.large
    @pytest.mark.parametrize(
        "name",
        [
            "mobilenet_cifar10",
            "efficientnet_b2_cifar10",
            "vgg16_cifar10",
            "resnet50_cifar10",
        ],
    )
    def test_deep_presets_attend_on_a_2x2_map(self, name):
        # Cut before the last stride-2 stage: a 1x1 map would make M constant.
        model = ABN.from_preset(name)
        features = model.get_layer("feature_extractor").output
        assert tuple(features.shape[1:3]) == (2, 2)
        out = model(np.zeros((1, 32, 32, 3), "float32"))
        assert tuple(out["class"].shape) == (1, 10)
        assert tuple(out["explanation"].shape) == (1, 32, 32)

    @pytest.mark.multi_backend
    def test_trained_preset_directory_round_trip(self, tmp_path):
        x, _ = _quadrant_data(8)
        model = ABN.from_preset("lenet5_fashion_mnist", filters=(8,))
        # Non-default weights everywhere, BatchNorm statistics included
        # (scaled by a positive factor so variances stay positive).
        rng = np.random.default_rng(0)
        model.set_weights(
            [w * rng.uniform(0.5, 1.5, w.shape) + 0.01 for w in model.get_weights()]
        )
        directory = model.save_to_preset(tmp_path / "preset")
        assert sorted(os.listdir(directory)) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
        restored = ABN.from_preset(str(directory))
        assert type(restored) is ABN and restored.feature_layer == "pool2"
        for key, value in model(x).items():
            np.testing.assert_array_equal(_numpy(restored(x)[key]), _numpy(value))
