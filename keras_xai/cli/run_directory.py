"""The output directory of `keras-xai train`: `model.keras` and `run.json`."""

import json
import os

import keras

from keras_xai.cli.data import CommandError

MODEL_FILE = "model.keras"
RECORD_FILE = "run.json"


def save_run(directory, model, record):
    """Writes the trained model and its record to `directory`."""
    os.makedirs(directory, exist_ok=True)
    model.save(os.path.join(directory, MODEL_FILE))
    with open(os.path.join(directory, RECORD_FILE), "w") as file:
        json.dump(record, file, indent=2)
    return directory


def load_run(path):
    """Loads `(model, record)` from a run directory or a `.keras` file.

    Args:
        path: str. A directory written by `keras-xai train`, or a `.keras`
            file (its record is then empty).

    Returns:
        Tuple `(keras.Model, dict)`.
    """
    # Registers the keras_xai classes before Keras deserialises them.
    import keras_xai.applications  # noqa: F401
    import keras_xai.layers  # noqa: F401

    if os.path.isdir(path):
        model_path = os.path.join(path, MODEL_FILE)
        record_path = os.path.join(path, RECORD_FILE)
    else:
        model_path, record_path = path, None
    if not os.path.isfile(model_path):
        raise CommandError(
            f"--model: no trained model at {model_path!r} (give a directory "
            "written by `keras-xai train` or a .keras file)"
        )
    model = keras.saving.load_model(model_path, safe_mode=True)
    record = {}
    if record_path and os.path.isfile(record_path):
        with open(record_path) as file:
            record = json.load(file)
    return model, record
