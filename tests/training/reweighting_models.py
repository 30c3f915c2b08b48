"""Tiny models and datasets shared by the sample-reweighting tests."""

import keras
import numpy as np

from keras_xai.training.sample_weight_dataset import SampleWeightDataset


def tiny_classifier(seed=0, activation="relu", num_classes=3, size=12):
    """conv -> strided conv (4x4 CAM) -> dense logits -> softmax, ~550 weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(4, 3, activation=activation, name="conv1")(inputs)
    x = keras.layers.Conv2D(6, 3, strides=2, activation=activation, name="conv2")(x)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="predictions")(logits)
    return keras.Model(inputs, outputs)


def tiny_images(count=16, size=12, seed=0, low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(low, high, (count, size, size, 1)).astype("float32")
    return images, rng.integers(0, 3, count)


def predict_classes(model, images):
    return np.argmax(keras.ops.convert_to_numpy(model(images)), axis=-1)


class RecordingDataset(SampleWeightDataset):
    """Records the rows and weights of every batch, keyed by the epoch
    `EpochTag` last announced (batches read before `fit` starts are not
    recorded)."""

    epoch = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = {}

    def __getitem__(self, index):
        x, y, w = super().__getitem__(index)
        if self.epoch is not None:
            self.seen.setdefault(self.epoch, []).append((self.rows(index), w))
        return x, y, w


class EpochTag(keras.callbacks.Callback):
    """Tells a `RecordingDataset` which epoch is running."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.epoch = epoch


def assert_batches_carry(dataset, weights_by_epoch):
    """Every batch of epoch `e` carried `weights_by_epoch[e]` for its rows,
    and every epoch covered every row once."""
    assert sorted(dataset.seen) == sorted(weights_by_epoch)
    for epoch, batches in dataset.seen.items():
        rows = np.concatenate([r for r, _ in batches])
        assert np.array_equal(np.sort(rows), np.arange(len(dataset.x)))
        for rows, weights in batches:
            np.testing.assert_array_equal(weights, weights_by_epoch[epoch][rows])


def assert_batches_follow_history(dataset, callback, epochs):
    """A callback that reweights before every epoch: each epoch's batches
    carry that round's weights."""
    assert callback.epochs == list(range(epochs))
    assert_batches_carry(dataset, dict(enumerate(callback.history)))
