"""`StageOneCache`: the cross-entropy first stage that two-stage arms share."""

import hashlib
import json
import os
import time

import keras
import numpy as np

from keras_xai.training.attribution_targets import (
    fingerprint_data,
    fingerprint_model,
)
from keras_xai.utils.download import file_digest


class StoredHistory:
    """A finished training stage read back from disk.

    Stands in for the `keras.callbacks.History` that `fit` returned when
    the stage was trained.

    Args:
        history: dict metric name -> list of per-epoch values.
        seconds: float. How long the stage took to train.
    """

    def __init__(self, history, seconds):
        self.history = history
        self.seconds = seconds


class StageOneCache:
    """Stores a CE-trained first stage once per seed and hands it back.

    The two-stage arms of a shortcut benchmark (`impactx` and its controls,
    `floor_continued`, the `two_phase` arms) all start from the same first
    stage: the classifier trained with cross-entropy, early-stopped, from
    the seed's initial weights. The cache trains that stage once, keeps its
    weights and history in `directory`, and gives every later arm of the
    same seed those weights, so the arms share one first stage (their
    comparison is paired on it) and the benchmark trains it once.

    A stored stage is used only if its fingerprint matches: the
    benchmark's settings, the stage's name, the Keras version and backend,
    the SHA-256 of the classifier's initial configuration and weights and
    of the training images and labels. Its weights file is checked against
    the SHA-256 recorded when it was written. A stage that fails either
    check is trained again and overwritten.

    Args:
        directory: str. Where the stages are kept.
        settings: dict. JSON-serialisable settings that shaped the stage
            (epochs, patience, batch size, learning rate, data settings).

    Example:

    ```python
    cache = StageOneCache("runs/stage_one", {"max_epochs": 30})
    history = cache.fit("seed0", classifier, train.images, train.labels,
                        lambda: classifier.fit(train.images, train.labels))
    ```
    """

    def __init__(self, directory, settings):
        if not isinstance(settings, dict):
            raise ValueError(
                f"`settings` must be a dict. Received: {type(settings).__name__}"
            )
        self.directory = os.fspath(directory)
        self.settings = json.loads(json.dumps(settings))

    def fit(self, name, classifier, images, labels, train, log=None):
        """The stage `name` of `classifier`: loaded if stored, else trained.

        Args:
            name: str. The stage's file name stem (e.g. `"seed0"`).
            classifier: the Keras model, built with its initial weights.
            images: array. The training images (fingerprinted).
            labels: array. The training labels (fingerprinted).
            train: callable. Trains `classifier` in place and returns its
                `History`; called only when no valid stage is stored.
            log: callable or `None`. Told in one line whether the stage
                was reused or why it was trained. Defaults to `None`.

        Returns:
            The `History` of the training, or a `StoredHistory` (with
            `history` and `seconds`) if the stage was read from disk.
        """
        if not isinstance(name, str) or not name or os.sep in name:
            raise ValueError(
                f"`name` must be a non-empty file name stem. Received: name={name!r}"
            )
        weights_path = os.path.join(self.directory, f"{name}.weights.npz")
        record_path = os.path.join(self.directory, f"{name}.json")
        fingerprint = self._fingerprint(name, classifier, images, labels)
        record, reason = self._stored(weights_path, record_path, fingerprint)
        if record is not None:
            with np.load(weights_path) as stored:
                classifier.set_weights(
                    [stored[f"arr_{i}"] for i in range(len(stored.files))]
                )
            if log is not None:
                log(f"  stage 1 ({name}): reused from {weights_path}")
            return StoredHistory(record["history"], record["seconds"])
        if log is not None:
            log(f"  stage 1 ({name}): training ({reason})")
        start = time.time()
        history = train()
        seconds = time.time() - start
        self._store(
            weights_path, record_path, classifier, history, seconds, fingerprint
        )
        return history

    def _fingerprint(self, name, classifier, images, labels):
        described = {
            "settings": self.settings,
            "name": name,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "initial_model": fingerprint_model(classifier, layer_names=False),
            "data": fingerprint_data(images, labels),
        }
        text = json.dumps(described, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @staticmethod
    def _stored(weights_path, record_path, fingerprint):
        """`(record, None)` for a valid stored stage, else `(None, why not)`."""
        if not (os.path.isfile(weights_path) and os.path.isfile(record_path)):
            return None, "none stored"
        try:
            with open(record_path) as file:
                record = json.load(file)
        except (OSError, json.JSONDecodeError):
            return None, "its record is unreadable"
        if record.get("fingerprint") != fingerprint:
            return None, "stored under other settings"
        if _file_sha256(weights_path) != record.get("weights_sha256"):
            return None, "its weights file does not match its checksum"
        return record, None

    def _store(self, weights_path, record_path, classifier, history, seconds, fp):
        os.makedirs(self.directory, exist_ok=True)
        # Written under temporary names and renamed, weights first, so a
        # reader never sees a record without the weights it describes.
        temporary = f"{weights_path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as file:
            np.savez(file, *classifier.get_weights())
        checksum = _file_sha256(temporary)
        os.replace(temporary, weights_path)
        record = {
            "fingerprint": fp,
            "weights_sha256": checksum,
            "seconds": seconds,
            "history": {
                key: [float(value) for value in values]
                for key, values in history.history.items()
            },
        }
        temporary = f"{record_path}.{os.getpid()}.tmp"
        with open(temporary, "w") as file:
            json.dump(record, file, indent=1)
        os.replace(temporary, record_path)


def _file_sha256(path):
    return file_digest(path, "sha256")
