"""The gradient core: values, second order, and use inside fit/predict."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.backend import backend, grad, value_and_grad

pytestmark = pytest.mark.multi_backend


def _f(x):
    return ops.sin(x) * x**2 + 0.5 * x**3


def _df(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x) + 1.5 * x**2


def test_backend_matches_keras():
    assert backend() == keras.backend.backend()


def test_grad_matches_closed_form():
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    g = ops.convert_to_numpy(grad(_f, x))
    np.testing.assert_allclose(g, _df(x.astype("float64")), rtol=1e-4, atol=1e-5)


def test_value_and_grad_returns_unsummed_value():
    x = np.arange(6, dtype="float32").reshape(2, 3) / 6.0
    value, g = value_and_grad(lambda t: ops.sum(t**2, axis=1), x)
    np.testing.assert_allclose(ops.convert_to_numpy(value), (x**2).sum(1), rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(g), 2 * x, rtol=1e-6)


def test_unconnected_input_gives_zeros():
    x = np.ones((2, 2), "float32")
    g = ops.convert_to_numpy(grad(lambda t: ops.ones((2,)), x))
    np.testing.assert_array_equal(g, np.zeros_like(x))


def test_second_order_agrees_with_central_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4,)).astype("float64")
    w = rng.normal(size=(4, 4)).astype("float32")

    def f(t):
        # A coupled function, so the Hessian is not diagonal.
        return ops.tanh(ops.matmul(ops.expand_dims(t, 0), w)) * ops.expand_dims(t, 0)

    def first(t):
        return grad(f, t)

    x32 = x.astype("float32")
    # Hessian-vector product along v: d/dt <grad f(t), v> = H v.
    v = rng.normal(size=(4,)).astype("float32")
    v_tensor = ops.convert_to_tensor(v)
    hv = ops.convert_to_numpy(grad(lambda t: ops.sum(first(t) * v_tensor), x32))
    h = 1e-2
    plus = ops.convert_to_numpy(first((x + h * v).astype("float32")))
    minus = ops.convert_to_numpy(first((x - h * v).astype("float32")))
    finite = (plus.astype("float64") - minus) / (2 * h)
    relative = np.linalg.norm(hv - finite) / np.linalg.norm(finite)
    assert relative < 1e-2, (hv, finite)


def test_second_order_with_respect_to_weights():
    """d/dw of a function of grad_x f(x; w): what explanation losses need."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4)).astype("float32")
    w0 = rng.normal(size=(4,)).astype("float64")

    x_tensor = ops.convert_to_tensor(x)

    def penalty(w):
        w = ops.convert_to_tensor(w)
        gx = grad(lambda t: ops.tanh(ops.sum(t * w, axis=1)) ** 2, x_tensor)
        return ops.sum(gx**2)

    analytic = ops.convert_to_numpy(grad(penalty, w0.astype("float32")))
    h = 1e-3
    finite = np.array(
        [
            (
                float(ops.convert_to_numpy(penalty((w0 + h * e).astype("float32"))))
                - float(ops.convert_to_numpy(penalty((w0 - h * e).astype("float32"))))
            )
            / (2 * h)
            for e in np.eye(4)
        ]
    )
    relative = np.linalg.norm(analytic - finite) / np.linalg.norm(finite)
    assert relative < 1e-2, (analytic, finite)


class InputGradientPenaltyModel(keras.Model):
    """A tiny classifier whose loss holds a gradient-of-logit term."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="tanh")
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
        ce = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
        labels = ops.cast(y, "int32")

        def true_logit(t):
            logits = self(t, training=False)
            return ops.take_along_axis(logits, labels[:, None], axis=1)[:, 0]

        input_gradient = grad(true_logit, x)
        # Penalise reliance on feature 0 (a "right for the right reasons" term).
        penalty = ops.mean(ops.square(input_gradient[:, 0]))
        return ops.mean(ce) + 10.0 * penalty


def test_gradient_term_trains_with_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    keras.utils.set_random_seed(0)
    model = InputGradientPenaltyModel()
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0], losses

    def reliance(feature):
        return np.abs(
            ops.convert_to_numpy(grad(lambda t: model(t)[:, 1], x))[:, feature]
        ).mean()

    # The penalty works: the model leans on feature 1, not feature 0.
    assert reliance(0) < reliance(1)


class SquaredOutputGradient(keras.layers.Layer):
    """Its forward pass is an input gradient: runs under predict's no-grad."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        return grad(lambda t: self.dense(t) ** 2, x)


def test_grad_inside_predict():
    layer = SquaredOutputGradient()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(3).normal(size=(10, 3)).astype("float32")
    w = ops.convert_to_numpy(layer.dense.kernel)[:, 0]
    b = ops.convert_to_numpy(layer.dense.bias)[0]
    expected = 2 * (x @ w + b)[:, None] * w[None, :]
    result = model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-5)
