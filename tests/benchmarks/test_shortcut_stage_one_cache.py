import json

import keras
import numpy as np
import pytest

from keras_xai.benchmarks.shortcut import StageOneCache
from keras_xai.benchmarks.shortcut.stage_one_cache import StoredHistory


def _data():
    rng = np.random.default_rng(0)
    images = rng.random((64, 6)).astype("float32")
    labels = (images[:, 0] > 0.5).astype("int64")
    return images, labels


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


class _Trainer:
    """Trains a model for two epochs and counts the calls."""

    def __init__(self, model, images, labels):
        self.model, self.images, self.labels = model, images, labels
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.model.fit(self.images, self.labels, epochs=2, verbose=0)


def _fit(cache, model, images, labels, lines=None):
    trainer = _Trainer(model, images, labels)
    history = cache.fit(
        "seed0",
        model,
        images,
        labels,
        trainer,
        log=None if lines is None else lines.append,
    )
    return history, trainer.calls


def test_a_stored_stage_is_reused_with_its_weights_and_history(tmp_path):
    images, labels = _data()
    cache = StageOneCache(tmp_path, {"epochs": 2})
    trained = _model()
    history, calls = _fit(cache, trained, images, labels)
    assert calls == 1 and len(history.history["loss"]) == 2

    lines = []
    reused = _model()
    again, calls = _fit(cache, reused, images, labels, lines)
    assert calls == 0
    assert isinstance(again, StoredHistory) and again.seconds > 0
    np.testing.assert_allclose(again.history["loss"], history.history["loss"])
    for mine, theirs in zip(reused.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert "reused" in lines[0]


@pytest.mark.parametrize(
    "change",
    ["settings", "initial_weights", "data", "weights_file", "record"],
)
def test_a_stage_that_does_not_match_is_trained_again(tmp_path, change):
    images, labels = _data()
    _fit(StageOneCache(tmp_path, {"epochs": 2}), _model(), images, labels)
    settings, seed = {"epochs": 2}, 0
    if change == "settings":
        settings = {"epochs": 3}
    elif change == "initial_weights":
        seed = 1
    elif change == "data":
        labels = 1 - labels
    elif change == "weights_file":
        path = tmp_path / "seed0.weights.npz"
        content = bytearray(path.read_bytes())
        content[-1] ^= 0xFF
        path.write_bytes(bytes(content))
    else:
        (tmp_path / "seed0.json").write_text("{not json")
    lines = []
    _, calls = _fit(
        StageOneCache(tmp_path, settings), _model(seed), images, labels, lines
    )
    assert calls == 1
    assert "training" in lines[0]
    # The stage trained again replaced the one that did not match.
    record = json.loads((tmp_path / "seed0.json").read_text())
    assert len(record["history"]["loss"]) == 2
    _, calls = _fit(StageOneCache(tmp_path, settings), _model(seed), images, labels)
    assert calls == 0


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="`settings` must be a dict"):
        StageOneCache(tmp_path, None)
    images, labels = _data()
    cache = StageOneCache(tmp_path, {})
    with pytest.raises(ValueError, match="`name` must be a non-empty file name"):
        cache.fit("", _model(), images, labels, lambda: None)
