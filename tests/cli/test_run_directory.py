import json
import os

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.cli.data import CommandError
from keras_xai.cli.run_directory import MODEL_FILE, RECORD_FILE, load_run, save_run


def _classifier():
    keras.utils.set_random_seed(0)
    return ImageClassifier("lenet5", (20, 20, 1), 3, hidden_units=(4,))


def _images():
    return np.random.default_rng(0).random((2, 20, 20, 1)).astype("float32")


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


RECORD = {"command": "train", "dataset": "digits", "epochs": 2, "accuracy": [0.5]}


@pytest.mark.multi_backend
def test_save_then_load_a_run_directory(tmp_path):
    model = _classifier()
    directory = tmp_path / "runs" / "first"  # parents are created
    assert save_run(directory, model, RECORD) == directory
    assert sorted(os.listdir(directory)) == [MODEL_FILE, RECORD_FILE]
    with open(directory / RECORD_FILE) as file:
        assert json.load(file) == RECORD
    restored, record = load_run(str(directory))
    assert record == RECORD
    assert type(restored) is ImageClassifier and restored.num_classes == 3
    np.testing.assert_array_equal(_numpy(restored(_images())), _numpy(model(_images())))


def test_saving_again_replaces_model_and_record(tmp_path):
    save_run(tmp_path, _classifier(), RECORD)
    keras.utils.set_random_seed(1)
    second = ImageClassifier("lenet5", (20, 20, 1), 4, hidden_units=(4,))
    save_run(tmp_path, second, {"epochs": 5})
    restored, record = load_run(str(tmp_path))
    assert record == {"epochs": 5} and restored.num_classes == 4


def test_a_keras_file_loads_with_an_empty_record(tmp_path):
    model = _classifier()
    save_run(tmp_path, model, RECORD)
    restored, record = load_run(str(tmp_path / MODEL_FILE))
    assert record == {} and isinstance(restored, ImageClassifier)


def test_a_directory_without_record_loads_with_an_empty_record(tmp_path):
    save_run(tmp_path, _classifier(), RECORD)
    os.remove(tmp_path / RECORD_FILE)
    _, record = load_run(str(tmp_path))
    assert record == {}


@pytest.mark.parametrize("name", ["empty_dir", "absent.keras"])
def test_missing_model_is_a_command_error_naming_the_path(tmp_path, name):
    (tmp_path / "empty_dir").mkdir()
    path = str(tmp_path / name)
    expected = os.path.join(path, MODEL_FILE) if name == "empty_dir" else path
    with pytest.raises(CommandError, match="--model: no trained model at") as info:
        load_run(path)
    assert repr(expected) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_loading_is_in_safe_mode(tmp_path):
    # A Lambda layer holds arbitrary Python code: safe mode refuses it.
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1.0)(inputs))
    save_run(tmp_path, model, {})
    with pytest.raises(ValueError, match="Lambda"):
        load_run(str(tmp_path))
