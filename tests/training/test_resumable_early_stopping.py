import keras
import numpy as np
import pytest

from keras_xai.training import ResumableEarlyStopping


class _Interrupt(keras.callbacks.Callback):
    """Stops the process's `fit` after epoch `at` (as a kill would)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.at:
            raise KeyboardInterrupt


def _fit(backup, interrupt_at=None):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype("float32")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    stopping = ResumableEarlyStopping(
        backup, monitor="val_loss", patience=2, restore_best_weights=True
    )
    callbacks = [keras.callbacks.BackupAndRestore(backup), stopping]
    if interrupt_at is not None:
        callbacks.append(_Interrupt(interrupt_at))
    history = model.fit(
        x[:48],
        y[:48],
        validation_data=(x[48:], y[48:] * 0 + (x[48:, 3] > 0)),  # noisy target
        epochs=40,
        batch_size=48,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history, stopping


def test_an_interrupted_fit_resumes_and_stops_as_an_uninterrupted_one(tmp_path):
    reference, reference_history, reference_stopping = _fit(tmp_path / "a")
    epochs = len(reference_history.history["loss"])
    assert 3 < epochs < 40  # it stopped early, after a few epochs
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "b", interrupt_at=3)
    assert (tmp_path / "b" / "early_stopping.json").is_file()
    resumed, history, stopping = _fit(tmp_path / "b")
    # The History that fit returns holds the epochs before the restart too.
    np.testing.assert_allclose(
        history.history["val_loss"], reference_history.history["val_loss"], rtol=1e-5
    )
    assert stopping.best_epoch == reference_stopping.best_epoch
    for mine, theirs in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert not (tmp_path / "b").exists()  # BackupAndRestore removed it


def test_bad_state_dir_is_refused():
    with pytest.raises(ValueError, match="`state_dir` must be a directory path"):
        ResumableEarlyStopping("")
