import keras
import numpy as np
import pytest

from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.target_refresh import TargetRefresh

# Every map the stub explainer returns is `(k + 1) * (i + 1) * _PATTERN` for
# image i at its k-th call: its largest absolute value is 2 (k + 1) (i + 1),
# so "max_abs" scaling turns every map into `_PATTERN / 2`.
_PATTERN = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0], [0.25, 0.0, 2.0]])


class StubExplainer:
    """Records its calls; its maps depend only on the image and call index."""

    def __init__(self, model):
        self.model = model
        self.calls = []

    def __call__(self, images, targets=None):
        self.calls.append((np.array(images), np.array(targets)))
        scale = len(self.calls) * (np.arange(len(images)) + 1.0)
        return scale[:, None, None] * _PATTERN


class StubFactory:
    def __init__(self):
        self.explainers = []

    def __call__(self, model):
        self.explainers.append(StubExplainer(model))
        return self.explainers[-1]


def _data(count=6):
    rng = np.random.default_rng(0)
    x = rng.random((count, 3, 3, 1)).astype("float32")
    y = np.arange(count) % 3
    return x, y, np.zeros((count, 3, 3), "float32")


def _two_headed_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 3, 1))
    scores = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs))
    maps = keras.layers.Reshape((3, 3))(keras.layers.Conv2D(1, 1)(inputs))
    model = keras.Model(inputs, {"class": scores, "explanation": maps})
    model.compile(
        optimizer="sgd",
        loss={"class": "sparse_categorical_crossentropy", "explanation": "mse"},
    )
    return model


def test_refreshes_every_k_epochs_with_scaled_maps_of_the_true_class():
    x, y, targets = _data()
    data = ExplanationTargetsDataset(x, y, targets, batch_size=4)
    factory = StubFactory()
    refresh = TargetRefresh(data, factory, every=2)
    model = _two_headed_model()
    refresh.set_model(model)
    refresh.on_train_begin()
    assert len(factory.explainers) == 1 and factory.explainers[0].model is model
    explainer = factory.explainers[0]
    for epoch in range(6):
        refresh.on_epoch_end(epoch)
        # Refreshed at the end of epochs 2, 4 and 6 (indices 1, 3, 5).
        assert refresh.refreshes == (epoch + 1) // 2
        assert len(explainer.calls) == refresh.refreshes
    for images, labels in explainer.calls:
        np.testing.assert_array_equal(images, x)
        np.testing.assert_array_equal(labels, y)  # the true classes
    expected = np.broadcast_to(_PATTERN / 2, (6, 3, 3))
    np.testing.assert_allclose(data.targets, expected, rtol=1e-6)
    assert len(factory.explainers) == 1  # one explainer for the whole run


def test_scaling_none_hands_the_maps_over_unchanged():
    x, y, targets = _data(count=2)
    data = ExplanationTargetsDataset(x, y, targets)
    refresh = TargetRefresh(data, StubFactory(), scaling="none")
    refresh.set_model(_two_headed_model())
    refresh.on_train_begin()
    refresh.on_epoch_end(0)
    refresh.on_epoch_end(1)
    # Second call: (k + 1) = 2, image i scaled by 2 (i + 1).
    expected = np.stack([2 * _PATTERN, 4 * _PATTERN])
    np.testing.assert_allclose(data.targets, expected)
    assert data.targets.dtype == np.float32


class _RecordingDataset(ExplanationTargetsDataset):
    """Records the rows and targets of every batch, keyed by the running epoch
    (batches may be read out of order: the rows say which images they hold)."""

    epoch = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = {}

    def __getitem__(self, index):
        x, labels = super().__getitem__(index)
        if self.epoch is not None:
            rows = [np.flatnonzero((self.x == i).all(axis=(1, 2, 3)))[0] for i in x]
            self.seen.setdefault(self.epoch, []).append((rows, labels["explanation"]))
        return x, labels


class _EpochTag(keras.callbacks.Callback):
    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.epoch = epoch


@pytest.mark.multi_backend
def test_fit_trains_each_epoch_on_the_latest_targets():
    x, y, targets = _data()
    data = _RecordingDataset(x, y, targets, batch_size=4, shuffle=False)
    factory = StubFactory()
    refresh = TargetRefresh(data, factory, every=1, scaling="none")
    model = _two_headed_model()
    model.fit(data, epochs=3, verbose=0, callbacks=[_EpochTag(data), refresh])
    assert refresh.refreshes == 3 and factory.explainers[0].model is model
    scale = np.arange(6.0) + 1
    # Epoch 0 trains on the initial targets, epoch e on the e-th refresh.
    expected = {0: np.zeros((6, 3, 3))}
    for epoch in (1, 2):
        expected[epoch] = (epoch * scale)[:, None, None] * _PATTERN
    assert sorted(data.seen) == [0, 1, 2]
    for epoch, batches in data.seen.items():
        rows = np.concatenate([r for r, _ in batches])
        assert sorted(rows) == list(range(6))
        for rows, maps in batches:
            np.testing.assert_allclose(maps, expected[epoch][rows])
    np.testing.assert_allclose(
        data.targets, (3 * scale)[:, None, None] * _PATTERN, rtol=1e-6
    )


def test_bad_arguments():
    data = ExplanationTargetsDataset(*_data())
    with pytest.raises(ValueError, match="`explainer_factory` must be a callable"):
        TargetRefresh(data, "gradcam")
    with pytest.raises(ValueError, match="`every` must be >= 1. Received: every=0"):
        TargetRefresh(data, StubFactory(), every=0)
    with pytest.raises(ValueError, match="`every` must be an integer"):
        TargetRefresh(data, StubFactory(), every=1.5)


def test_unknown_scaling_is_refused_at_construction():
    data = ExplanationTargetsDataset(
        np.zeros((2, 3, 3, 1), "float32"), np.arange(2), np.zeros((2, 3, 3))
    )
    with pytest.raises(ValueError, match="`scaling` must be one of"):
        TargetRefresh(data, lambda model: None, scaling="bogus")
