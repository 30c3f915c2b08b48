import keras
import numpy as np
import pytest

from keras_xai.training.sample_weight_dataset import SampleWeightDataset


def _data(count=10):
    rng = np.random.default_rng(0)
    x = rng.random((count, 4, 4, 1)).astype("float32")
    return x, np.arange(count) % 3


def _epoch(dataset):
    batches = [dataset[i] for i in range(len(dataset))]
    dataset.on_epoch_end()
    return batches


def test_batches_cover_every_sample_once_and_stay_aligned():
    x, y = _data()
    weights = np.linspace(0, 1, 10)
    dataset = SampleWeightDataset(x, y, weights, batch_size=4, seed=1)
    assert len(dataset) == 3
    seen = []
    for xb, yb, wb in _epoch(dataset):
        rows = [
            int(np.flatnonzero((x == image).all(axis=(1, 2, 3)))[0]) for image in xb
        ]
        np.testing.assert_array_equal(yb, y[rows])
        np.testing.assert_allclose(wb, weights[rows])
        assert wb.dtype == np.float32
        seen.extend(rows)
    assert sorted(seen) == list(range(10)) and seen != list(range(10))


def test_shuffle_is_per_epoch_and_deterministic_under_a_seed():
    x, y = _data()

    def orders(seed, shuffle=True):
        dataset = SampleWeightDataset(x, y, batch_size=10, seed=seed, shuffle=shuffle)
        return [_epoch(dataset)[0][1].tolist() for _ in range(3)]

    first = orders(seed=5)
    assert first == orders(seed=5)
    assert first != orders(seed=6)
    assert first[0] != first[1]  # reshuffled at every epoch
    assert orders(seed=5, shuffle=False) == [y.tolist()] * 3


def test_weights_are_read_at_every_batch():
    x, y = _data()
    dataset = SampleWeightDataset(x, y, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(dataset[0][2], 1.0)
    new = np.arange(10, dtype="float64")
    dataset.set_weights(new)
    np.testing.assert_array_equal(dataset[0][2], [0, 1, 2, 3])
    np.testing.assert_array_equal(dataset.weights, new)
    new[:] = 7  # the dataset keeps its own copy
    np.testing.assert_array_equal(dataset[2][2], [8, 9])
    with pytest.raises(ValueError):
        dataset.weights[0] = 5.0  # read-only


def test_one_hot_labels():
    x, y = _data()
    dataset = SampleWeightDataset(x, y, batch_size=5, shuffle=False, num_classes=3)
    labels = dataset[0][1]
    assert labels.dtype == np.float32
    np.testing.assert_array_equal(labels, np.eye(3)[y[:5]])
    np.testing.assert_array_equal(dataset.y, y)


def test_bad_inputs():
    x, y = _data()
    with pytest.raises(ValueError, match="`y` must have one entry per sample"):
        SampleWeightDataset(x, y[:5])
    with pytest.raises(ValueError, match="`x` must be a non-empty"):
        SampleWeightDataset(x[:0], y[:0])
    with pytest.raises(ValueError, match=r"`weights` must have shape \(10,\)"):
        SampleWeightDataset(x, y, np.ones(9))
    with pytest.raises(ValueError, match="finite and non-negative"):
        SampleWeightDataset(x, y, -np.ones(10))
    with pytest.raises(ValueError, match="NaN"):
        SampleWeightDataset(x, y, np.full(10, np.nan))
    with pytest.raises(ValueError, match="`weights` must be numbers"):
        SampleWeightDataset(x, y, np.array(["a"] * 10))
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        SampleWeightDataset(x, y, batch_size=0)
    with pytest.raises(ValueError, match="class indices in"):
        SampleWeightDataset(x, y, num_classes=2)
    with pytest.raises(ValueError, match="must be ints"):
        SampleWeightDataset(x, y.astype("float32"), num_classes=3)


@pytest.mark.multi_backend
def test_fit_uses_the_weights():
    x, y = _data(8)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = [w.copy() for w in model.get_weights()]
    dataset = SampleWeightDataset(x, y, np.zeros(8), batch_size=4)
    model.fit(dataset, epochs=1, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # zero weights: no gradient
    # Weight 2 on one sample only: the reported loss is sum(w L) / batch size.
    weights = np.zeros(8)
    weights[3] = 2.0
    dataset.set_weights(weights)
    losses = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction=None
    )(y, model(x))
    loss = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    expected = 2.0 * keras.ops.convert_to_numpy(losses)[3] / 4 / 2  # 2 batches
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
