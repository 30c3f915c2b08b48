import numpy as np
import pytest

from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset


def _data(count=10, side=3):
    # Image i is filled with i, its label is i % 3 and its target map 10 * i,
    # so every batch shows which rows it holds and whether they stay aligned.
    index = np.arange(count, dtype="float32")
    x = np.broadcast_to(index[:, None, None, None], (count, side, side, 1)).copy()
    targets = np.broadcast_to(10 * index[:, None, None], (count, side, side)).copy()
    return x, np.arange(count) % 3, targets


def _epoch(dataset):
    batches = [dataset[i] for i in range(len(dataset))]
    dataset.on_epoch_end()
    return batches


def test_batches_cover_every_sample_once_and_stay_aligned():
    x, y, targets = _data()
    dataset = ExplanationTargetsDataset(x, y, targets, batch_size=4, seed=1)
    assert len(dataset) == 3
    rows = []
    for xb, labels in _epoch(dataset):
        assert set(labels) == {"class", "explanation"}
        batch_rows = xb[:, 0, 0, 0].astype(int)
        np.testing.assert_array_equal(labels["class"], y[batch_rows])
        np.testing.assert_array_equal(labels["explanation"], targets[batch_rows])
        assert labels["explanation"].dtype == np.float32
        rows.extend(batch_rows.tolist())
    assert [len(r) for r in (rows[:4], rows[4:8], rows[8:])] == [4, 4, 2]
    assert sorted(rows) == list(range(10)) and rows != list(range(10))


@pytest.mark.parametrize(
    "count, batch_size, length", [(1, 64, 1), (8, 4, 2), (9, 4, 3)]
)
def test_length_is_the_number_of_batches(count, batch_size, length):
    dataset = ExplanationTargetsDataset(*_data(count), batch_size=batch_size)
    assert len(dataset) == length


def test_shuffle_is_per_epoch_and_deterministic_under_a_seed():
    x, y, targets = _data()

    def orders(seed, shuffle=True):
        dataset = ExplanationTargetsDataset(
            x, y, targets, batch_size=10, seed=seed, shuffle=shuffle
        )
        return [_epoch(dataset)[0][0][:, 0, 0, 0].tolist() for _ in range(3)]

    first = orders(seed=5)
    assert first == orders(seed=5)
    assert first != orders(seed=6)
    assert first[0] != first[1]
    assert orders(seed=5, shuffle=False) == [list(range(10))] * 3


def test_targets_are_read_at_every_batch():
    x, y, targets = _data()
    dataset = ExplanationTargetsDataset(x, y, targets, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(
        dataset[0][1]["explanation"][:, 0, 0], [0, 10, 20, 30]
    )
    new = -np.arange(10, dtype="float64")[:, None, None] * np.ones((1, 3, 3))
    dataset.set_targets(new)
    assert dataset.targets.dtype == np.float32
    np.testing.assert_array_equal(
        dataset[0][1]["explanation"][:, 0, 0], [0, -1, -2, -3]
    )
    np.testing.assert_array_equal(dataset[2][1]["explanation"][:, 0, 0], [-8, -9])


def test_pydataset_options_are_forwarded():
    dataset = ExplanationTargetsDataset(*_data(), workers=2)
    assert dataset.workers == 2


def test_bad_inputs():
    x, y, targets = _data()
    with pytest.raises(ValueError, match=r"`y` must have one label per image \(10\)"):
        ExplanationTargetsDataset(x, y[:9], targets)
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        ExplanationTargetsDataset(x, y, targets, batch_size=0)
    with pytest.raises(ValueError, match="`batch_size` must be an integer"):
        ExplanationTargetsDataset(x, y, targets, batch_size=4.0)
    with pytest.raises(ValueError, match=r"`targets` must have shape \(10, 3, 3\)"):
        ExplanationTargetsDataset(x, y, targets[:, :2])
    dataset = ExplanationTargetsDataset(x, y, targets)
    # A map per channel, or a batch too short, is refused by `set_targets`.
    with pytest.raises(ValueError, match=r"Received: targets.shape=\(10, 3, 3, 1\)"):
        dataset.set_targets(targets[..., None])
    with pytest.raises(ValueError, match=r"Received: targets.shape=\(9, 3, 3\)"):
        dataset.set_targets(targets[:9])
    np.testing.assert_array_equal(dataset.targets, targets)  # left unchanged


def test_seed_empty_x_and_non_finite_targets_are_refused():
    x = np.zeros((4, 3, 3, 1), "float32")
    y = np.arange(4)
    targets = np.zeros((4, 3, 3), "float32")
    for seed in (-1, "a", 1.5):
        with pytest.raises(ValueError, match="`seed`"):
            ExplanationTargetsDataset(x, y, targets, seed=seed)
    with pytest.raises(ValueError, match="non-empty batch"):
        ExplanationTargetsDataset(x[:0], y[:0], targets[:0])
    data = ExplanationTargetsDataset(x, y, targets)
    bad = targets.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="`targets` must contain only finite"):
        data.set_targets(bad)
    # The dataset keeps its own copy of the targets.
    mine = np.ones((4, 3, 3), "float32")
    data.set_targets(mine)
    mine[:] = 5.0
    np.testing.assert_array_equal(data.targets, 1.0)
