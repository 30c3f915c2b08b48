"""`ResumableEarlyStopping`: early stopping whose state survives a restart."""

import json
import os

import keras
import numpy as np

from keras_xai.utils.atomic_write import atomic_write


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` that keeps its state and the epochs' logs on disk.

    Use it beside `keras.callbacks.BackupAndRestore`: that callback brings
    back the weights, the optimizer and the epoch after an interruption,
    but a plain `EarlyStopping` would start counting afresh and forget the
    best weights seen before the interruption. This one writes, after every
    epoch, its counter, the best value, the best epoch, the best weights
    and the logs of every finished epoch to `state_dir`, and reads them
    back when training begins, so an interrupted `fit` rerun with the same
    callbacks stops where and how the uninterrupted one would (the
    shuffling of the epochs after the restart may differ). `history`
    holds the logs of all epochs, before and after the restart.

    Args:
        state_dir: str. Where the state is kept (e.g. the `backup_dir` of
            the `BackupAndRestore` beside it, which is removed when
            training ends).
        **kwargs: `keras.callbacks.EarlyStopping` arguments.

    Example:

    ```python
    stopping = ResumableEarlyStopping(
        "backup", monitor="val_loss", patience=3, restore_best_weights=True
    )
    model.fit(x, y, validation_split=0.1, epochs=30,
              callbacks=[keras.callbacks.BackupAndRestore("backup"), stopping])
    stopping.history["val_loss"]  # every epoch, across restarts
    ```
    """

    def __init__(self, state_dir, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(state_dir, (str, os.PathLike)) or not os.fspath(state_dir):
            raise ValueError(
                f"`state_dir` must be a directory path. Received: {state_dir!r}"
            )
        self.state_dir = os.fspath(state_dir)
        self.history = {}

    @property
    def _state_path(self):
        return os.path.join(self.state_dir, "early_stopping.json")

    @property
    def _weights_path(self):
        return os.path.join(self.state_dir, "early_stopping_best.npz")

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.history = {}
        if not os.path.isfile(self._state_path):
            return
        with open(self._state_path) as file:
            state = json.load(file)
        self.wait = state["wait"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.history = state["history"]
        if os.path.isfile(self._weights_path):
            with np.load(self._weights_path) as stored:
                self.best_weights = [
                    stored[f"arr_{i}"] for i in range(len(stored.files))
                ]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        super().on_epoch_end(epoch, logs)
        self._save()

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        # `fit` returns the History: give it the epochs before the restart.
        returned = getattr(self.model, "history", None)
        if isinstance(returned, keras.callbacks.History):
            returned.history = {
                key: list(values) for key, values in self.history.items()
            }

    def _save(self):
        os.makedirs(self.state_dir, exist_ok=True)
        if self.best_weights is not None:
            with atomic_write(self._weights_path, "wb") as file:
                np.savez(file, *self.best_weights)
        state = {
            "wait": int(self.wait),
            "best": None if self.best is None else float(self.best),
            "best_epoch": int(self.best_epoch),
            "history": self.history,
        }
        with atomic_write(self._state_path) as file:
            json.dump(state, file)
