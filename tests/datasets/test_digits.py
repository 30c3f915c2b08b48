import numpy as np
import pytest
from sklearn.datasets import load_digits

from keras_xai.datasets import digits


def _rows(images):
    """Images as sorted rows, to compare image multisets."""
    flat = images.reshape(images.shape[0], -1)
    return flat[np.lexsort(flat.T[::-1])]


def test_load_data_shapes_dtypes_and_scaling():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1347, 8, 8) and x_test.shape == (450, 8, 8)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    allowed = np.round(np.arange(17) * 255 / 16).astype("uint8")
    assert set(np.unique(x_train)) <= set(allowed)
    assert x_train.max() == 255 and x_train.min() == 0
    assert set(np.unique(y_train)) == set(range(10))


def test_split_is_a_partition_of_the_scaled_dataset():
    bunch = load_digits()
    scaled = np.round(bunch.images * 255 / 16).astype("uint8")
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_fraction=0.3)
    np.testing.assert_array_equal(
        _rows(np.concatenate([x_train, x_test])), _rows(scaled)
    )
    labels = np.concatenate([y_train, y_test])
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(bunch.target))


@pytest.mark.parametrize("test_fraction", [0.1, 0.25, 0.5, 0.9])
def test_split_is_stratified(test_fraction):
    (_, y_train), (_, y_test) = digits.load_data(test_fraction=test_fraction)
    counts = np.bincount(load_digits().target)
    expected = np.clip(np.round(test_fraction * counts), 1, counts - 1)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), expected)
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), counts - expected)


def test_tiny_fraction_keeps_every_class_in_both_splits():
    (_, y_train), (_, y_test) = digits.load_data(test_fraction=0.001)
    np.testing.assert_array_equal(np.bincount(y_test), np.ones(10))
    assert set(np.unique(y_train)) == set(range(10))


def test_split_is_shuffled():
    (_, y_train), _ = digits.load_data()
    assert np.any(np.diff(y_train.astype(int)) < 0)


def test_seed_makes_the_split_reproducible():
    (a_train, a_labels), (a_test, _) = digits.load_data(seed=3)
    (b_train, b_labels), (b_test, _) = digits.load_data(seed=3)
    (c_train, _), _ = digits.load_data(seed=4)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_test, b_test)
    assert not np.array_equal(a_train, c_train)


@pytest.mark.parametrize("test_fraction", [0, 1, 1.0, -0.1, 1.5, float("nan")])
def test_rejects_fractions_outside_the_open_interval(test_fraction):
    with pytest.raises(ValueError, match=r"`test_fraction` must be in \(0, 1\)"):
        digits.load_data(test_fraction=test_fraction)


@pytest.mark.parametrize("test_fraction", ["0.25", None, True])
def test_rejects_non_numeric_fractions(test_fraction):
    with pytest.raises(ValueError, match="`test_fraction` must be a number"):
        digits.load_data(test_fraction=test_fraction)
