import keras
import numpy as np
import pytest

from keras_xai.utils.validation import (
    check_batch_for_devices,
    check_finite,
    check_images,
    check_labels,
    check_model,
    check_num_classes,
    check_number,
    check_positive_int,
    data_parallel_devices,
    to_numpy,
)


class TestToNumpy:
    def test_numpy_arrays_pass_through_unchanged(self):
        array = np.arange(6).reshape(2, 3)
        assert to_numpy(array) is array

    def test_lists_and_scalars(self):
        np.testing.assert_array_equal(to_numpy([[1, 2], [3, 4]]), [[1, 2], [3, 4]])
        assert to_numpy(2.5).shape == () and to_numpy(2.5) == 2.5

    @pytest.mark.multi_backend
    def test_backend_tensors_and_variables(self):
        values = np.array([[1.5, -2.0], [0.0, 3.25]], "float32")
        tensor = keras.ops.convert_to_tensor(values)
        converted = to_numpy(tensor)
        assert isinstance(converted, np.ndarray)
        np.testing.assert_array_equal(converted, values)
        variable = keras.Variable(values)
        converted = to_numpy(variable)
        assert isinstance(converted, np.ndarray)
        np.testing.assert_array_equal(converted, values)
        # A result of an op (grad-tracking on torch) converts too.
        np.testing.assert_array_equal(
            to_numpy(keras.ops.multiply(variable, 2.0)), 2 * values
        )


class TestCheckImages:
    def test_returns_float32_with_the_same_values(self):
        images = np.arange(2 * 3 * 3 * 1, dtype="int64").reshape(2, 3, 3, 1)
        checked = check_images(images)
        assert checked.dtype == np.float32
        np.testing.assert_array_equal(checked, images)
        boolean = check_images(np.ones((1, 2, 2, 1), bool))
        assert boolean.dtype == np.float32 and boolean.sum() == 4.0

    def test_float32_input_is_not_copied(self):
        images = np.zeros((1, 2, 2, 3), "float32")
        assert check_images(images) is images

    def test_expected_shape_with_free_entries(self):
        images = np.zeros((2, 5, 6, 3), "float32")
        check_images(images, expected_shape=(5, 6, 3))
        check_images(images, expected_shape=(None, None, 3))
        with pytest.raises(
            ValueError, match=r"`x` must have per-image shape \(5, 5, 3\)"
        ):
            check_images(images, name="x", expected_shape=(5, 5, 3))
        with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 5, 6, 3\)"):
            check_images(images, expected_shape=(None, None, 1))

    @pytest.mark.parametrize("shape", [(3, 3, 1), (3, 3), (1, 3, 3, 1, 1)])
    def test_rank_must_be_four(self, shape):
        with pytest.raises(
            ValueError, match="`batch` must be a batch of channels-last"
        ):
            check_images(np.zeros(shape), name="batch")

    def test_empty_batch(self):
        empty = np.zeros((0, 4, 4, 1))
        with pytest.raises(ValueError, match="`images` is an empty batch"):
            check_images(empty)
        assert check_images(empty, allow_empty=True).shape == (0, 4, 4, 1)

    def test_non_numeric(self):
        with pytest.raises(ValueError, match="`images` must be numeric"):
            check_images(np.full((1, 2, 2, 1), "a"))
        with pytest.raises(ValueError, match="`images` must be numeric"):
            check_images(np.full((1, 2, 2, 1), None, dtype=object))

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_values_are_counted(self, bad):
        images = np.zeros((2, 2, 2, 1), "float32")
        images[0, 0, 0, 0] = bad
        images[1, 1, 1, 0] = bad
        with pytest.raises(
            ValueError, match=r"`images` must contain only finite.*2 NaN"
        ):
            check_images(images)


class TestCheckFinite:
    def test_returns_the_array(self):
        array = np.array([0.0, 1.0], "float32")
        np.testing.assert_array_equal(check_finite(array, "a"), array)
        # Integer arrays cannot hold NaN: accepted as they are.
        np.testing.assert_array_equal(check_finite([1, 2, 3], "a"), [1, 2, 3])

    def test_names_the_argument_and_counts(self):
        with pytest.raises(ValueError, match=r"`maps` must contain .* 3 NaN"):
            check_finite(np.array([np.nan, np.inf, -np.inf, 1.0]), "maps")


