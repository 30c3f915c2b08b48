import keras
import numpy as np
import pytest

from keras_xai.visualization import normalize_map


def test_non_negative_map_is_min_max_scaled_to_unit_range():
    result = normalize_map(np.array([[1.0, 3.0], [5.0, 9.0]]))
    assert result.dtype == np.float32 and result.shape == (2, 2)
    np.testing.assert_allclose(result, [[0.0, 0.25], [0.5, 1.0]], atol=1e-7)


def test_signed_map_is_divided_by_its_largest_absolute_value():
    result = normalize_map(np.array([[-2.0, 1.0], [0.0, 4.0]], "float32"))
    np.testing.assert_allclose(result, [[-0.5, 0.25], [0.0, 1.0]], atol=1e-7)


def test_signed_scaling_reaches_minus_one_when_negatives_dominate():
    result = normalize_map(np.array([[-8.0, 2.0], [0.0, 4.0]]))
    assert result.min() == -1.0 and result.max() == 0.5
    assert result[1, 0] == 0.0


def test_signed_true_keeps_zero_at_zero_on_a_non_negative_map():
    result = normalize_map(np.array([[1.0, 2.0], [3.0, 4.0]]), signed=True)
    np.testing.assert_allclose(result, [[0.25, 0.5], [0.75, 1.0]], atol=1e-7)


def test_signed_false_min_max_scales_a_map_with_negative_values():
    result = normalize_map(np.array([[-2.0, 0.0], [2.0, 6.0]]), signed=False)
    np.testing.assert_allclose(result, [[0.0, 0.25], [0.5, 1.0]], atol=1e-7)


@pytest.mark.parametrize("value", [0.0, 3.5, -2.0])
@pytest.mark.parametrize("signed", [None, True, False])
def test_constant_map_becomes_zeros_without_dividing_by_zero(value, signed):
    with np.errstate(all="raise"):
        result = normalize_map(np.full((3, 4), value), signed=signed)
    np.testing.assert_array_equal(result, np.zeros((3, 4), "float32"))


def test_batch_is_scaled_map_by_map():
    maps = np.stack([np.arange(4.0).reshape(2, 2) * 10, np.arange(4.0).reshape(2, 2)])
    maps[1, 0, 0] = 2.0  # the second map's minimum is now 1, not 0
    result = normalize_map(maps)
    assert result.shape == (2, 2, 2)
    np.testing.assert_allclose(result[0], [[0, 1 / 3], [2 / 3, 1]], atol=1e-6)
    np.testing.assert_allclose(result[1], [[0.5, 0], [0.5, 1]], atol=1e-6)


def test_one_negative_value_makes_the_whole_batch_signed():
    maps = np.array([[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.0], [0.0, 0.5]]])
    result = normalize_map(maps)
    # The first map is non-negative but follows the batch's signed convention.
    np.testing.assert_allclose(result[0], [[0.25, 0.5], [0.75, 1.0]], atol=1e-7)
    np.testing.assert_allclose(result[1], [[-1.0, 0.0], [0.0, 0.5]], atol=1e-7)


def test_constant_map_in_a_batch_does_not_affect_the_others():
    maps = np.stack([np.zeros((2, 2)), np.array([[0.0, 1.0], [2.0, 4.0]])])
    result = normalize_map(maps)
    np.testing.assert_array_equal(result[0], 0.0)
    np.testing.assert_allclose(result[1], [[0, 0.25], [0.5, 1]], atol=1e-7)


def test_huge_and_tiny_values_stay_finite():
    huge = normalize_map(np.array([[-1e308, 0.0], [1e308, 1e308]]), signed=False)
    np.testing.assert_allclose(huge, [[0, 0.5], [1, 1]], atol=1e-7)
    tiny = normalize_map(np.array([[0.0, 1e-40], [2e-40, 4e-40]], "float32"))
    np.testing.assert_allclose(tiny, [[0, 0.25], [0.5, 1]], atol=1e-3)


def test_accepts_integer_and_backend_tensor_input():
    result = normalize_map(np.array([[0, 2], [4, 8]], "int32"))
    np.testing.assert_allclose(result, [[0, 0.25], [0.5, 1]])
    tensor = keras.ops.convert_to_tensor(np.array([[0.0, 2.0], [4.0, 8.0]], "float32"))
    np.testing.assert_allclose(normalize_map(tensor), result)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_raise(bad):
    attribution = np.ones((3, 3), "float32")
    attribution[1, 1] = bad
    with pytest.raises(ValueError, match="`attribution` must contain only finite"):
        normalize_map(attribution)


@pytest.mark.parametrize("shape", [(5,), (1, 2, 3, 4), (), (0, 3), (2, 3, 0)])
def test_wrong_shapes_raise(shape):
    with pytest.raises(ValueError, match=r"`attribution` must .*shape=\("):
        normalize_map(np.zeros(shape))


def test_non_numeric_map_raises():
    with pytest.raises(ValueError, match="`attribution` must hold real numbers"):
        normalize_map(np.array([["a", "b"], ["c", "d"]]))


@pytest.mark.parametrize("signed", ["yes", 1, 0.0])
def test_bad_signed_raises(signed):
    with pytest.raises(ValueError, match="`signed` must be True, False or None"):
        normalize_map(np.zeros((2, 2)), signed=signed)
