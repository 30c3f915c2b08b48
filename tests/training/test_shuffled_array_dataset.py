import numpy as np
import pytest

from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from keras_xai.training.shuffled_array_dataset import ShuffledArrayDataset


def _datasets(seed, shuffle=True):
    x = np.arange(7, dtype="float32")[:, None, None, None] * np.ones((1, 2, 2, 1))
    y = np.arange(7) % 2
    return [
        SampleWeightDataset(x, y, batch_size=3, shuffle=shuffle, seed=seed),
        ExplanationTargetsDataset(
            x, y, x[..., 0], batch_size=3, shuffle=shuffle, seed=seed
        ),
    ]


@pytest.mark.parametrize("seed", [0, 5])
def test_both_datasets_draw_one_seeded_permutation_per_epoch(seed):
    rng = np.random.default_rng(seed)
    expected = [rng.permutation(7) for _ in range(3)]
    for dataset in _datasets(seed):
        assert isinstance(dataset, ShuffledArrayDataset) and len(dataset) == 3
        for order in expected:
            rows = np.concatenate([dataset.rows(i) for i in range(len(dataset))])
            np.testing.assert_array_equal(rows, order)
            np.testing.assert_array_equal(dataset[0][0][:, 0, 0, 0], order[:3])
            dataset.on_epoch_end()


def test_without_shuffle_the_order_is_the_input_order():
    for dataset in _datasets(seed=0, shuffle=False):
        dataset.on_epoch_end()
        np.testing.assert_array_equal(dataset.rows(2), [6])


def test_batch_size_and_seed_are_validated():
    x, y = np.zeros((4, 2, 2, 1)), np.zeros(4, "int32")
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        SampleWeightDataset(x, y, batch_size=0)
    with pytest.raises(ValueError, match="`seed` must be >= 0"):
        ExplanationTargetsDataset(x, y, x[..., 0], seed=-1)
