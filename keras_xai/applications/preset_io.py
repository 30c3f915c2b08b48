"""Presets: `from_preset(name_or_directory)` and `save_to_preset(directory)`.

A preset *name* is an entry of the model class's `presets` table (an
architecture, input size, classes and model options; nothing is
downloaded). A preset *directory*, written by `save_to_preset`, holds
`config.json` (the Keras serialisation of the model), `model.weights.h5` and
`metadata.json`, as keras-hub presets do. `metadata.json` records the
SHA-256 of the other two files; loading verifies them and refuses a preset
whose config or weights changed after it was saved.
"""

import datetime
import json
import logging
import os

import keras

from keras_xai.utils.atomic_write import atomic_write
from keras_xai.utils.download import file_digest
from keras_xai.version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
_CHECKED_FILES = (CONFIG_FILE, WEIGHTS_FILE)
logger = logging.getLogger("keras_xai")


class PresetMixin:
    """Adds preset loading and saving to a keras_xai model class.

    The class defines `presets` (name → `{"description": str, "config":
    dict}`) and `from_architecture(**config)`.
    """

    presets = {}

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Builds a model from a preset name or a preset directory.

        A bare name of `cls.presets` always means the built-in preset, even
        when a directory of that name exists in the working directory; to
        load such a directory, give it as a path (`"./name"`).

        Args:
            preset: str. A name of `cls.presets` (an untrained model of that
                configuration) or a directory written by `save_to_preset`
                (the saved model with its weights, verified against the
                checksums in its `metadata.json`).
            **kwargs: overrides of the preset's configuration (names only).

        Returns:
            A model of this class.

        Example:

        ```python
        model = IMPACTX.from_preset("lenet5_fashion_mnist")
        model.save_to_preset("my_impactx")
        restored = IMPACTX.from_preset("my_impactx")
        ```
        """
        if not isinstance(preset, (str, os.PathLike)):
            raise ValueError(
                f"`preset` must be a preset name or a directory. Received: {preset!r}"
            )
        preset = os.fspath(preset)
        if preset in cls.presets:
            if os.path.isdir(preset):
                logger.warning(
                    "%r is a built-in %s preset and also a directory here; "
                    "using the built-in preset (pass './%s' for the directory)",
                    preset,
                    cls.__name__,
                    preset,
                )
            config = {**cls.presets[preset]["config"], **kwargs}
            return cls.from_architecture(**config)
        if os.path.isdir(preset):
            if kwargs:
                raise ValueError(
                    "A preset directory holds a saved model; overrides are "
                    f"not applied to it. Received: {sorted(kwargs)}"
                )
            return load_preset_directory(cls, preset)
        raise ValueError(
            f"Unknown {cls.__name__} preset {preset!r} (and no such directory). "
            f"Valid names: {', '.join(sorted(cls.presets))}"
        )

    def save_to_preset(self, directory):
        """Writes config, weights and metadata to `directory`.

        Args:
            directory: str. Created if needed; existing files are replaced.

        Returns:
            The directory.
        """
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        config = keras.saving.serialize_keras_object(self)
        _write_json(os.path.join(directory, CONFIG_FILE), config)
        self.save_weights(os.path.join(directory, WEIGHTS_FILE))
        metadata = {
            "keras_xai_version": __version__,
            "keras_version": keras.__version__,
            "backend": keras.backend.backend(),
            "class_name": type(self).__name__,
            "parameter_count": int(self.count_params()),
            "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "sha256": {
                name: _sha256(os.path.join(directory, name)) for name in _CHECKED_FILES
            },
        }
        _write_json(os.path.join(directory, METADATA_FILE), metadata)
        return directory


def load_preset_directory(cls, directory):
    """Loads a model written by `save_to_preset` (Keras `safe_mode` on)."""
    paths = {
        name: os.path.join(directory, name)
        for name in (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE)
    }
    for path in paths.values():
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Preset directory {directory!r} is missing "
                f"{os.path.basename(path)!r}; it must hold config.json, "
                "model.weights.h5 and metadata.json (written by save_to_preset)"
            )
    metadata = _read_json(paths[METADATA_FILE])
    _verify_checksums(directory, metadata)
    if metadata.get("class_name") != cls.__name__:
        raise ValueError(
            f"Preset directory {directory!r} holds a {metadata.get('class_name')!r} "
            f"model, not a {cls.__name__}"
        )
    config = _read_json(paths[CONFIG_FILE])
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(model, cls):
        raise ValueError(
            f"{paths[CONFIG_FILE]} describes a {type(model).__name__}, "
            f"not a {cls.__name__}"
        )
    expected = metadata.get("parameter_count")
    if expected is not None and int(model.count_params()) != int(expected):
        raise ValueError(
            f"{paths[CONFIG_FILE]} builds a model with {model.count_params()} "
            f"parameters but metadata.json records {expected}: the files do "
            "not belong together"
        )
    try:
        model.load_weights(paths[WEIGHTS_FILE])
    except Exception as error:  # Keras raises several types for bad files
        raise ValueError(
            f"The weights in {paths[WEIGHTS_FILE]} do not match the model in "
            f"{paths[CONFIG_FILE]}: {error}"
        ) from None
    return model


def _sha256(path):
    return file_digest(path, "sha256")


def _verify_checksums(directory, metadata):
    """Refuses files whose SHA-256 differs from the one saved with them."""
    recorded = metadata.get("sha256")
    if recorded is None:
        # Presets saved before checksums were recorded still load.
        logger.warning(
            "Preset directory %r records no checksums (saved by an older "
            "keras_xai); its files are not verified. Save it again to add them",
            directory,
        )
        return
    if not isinstance(recorded, dict) or set(recorded) != set(_CHECKED_FILES):
        raise ValueError(
            f"{os.path.join(directory, METADATA_FILE)} must record the SHA-256 "
            f"of {list(_CHECKED_FILES)}. Received: {recorded!r}"
        )
    for name in _CHECKED_FILES:
        if _sha256(os.path.join(directory, name)) != recorded[name]:
            raise ValueError(
                f"Preset directory {directory!r}: {name} does not match the "
                "checksum in metadata.json (the file changed after the preset "
                "was saved, or is damaged); refusing to load it"
            )


def _write_json(path, payload):
    with atomic_write(path) as file:
        json.dump(payload, file, indent=2)


def _read_json(path):
    try:
        with open(path) as file:
            return json.load(file)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
