"""`TestCase`: the checks every keras_xai layer and model must pass."""

import os

import keras
import numpy as np


def _numpy(values):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, values)


class TestCase:
    """Base class for layer and model tests (pytest style).

    `run_layer_test` and `run_model_test` build the object from its
    constructor arguments, call it, and check the `get_config`/`from_config`
    and `.keras` save/load round trips give equal outputs.

    Example:

    ```python
    class ImagePreprocessingTest(TestCase):
        def test_layer(self, tmp_path):
            self.run_layer_test(
                ImagePreprocessing, {"mode": "tf"}, np.zeros((2, 8, 8, 3)),
                expected_output_shape=(2, 8, 8, 3), tmp_path=tmp_path,
            )
    ```
    """

    atol = 1e-5
    rtol = 1e-5

    def assert_allclose(self, actual, expected, atol=None, rtol=None):
        """Checks nested structures of tensors/arrays are numerically close."""
        actual, expected = _numpy(actual), _numpy(expected)
        keras.tree.assert_same_structure(actual, expected)
        for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
            np.testing.assert_allclose(
                a,
                e,
                atol=self.atol if atol is None else atol,
                rtol=self.rtol if rtol is None else rtol,
            )

    def run_serialization_test(self, instance):
        """`get_config`/`from_config` and Keras (de)serialisation round trips."""
        config = instance.get_config()
        revived = instance.__class__.from_config(config)
        assert revived.get_config() == config
        serialized = keras.saving.serialize_keras_object(instance)
        deserialized = keras.saving.deserialize_keras_object(serialized)
        assert type(deserialized) is type(instance)
        assert deserialized.get_config() == config
        return revived

    def _run_call_and_revival_test(self, instance, input_data, expected_shapes=None):
        """Calls `instance` and checks a copy revived from its config.

        The copy, built if `from_config` left it unbuilt and given the
        original's weights, must give the same outputs.

        Args:
            instance: `keras.Layer` or `keras.Model`. The object tested.
            input_data: array-like. What it is called on.
            expected_shapes: structure of tuples or `None`. The shape of
                every output, in the outputs' structure (a tuple for one
                tensor). Defaults to `None` (not checked).
        """
        output = instance(input_data)
        if expected_shapes is not None:
            shapes = keras.tree.map_structure(lambda t: tuple(t.shape), output)
            assert shapes == expected_shapes
        revived = self.run_serialization_test(instance)
        if not revived.built:
            revived(input_data)  # build, then take the original's weights
        revived.set_weights(instance.get_weights())
        self.assert_allclose(revived(input_data), output)

    def run_layer_test(
        self, cls, init_kwargs, input_data, expected_output_shape=None, tmp_path=None
    ):
        """Builds, calls, round-trips config and `.keras` file of a layer."""
        layer = cls(**init_kwargs)
        if expected_output_shape is not None:
            expected_output_shape = tuple(expected_output_shape)
        self._run_call_and_revival_test(layer, input_data, expected_output_shape)
        if tmp_path is not None:
            inputs = keras.Input(tuple(input_data.shape[1:]))
            model = keras.Model(inputs, cls(**init_kwargs)(inputs))
            self.run_model_saving_test(model, input_data, tmp_path)
        return layer

    def run_model_test(
        self, cls, init_kwargs, input_data, expected_output_shape=None, tmp_path=None
    ):
        """Builds, calls, round-trips config and `.keras` file of a model."""
        model = cls(**init_kwargs)
        self._run_call_and_revival_test(model, input_data, expected_output_shape)
        if tmp_path is not None:
            self.run_model_saving_test(model, input_data, tmp_path)
        return model

    def run_model_saving_test(self, model, input_data, tmp_path):
        """Saves to `.keras`, reloads with `safe_mode=True`, compares outputs."""
        path = os.path.join(str(tmp_path), "model.keras")
        expected = model(input_data)
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        assert type(restored) is type(model)
        self.assert_allclose(restored(input_data), expected)
        return restored