class TestCheckLabels:
    def test_integer_labels(self):
        labels = check_labels(np.array([0, 2, 1], "int64"), 3)
        assert labels.dtype == np.int32
        np.testing.assert_array_equal(labels, [0, 2, 1])

    def test_integral_floats_and_scalars(self):
        np.testing.assert_array_equal(check_labels([2.0, 0.0], 3), [2, 0])
        scalar = check_labels(np.int64(1), 3)
        assert scalar.shape == (1,) and scalar[0] == 1

    def test_empty_labels(self):
        labels = check_labels([], 3, length=0)
        assert labels.shape == (0,) and labels.dtype == np.int32

    def test_rank(self):
        with pytest.raises(
            ValueError, match=r"`targets` must be one class index.*\(1, 2\)"
        ):
            check_labels([[0, 1]], 3, name="targets")

    def test_length(self):
        with pytest.raises(
            ValueError, match=r"`labels` must have one entry per image \(3\)"
        ):
            check_labels([0, 1], 3, length=3)

    @pytest.mark.parametrize("bad", [[0.5], [np.nan], [np.inf]])
    def test_non_integer_values(self, bad):
        with pytest.raises(
            ValueError, match="`labels` must hold integer class indices"
        ):
            check_labels(bad, 3)

    @pytest.mark.parametrize(
        "bad, shown", [([0, 3], r"\[0, 3\]"), ([-1, 1], r"\[-1, 1\]")]
    )
    def test_range(self, bad, shown):
        with pytest.raises(
            ValueError, match=r"class indices in \[0, 3\)\. Received values in " + shown
        ):
            check_labels(bad, 3)


class TestCheckPositiveInt:
    def test_accepts_python_and_numpy_ints(self):
        assert check_positive_int(3, "n") == 3
        value = check_positive_int(np.int64(4), "n")
        assert value == 4 and type(value) is int
        assert check_positive_int(0, "n", minimum=0) == 0

    @pytest.mark.parametrize("bad", [True, np.bool_(True), 2.0, "3", None])
    def test_rejects_non_integers(self, bad):
        with pytest.raises(ValueError, match="`every` must be an integer"):
            check_positive_int(bad, "every")

    def test_minimum(self):
        with pytest.raises(ValueError, match="`every` must be >= 1. Received: every=0"):
            check_positive_int(0, "every")
        with pytest.raises(
            ValueError, match="`start` must be >= 0. Received: start=-1"
        ):
            check_positive_int(-1, "start", minimum=0)


def test_check_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert check_model(model) is model
    with pytest.raises(
        ValueError, match="`model` must be a keras.Model. Received: str"
    ):
        check_model("model")
    with pytest.raises(ValueError, match="`teacher` must be a keras.Model"):
        check_model(keras.layers.Dense(1), name="teacher")


def test_non_numeric_or_huge_labels_are_a_value_error():
    for labels in (["a", "b"], np.array([None, 1], object)):
        with pytest.raises(ValueError, match="`labels` must hold integer class"):
            check_labels(labels, 3)
    with pytest.raises(ValueError, match=r"class indices in \[0, 10\)"):
        check_labels([1e20], 10)
    np.testing.assert_array_equal(check_labels(np.array([True, False]), 2), [1, 0])


def test_images_beyond_float32_are_refused_not_called_infinite():
    with pytest.raises(ValueError, match="must fit in float32"):
        check_images(np.full((1, 1, 1, 1), 1e39))


