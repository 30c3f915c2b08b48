import warnings

import keras
import numpy as np
import pytest

from keras_xai.applications.compile_config import CompileConfigMixin


def _dense_graph(units):
    inputs = keras.Input((3,))
    return inputs, keras.layers.Dense(units, name="dense")(inputs)


class _OwnCompile(keras.Model):
    """A functional model whose `compile` fills in its own defaults."""

    def __init__(self, units=2, **kwargs):
        super().__init__(*_dense_graph(units), **kwargs)
        self.units = units

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(0.05)
        if loss == "auto":
            loss = "mean_squared_error"
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def get_config(self):
        return {"units": self.units, "name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_xai_tests")
class RestoresCompile(CompileConfigMixin, _OwnCompile):
    pass


@keras.saving.register_keras_serializable(package="keras_xai_tests")
class RestoresCompileUnbuilt(CompileConfigMixin, _OwnCompile):
    build_optimizer_on_load = False


@keras.saving.register_keras_serializable(package="keras_xai_tests")
class ForgetsCompile(_OwnCompile):
    pass


def _data():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(8, 3)).astype("float32"),
        rng.normal(size=(8, 2)).astype("float32"),
    )


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def _load_quietly(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(path)
    return model, [str(w.message) for w in caught]


@pytest.mark.multi_backend
def test_save_load_restores_compile_arguments_and_optimizer_state(tmp_path):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = RestoresCompile()
    model.compile(loss="mean_absolute_error")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored, messages = _load_quietly(path)
    assert not [m for m in messages if "compile" in m]
    assert isinstance(restored, RestoresCompile) and restored.compiled
    assert isinstance(restored.optimizer, keras.optimizers.Adam)
    assert float(_numpy(restored.optimizer.learning_rate)) == pytest.approx(0.05)
    assert int(_numpy(restored.optimizer.iterations)) == 2
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(_numpy(a), _numpy(b))
    # Same loss and the same Adam moments: one more step moves both
    # models to the same weights.
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    restored.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    expected = np.mean(np.abs(_numpy(model(x)) - y))
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


@pytest.mark.multi_backend
def test_without_the_mixin_keras_skips_compiling(tmp_path):
    # The behaviour the mixin exists to change.
    model = ForgetsCompile()
    model.compile()
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored, messages = _load_quietly(path)
    assert getattr(restored, "optimizer", None) is None
    assert any("compile()" in m and "custom" in m for m in messages)


def test_compile_from_config_builds_the_optimizer_of_a_built_model():
    source = RestoresCompile()
    source.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9))
    config = source.get_compile_config()
    target = RestoresCompile()
    assert target.built
    target.compile_from_config(config)
    assert isinstance(target.optimizer, keras.optimizers.SGD)
    assert float(_numpy(target.optimizer.learning_rate)) == pytest.approx(0.5)
    assert target.optimizer.built
    # A momentum slot per trainable variable (kernel and bias).
    momentums = [v for v in target.optimizer.variables if "momentum" in v.path]
    assert len(momentums) == len(target.trainable_variables) == 2


def test_optimizer_left_unbuilt_when_the_class_says_so():
    source = RestoresCompileUnbuilt()
    source.compile()
    target = RestoresCompileUnbuilt()
    target.compile_from_config(source.get_compile_config())
    assert target.compiled and isinstance(target.optimizer, keras.optimizers.Adam)
    assert not target.optimizer.built
