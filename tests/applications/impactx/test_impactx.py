import json
import os

import keras
import numpy as np
import pytest

from keras_xai.applications import IMPACTX, ImageClassifier
from keras_xai.testing import TestCase


def _data(n=12, side=28, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, side, side, 1)).astype("float32")
    y = rng.integers(0, classes, n)
    r = rng.uniform(-1, 1, (n, side, side)).astype("float32")
    return x, y, r


def _small(classifier=None, **kwargs):
    classifier = classifier or ImageClassifier("lenet5", (28, 28, 1), 10)
    options = {"latent_dim": 16, "classifier_units": (8,), "decoder_filters": (4,)}
    return IMPACTX(classifier, **{**options, **kwargs})


class TestIMPACTX(TestCase):
    @pytest.mark.multi_backend
    def test_round_trips(self, tmp_path):
        x, _, _ = _data(3)
        classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
        self.run_model_test(
            IMPACTX,
            {
                "classifier": classifier,
                "latent_dim": 16,
                "classifier_units": (8,),
                "decoder_filters": (4,),
            },
            x,
            expected_output_shape={"class": (3, 10), "explanation": (3, 28, 28)},
            tmp_path=tmp_path,
        )

    @pytest.mark.multi_backend
    def test_stage2_fit_keeps_m_frozen_and_learns_explanations(self):
        x, y, r = _data(32)
        model = _small()
        frozen = [w.copy() for w in model.classifier.get_weights()]
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = model.fit(
            x, {"class": y, "explanation": r}, epochs=6, batch_size=16, verbose=0
        )
        for before, after in zip(frozen, model.classifier.get_weights()):
            np.testing.assert_array_equal(before, after)
        losses = history.history["explanation_loss"]
        assert losses[-1] < losses[0]
        assert set(history.history) >= {"class_loss", "class_accuracy", "loss"}

    def test_lep_starts_from_the_stage1_backbone(self):
        model = _small()
        lep = model.get_layer("LEP_features")
        for name in ("conv1", "conv2"):
            for a, b in zip(
                lep.get_layer(name).get_weights(),
                model.classifier.get_layer(name).get_weights(),
            ):
                np.testing.assert_array_equal(a, b)
        fresh = _small(init_lep_from_classifier=False)
        kernel = fresh.get_layer("LEP_features").get_layer("conv1").kernel
        assert not np.allclose(
            keras.ops.convert_to_numpy(kernel),
            fresh.classifier.get_layer("conv1").get_weights()[0],
        )

    def test_m_output_options(self):
        x, _, _ = _data(2)
        logits = _small()
        penultimate = _small(m_output="penultimate")
        assert logits.get_layer("M").output.shape[-1] == 10
        assert penultimate.get_layer("M").output.shape[-1] == 84
        assert penultimate(x)["class"].shape == (2, 10)

    def test_loss_weight_is_lambda(self):
        model = _small(explanation_weight=0.4)
        model.compile()
        assert model.explanation_weight == 0.4
        x, y, r = _data(8)
        logs = model.evaluate(
            x, {"class": y, "explanation": r}, verbose=0, return_dict=True
        )
        expected = logs["class_loss"] + 0.4 * logs["explanation_loss"]
        np.testing.assert_allclose(logs["loss"], expected, rtol=1e-4)

    def test_colour_32_and_96_inputs(self):
        for side in (32, 96):
            classifier = ImageClassifier("lenet5", (side, side, 3), 4)
            model = _small(classifier)
            out = model(np.zeros((1, side, side, 3), "float32"))
            assert out["explanation"].shape == (1, side, side)
        assert model.get_layer("explanation_decoder").grid == (6, 6)

    @pytest.mark.multi_backend
    def test_targets_that_do_not_match_the_decoder(self):
        x, y, _ = _data(4)
        model = _small()
        model.compile()
        wrong = np.zeros((4, 32, 32), "float32")
        with pytest.raises(ValueError, match="per-image shape \\(32, 32\\)"):
            model.fit(x, {"class": y, "explanation": wrong}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="one \\(H, W\\) map per image"):
            model.fit(
                x, {"class": y, "explanation": wrong[..., None]}, epochs=1, verbose=0
            )
        # A rejected call leaves the model trainable (JAX included).
        history = model.fit(x, {"class": y, "explanation": _data(4)[2]}, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    def test_bad_arguments(self):
        classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
        with pytest.raises(ValueError, match="`classifier` must be"):
            IMPACTX("lenet5")
        with pytest.raises(ValueError, match="`m_output` must be one of"):
            IMPACTX(classifier, m_output="features")
        with pytest.raises(
            ValueError, match="`explanation_weight` must be a finite number >= 0"
        ):
            IMPACTX(classifier, explanation_weight=-1)
        with pytest.raises(ValueError, match="`latent_dim` must be >= 1"):
            IMPACTX(classifier, latent_dim=0)
        odd = ImageClassifier("lenet5", (27, 27, 1), 10)
        with pytest.raises(ValueError, match="grid·2\\^n"):
            IMPACTX(odd)


class TestPresets:
    def test_preset_table(self):
        required = {
            "lenet5_fashion_mnist",
            "lenet5_cifar10",
            "lenet5_cifar100",
            "lenet5_stl10",
            "mobilenet_cifar10",
            "mobilenet_cifar100",
            "mobilenet_stl10",
            "efficientnet_b2_cifar10",
            "efficientnet_b2_cifar100",
            "efficientnet_b2_stl10",
            "vgg16_cifar10",
            "resnet50_cifar10",
        }
        assert required <= set(IMPACTX.presets)
        assert IMPACTX.presets["lenet5_cifar100"]["config"]["num_classes"] == 100
        assert IMPACTX.presets["mobilenet_stl10"]["config"]["image_shape"] == (
            96,
            96,
            3,
        )

    def test_from_preset_name(self):
        model = IMPACTX.from_preset("lenet5_cifar10", latent_dim=32)
        assert model.latent_dim == 32
        assert model.get_layer("explanation_decoder").num_blocks == 3
        assert model.classifier.image_shape == (32, 32, 3)

    @pytest.mark.large
    @pytest.mark.parametrize(
        "name", ["mobilenet_cifar10", "efficientnet_b2_cifar10", "resnet50_cifar10"]
    )
    def test_deep_presets_build_and_run(self, name):
        model = IMPACTX.from_preset(name)
        out = model(np.zeros((1, 32, 32, 3), "float32"))
        assert out["class"].shape == (1, 10) and out["explanation"].shape == (1, 32, 32)

    def test_unknown_name_lists_valid_ones(self):
        with pytest.raises(ValueError, match="lenet5_fashion_mnist"):
            IMPACTX.from_preset("lenet7_mnist")

    @pytest.mark.multi_backend
    def test_trained_preset_directory_round_trip(self, tmp_path):
        x, y, r = _data(16)
        model = _small()
        model.compile()
        model.fit(x, {"class": y, "explanation": r}, epochs=1, verbose=0)
        model.save_to_preset(tmp_path / "preset")
        assert sorted(os.listdir(tmp_path / "preset")) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
        restored = IMPACTX.from_preset(str(tmp_path / "preset"))
        for key in ("class", "explanation"):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(restored(x)[key]),
                keras.ops.convert_to_numpy(model(x)[key]),
            )

    def test_preset_files_are_verified(self, tmp_path, caplog):
        model = _small()
        directory = model.save_to_preset(tmp_path / "preset")
        metadata = json.load(open(os.path.join(directory, "metadata.json")))
        assert set(metadata["sha256"]) == {"config.json", "model.weights.h5"}
        # 32 bytes flipped inside the weights file: still a valid HDF5 file
        # that loads as another model, so only the checksum catches it.
        weights = os.path.join(directory, "model.weights.h5")
        data = bytearray(open(weights, "rb").read())
        middle = len(data) // 2
        data[middle : middle + 32] = bytes(b ^ 0xFF for b in data[middle : middle + 32])
        open(weights, "wb").write(bytes(data))
        with pytest.raises(ValueError, match="model.weights.h5 does not match"):
            IMPACTX.from_preset(directory)
        model.save_to_preset(directory)
        config = os.path.join(directory, "config.json")
        open(config, "a").write(" ")
        with pytest.raises(ValueError, match="config.json does not match"):
            IMPACTX.from_preset(directory)
        # A preset saved before checksums: loads, with a warning.
        model.save_to_preset(directory)
        _drop_checksums(directory)
        with caplog.at_level("WARNING", logger="keras_xai"):
            IMPACTX.from_preset(directory)
        assert "records no checksums" in caplog.text

    def test_builtin_name_wins_over_a_directory_of_that_name(
        self, tmp_path, monkeypatch, caplog
    ):
        monkeypatch.chdir(tmp_path)
        _small().save_to_preset("lenet5_fashion_mnist")
        with caplog.at_level("WARNING", logger="keras_xai"):
            builtin = IMPACTX.from_preset("lenet5_fashion_mnist")
        assert "using the built-in preset" in caplog.text
        saved = IMPACTX.from_preset("./lenet5_fashion_mnist")
        assert builtin.latent_dim != saved.latent_dim or (
            builtin.count_params() != saved.count_params()
        )

    def test_preset_directory_errors(self, tmp_path):
        model = _small()
        directory = model.save_to_preset(tmp_path / "a")
        os.remove(os.path.join(directory, "model.weights.h5"))
        with pytest.raises(FileNotFoundError, match="model.weights.h5"):
            IMPACTX.from_preset(directory)
        # Weights of another configuration: refused by the checksum, and
        # (in a preset saved without checksums) by the weight loader.
        other = _small(latent_dim=8).save_to_preset(tmp_path / "b")
        model.save_to_preset(tmp_path / "c")
        os.replace(
            os.path.join(other, "model.weights.h5"),
            os.path.join(tmp_path / "c", "model.weights.h5"),
        )
        with pytest.raises(ValueError, match="model.weights.h5 does not match"):
            IMPACTX.from_preset(str(tmp_path / "c"))
        _drop_checksums(tmp_path / "c")
        with pytest.raises(ValueError, match="do not match"):
            IMPACTX.from_preset(str(tmp_path / "c"))
        # Metadata from another model.
        other = _small(latent_dim=8).save_to_preset(tmp_path / "b")
        path = os.path.join(other, "metadata.json")
        metadata = json.load(open(path))
        metadata["parameter_count"] += 1
        json.dump(metadata, open(path, "w"))
        _drop_checksums(other)
        with pytest.raises(ValueError, match="do not belong together"):
            IMPACTX.from_preset(other)
        with pytest.raises(ValueError, match="overrides"):
            IMPACTX.from_preset(directory, latent_dim=4)


def _drop_checksums(directory):
    """Turns a preset into one saved before checksums were recorded."""
    path = os.path.join(directory, "metadata.json")
    metadata = json.load(open(path))
    del metadata["sha256"]
    json.dump(metadata, open(path, "w"))