class TestCheckNumber:
    def test_accepts_numbers_in_bounds_as_floats(self):
        assert check_number(3, "x") == 3.0 and isinstance(check_number(3, "x"), float)
        assert check_number(np.float32(0.5), "x", 0, 1) == 0.5
        assert check_number(0, "x", 0, 1) == 0.0  # closed ends
        assert check_number(1, "x", 0, 1) == 1.0

    @pytest.mark.parametrize(
        "value, bounds, message",
        [
            (True, {}, "`x` must be a number. Received: x=True"),
            ("1", {}, "`x` must be a number"),
            (None, {}, "`x` must be a number"),
            (float("nan"), {}, "`x` must be a finite number"),
            (float("-inf"), {"low": 0}, "`x` must be a finite number >= 0"),
            (float("nan"), {"low": 0, "high": 1}, r"`x` must be in \[0, 1\]"),
            (-0.5, {"low": 0}, r"`x` must be a finite number >= 0\. Received: x=-0.5"),
            (0, {"low": 0, "low_inclusive": False}, "`x` must be a finite number > 0"),
            (2, {"high": 1}, "`x` must be a finite number <= 1"),
            (
                1,
                {"high": 1, "high_inclusive": False},
                "`x` must be a finite number < 1",
            ),
            (0, {"low": 0, "high": 1, "low_inclusive": False}, r"in \(0, 1\]"),
            (1, {"low": 0, "high": 1, "high_inclusive": False}, r"in \[0, 1\)"),
            (1.5, {"low": 0, "high": 1}, r"`x` must be in \[0, 1\]"),
        ],
    )
    def test_refuses_with_a_message_naming_the_argument(self, value, bounds, message):
        with pytest.raises(ValueError, match=message):
            check_number(value, "x", **bounds)


@pytest.fixture
def two_devices(monkeypatch):
    """A `DataParallel` over two devices as the current Keras distribution
    (only read by the check: nothing is placed on the devices)."""
    mesh = keras.distribution.DeviceMesh((2,), ["batch"], devices=["cpu:0", "cpu:1"])
    parallel = keras.distribution.DataParallel(device_mesh=mesh)
    monkeypatch.setattr(keras.distribution, "distribution", lambda: parallel)


def test_batches_that_split_over_the_devices_pass(two_devices):
    assert data_parallel_devices() == 2
    check_batch_for_devices(np.zeros((40, 4)), 8)
    check_batch_for_devices({"images": np.zeros((34, 4))}, 16)  # last: 2
    check_batch_for_devices(np.zeros((64, 4)), None)  # Keras's 32
    check_batch_for_devices(object(), 7)  # a dataset batches itself
    check_batch_for_devices(np.zeros((31, 4)), 16, validation_split=0.2)
    check_batch_for_devices(np.zeros((31, 4)), "16")  # Keras reports it


def test_batches_that_do_not_split_over_the_devices_fail(two_devices):
    with pytest.raises(ValueError, match="`batch_size` must be a multiple of the 2"):
        check_batch_for_devices(np.zeros((40, 4)), 15)
    with pytest.raises(ValueError, match="last batch.*31 samples.*15 left"):
        check_batch_for_devices([np.zeros((31, 4))], 16)


def test_no_distribution_checks_nothing():
    assert keras.distribution.distribution() is None
    assert data_parallel_devices() == 1
    check_batch_for_devices(np.zeros((31, 4)), 15)


def test_guided_models_check_before_training(two_devices):
    from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier

    model = ExplanationGuidedClassifier(ImageClassifier("lenet5", (28, 28, 1), 3))
    model.compile()
    x = np.zeros((9, 28, 28, 1), "float32")
    y = {"label": np.zeros(9, "int32"), "mask": np.zeros((9, 28, 28), "float32")}
    with pytest.raises(ValueError, match="`batch_size` must be a multiple"):
        model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="last batch"):
        model.fit(x, y, 4, epochs=1, verbose=0)


def test_ensemble_checks_every_members_rows(two_devices):
    from keras_xai.applications import ExplanationEnsemble, ImageClassifier

    ensemble = ExplanationEnsemble(
        ImageClassifier("lenet5", (28, 28, 1), 3), num_members=3, strategy="kfold"
    )
    ensemble.compile()
    # 3-fold members train on 6 or 7 of 10 rows: a 7 ends in an odd batch.
    x, y = np.zeros((10, 28, 28, 1), "float32"), np.zeros(10, "int32")
    with pytest.raises(ValueError, match="last batch"):
        ensemble.fit(x, y, batch_size=2, epochs=1, verbose=0)


def test_check_num_classes_returns_valid_counts():
    assert check_num_classes(2) == 2
    assert check_num_classes(1000) == 1000


@pytest.mark.parametrize("value", [1, 0, -3, 2.0, True, np.int64(5), "10", None])
def test_check_num_classes_refuses(value):
    with pytest.raises(ValueError, match="`num_classes` must be an int >= 2. Received"):
        check_num_classes(value)
