import datetime
import hashlib
import json
import os

import keras
import numpy as np
import pytest

from keras_xai.applications.preset_io import PresetMixin
from keras_xai.version import __version__


@keras.saving.register_keras_serializable(package="keras_xai_tests")
class TinyPresetModel(PresetMixin, keras.Model):
    """Dense(units) on `features` inputs, with a one-entry preset table."""

    presets = {
        "tiny_three": {
            "description": "Three outputs.",
            "config": {"units": 3, "features": 4},
        }
    }

    def __init__(self, units=2, features=4, **kwargs):
        inputs = keras.Input((features,))
        outputs = keras.layers.Dense(units, name="dense")(inputs)
        super().__init__(inputs, outputs, **kwargs)
        self.units = units
        self.features = features

    def get_config(self):
        return {
            "units": self.units,
            "features": self.features,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_architecture(cls, **config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_xai_tests")
class OtherPresetModel(TinyPresetModel):
    presets = {}


def _trained_looking(model):
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model


def _rewrite_metadata(directory, **changes):
    path = os.path.join(directory, "metadata.json")
    with open(path) as file:
        metadata = json.load(file)
    for key, value in changes.items():
        if value is None:
            del metadata[key]
        else:
            metadata[key] = value
    with open(path, "w") as file:
        json.dump(metadata, file)


class TestFromPresetName:
    def test_builds_the_table_configuration_with_overrides(self):
        model = TinyPresetModel.from_preset("tiny_three")
        assert type(model) is TinyPresetModel
        assert (model.units, model.features) == (3, 4)
        assert model.output.shape == (None, 3)
        model = TinyPresetModel.from_preset("tiny_three", features=6)
        assert (model.units, model.features) == (3, 6)

    def test_the_table_is_not_changed_by_overrides(self):
        TinyPresetModel.from_preset("tiny_three", units=5)
        assert TinyPresetModel.presets["tiny_three"]["config"]["units"] == 3

    def test_unknown_name_lists_the_valid_ones(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(
            ValueError, match="Unknown TinyPresetModel preset 'tiny_two'.*tiny_three"
        ):
            TinyPresetModel.from_preset("tiny_two")

    @pytest.mark.parametrize("preset", [None, 3, ["tiny_three"]])
    def test_preset_must_be_a_name_or_a_path(self, preset):
        with pytest.raises(ValueError, match="`preset` must be a preset name"):
            TinyPresetModel.from_preset(preset)


class TestPresetDirectory:
    @pytest.mark.multi_backend
    def test_round_trip_through_a_path_like(self, tmp_path):
        model = _trained_looking(TinyPresetModel(units=3))
        directory = model.save_to_preset(tmp_path / "nested" / "preset")
        assert directory == os.fspath(tmp_path / "nested" / "preset")
        assert sorted(os.listdir(directory)) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
        restored = TinyPresetModel.from_preset(tmp_path / "nested" / "preset")
        assert type(restored) is TinyPresetModel and restored.units == 3
        x = np.random.default_rng(1).random((2, 4)).astype("float32")
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(restored(x)),
            keras.ops.convert_to_numpy(model(x)),
        )

    def test_metadata_records_the_files_and_the_model(self, tmp_path):
        model = TinyPresetModel(units=3)
        directory = model.save_to_preset(tmp_path / "preset")
        with open(os.path.join(directory, "metadata.json")) as file:
            metadata = json.load(file)
        assert metadata["class_name"] == "TinyPresetModel"
        assert metadata["parameter_count"] == 4 * 3 + 3
        assert metadata["backend"] == keras.backend.backend()
        assert metadata["keras_version"] == keras.__version__
        assert metadata["keras_xai_version"] == __version__
        saved_at = datetime.datetime.fromisoformat(metadata["saved_at"])
        assert saved_at.utcoffset() == datetime.timedelta(0)
        for name in ("config.json", "model.weights.h5"):
            with open(os.path.join(directory, name), "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()
            assert metadata["sha256"][name] == digest
        with open(os.path.join(directory, "config.json")) as file:
            config = json.load(file)
        assert config["config"]["units"] == 3
        assert not [n for n in os.listdir(directory) if n.endswith(".tmp")]

    def test_saving_again_replaces_the_preset(self, tmp_path):
        directory = tmp_path / "preset"
        TinyPresetModel(units=3).save_to_preset(directory)
        second = _trained_looking(TinyPresetModel(units=5))
        second.save_to_preset(directory)
        restored = TinyPresetModel.from_preset(directory)
        assert restored.units == 5
        for a, b in zip(restored.get_weights(), second.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_another_class_is_refused(self, tmp_path):
        directory = TinyPresetModel().save_to_preset(tmp_path / "preset")
        with pytest.raises(
            ValueError, match="holds a 'TinyPresetModel' model, not a OtherPresetModel"
        ):
            OtherPresetModel.from_preset(directory)

    def test_config_of_another_class_is_refused(self, tmp_path):
        # metadata.json says OtherPresetModel, config.json builds a
        # TinyPresetModel (a saved-without-checksums preset, edited by hand).
        directory = TinyPresetModel().save_to_preset(tmp_path / "preset")
        _rewrite_metadata(directory, class_name="OtherPresetModel", sha256=None)
        with pytest.raises(
            ValueError, match="describes a TinyPresetModel, not a Other"
        ):
            OtherPresetModel.from_preset(directory)

    @pytest.mark.parametrize(
        "recorded",
        [["config.json", "model.weights.h5"], {"config.json": "0" * 64}, "abc"],
    )
    def test_malformed_checksum_record(self, tmp_path, recorded):
        directory = TinyPresetModel().save_to_preset(tmp_path / "preset")
        _rewrite_metadata(directory, sha256=recorded)
        with pytest.raises(ValueError, match="must record the SHA-256 of"):
            TinyPresetModel.from_preset(directory)

    @pytest.mark.parametrize("name", ["metadata.json", "config.json"])
    def test_damaged_json_names_the_file(self, tmp_path, name):
        directory = TinyPresetModel().save_to_preset(tmp_path / "preset")
        if name == "config.json":
            _rewrite_metadata(directory, sha256=None)  # else the checksum fails first
        with open(os.path.join(directory, name), "w") as file:
            file.write("{not json")
        with pytest.raises(ValueError, match=f"{name} is not valid JSON"):
            TinyPresetModel.from_preset(directory)

    @pytest.mark.parametrize("name", ["config.json", "metadata.json"])
    def test_missing_file_is_named(self, tmp_path, name):
        directory = TinyPresetModel().save_to_preset(tmp_path / "preset")
        os.remove(os.path.join(directory, name))
        with pytest.raises(FileNotFoundError, match=f"is missing '{name}'"):
            TinyPresetModel.from_preset(directory)
