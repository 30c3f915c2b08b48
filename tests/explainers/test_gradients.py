import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.backend import grad
from keras_xai.explainers.cam import GradCAM
from keras_xai.explainers.gradients import (
    GradientSHAP,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from keras_xai.explainers.guided_backprop import GuidedBackprop, GuidedGradCAM

SHAPE = (4, 4, 2)


def _images(count, shape=SHAPE, seed=0):
    return np.random.default_rng(seed).random((count, *shape)).astype("float32")


def _linear_model(seed=0):
    """Flatten -> Dense logits -> softmax, weights set by hand."""
    inputs = keras.Input(SHAPE)
    logits = keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(int(np.prod(SHAPE)), 3)).astype("float32")
    bias = rng.normal(size=(3,)).astype("float32")
    model.get_layer("logits").set_weights([kernel, bias])
    # w[t] has the image's shape: the gradient of logit t.
    return model, kernel.T.reshape(3, *SHAPE)


def _smooth_model(seed=0):
    """A small nonlinear model with curvature along every path."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(SHAPE)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="tanh")(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(8, activation="softplus", bias_initializer="ones")(x)
    logits = keras.layers.Dense(3, bias_initializer="random_normal")(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def _lenet_with_biases(seed=0):
    """Random LeNet-5 with nonzero biases (zero biases make a ReLU net
    positively homogeneous, so IG from a black image would be trivial)."""
    keras.utils.set_random_seed(seed)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(0.1 * rng.normal(size=layer.bias.shape))
    return model


def _target_logits(model, images, targets):
    logits = keras.ops.convert_to_numpy(
        keras.Model(model.input, model.get_layer(index=-1).input)(images)
    )
    return logits[np.arange(len(targets)), targets].astype("float64")


def _plain_gradients(model, images, targets):
    """∂y_t/∂x computed directly with the backend gradient."""
    logits_model = keras.Model(model.input, model.get_layer(index=-1).input)
    one_hot = keras.ops.one_hot(targets, logits_model.output.shape[-1])
    return keras.ops.convert_to_numpy(
        grad(lambda x: keras.ops.sum(logits_model(x) * one_hot, axis=-1), images)
    )


# --- Saliency and Input x Gradient ---------------------------------------


@pytest.mark.multi_backend
def test_saliency_and_input_x_gradient_on_a_linear_model():
    model, w = _linear_model()
    images = _images(5)
    targets = np.array([0, 1, 2, 1, 0])
    expected_ixg = (w[targets] * images).sum(-1)
    expected_saliency = np.abs(w[targets]).max(-1)
    np.testing.assert_allclose(
        InputXGradient(model)(images, targets), expected_ixg, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        Saliency(model)(images, targets), expected_saliency, rtol=1e-5, atol=1e-6
    )


# --- Integrated Gradients ------------------------------------------------


@pytest.mark.multi_backend
@pytest.mark.parametrize("which", ["lenet5", "smooth"])
def test_integrated_gradients_completeness(which):
    if which == "lenet5":
        model, images = _lenet_with_biases(), _images(4, (28, 28, 1), seed=1)
    else:
        model, images = _smooth_model(), _images(4, seed=1)
    # Per image, the class whose logit moves most from the black baseline.
    logits_model = keras.Model(model.input, model.get_layer(index=-1).input)
    gaps = keras.ops.convert_to_numpy(
        logits_model(images) - logits_model(np.zeros_like(images))
    ).astype("float64")
    targets = np.argmax(np.abs(gaps), axis=1)
    gap = gaps[np.arange(4), targets]
    assert np.all(np.abs(gap) > 1e-2)  # a gap worth explaining

    def relative_error(steps):
        maps = IntegratedGradients(model, steps=steps)(images, targets)
        return np.abs(maps.sum(axis=(1, 2)) - gap) / np.abs(gap)

    fine = relative_error(200)
    assert fine.max() < 0.01, fine
    if which == "smooth":
        # Midpoint rule: the error shrinks with the number of steps.
        assert relative_error(5).max() > 10 * fine.max()


@pytest.mark.multi_backend
def test_integrated_gradients_with_a_nonzero_baseline():
    model, w = _linear_model()
    images = _images(3)
    baseline = _images(1, seed=5)[0]
    targets = np.array([2, 0, 1])
    # Linear model: IG = w · (x − x') exactly, whatever the steps.
    maps = IntegratedGradients(model, baseline=baseline, steps=3)(images, targets)
    np.testing.assert_allclose(
        maps, (w[targets] * (images - baseline)).sum(-1), rtol=1e-4, atol=1e-5
    )

    smooth = _smooth_model(seed=2)
    for base in (0.5, baseline):
        gap = _target_logits(smooth, images, targets) - _target_logits(
            smooth, np.broadcast_to(base, images.shape), targets
        )
        maps = IntegratedGradients(smooth, baseline=base, steps=200, steps_per_call=64)(
            images, targets
        )
        np.testing.assert_allclose(maps.sum(axis=(1, 2)), gap, rtol=0.01)
    # The input itself as the baseline: nothing to attribute.
    same = IntegratedGradients(smooth, baseline=images[0], steps=4)(images[:1])
    np.testing.assert_allclose(same, 0.0, atol=1e-7)


def test_integrated_gradients_bad_arguments():
    model, _ = _linear_model()
    with pytest.raises(ValueError, match="`steps` must be >= 1"):
        IntegratedGradients(model, steps=0)
    with pytest.raises(ValueError, match="`baseline` must be broadcastable"):
        IntegratedGradients(model, baseline=np.zeros((5, 4, 2)))
    with pytest.raises(ValueError, match="`baseline` must be one image"):
        IntegratedGradients(model, baseline=np.zeros((2, *SHAPE)))
    with pytest.raises(ValueError, match="`baseline` must contain only finite"):
        IntegratedGradients(model, baseline=np.full(SHAPE, np.nan))


# --- SmoothGrad ----------------------------------------------------------


@pytest.mark.multi_backend
def test_smoothgrad_is_seeded_and_batch_invariant():
    model = _smooth_model()
    images = _images(5)
    targets = np.array([0, 1, 2, 0, 1])
    first = SmoothGrad(model, n=8, seed=3, batch_size=2)(images, targets)
    again = SmoothGrad(model, n=8, seed=3, samples_per_call=3)(images, targets)
    other = SmoothGrad(model, n=8, seed=4)(images, targets)
    np.testing.assert_allclose(first, again, rtol=1e-5, atol=1e-7)
    assert np.abs(first - other).max() > 1e-3 * np.abs(first).max()
    explainer = SmoothGrad(model, n=8, seed=3)
    one_by_one = np.concatenate(
        [explainer(images[i : i + 1], targets[i : i + 1]) for i in range(5)]
    )
    np.testing.assert_allclose(first, one_by_one, rtol=1e-5, atol=1e-7)


@pytest.mark.multi_backend
def test_smoothgrad_converges_to_the_gradient_as_sigma_vanishes():
    model = _smooth_model(seed=1)
    images = _images(3)
    targets = np.array([1, 2, 0])
    gradients = _plain_gradients(model, images, targets)
    tiny = SmoothGrad(model, n=4, sigma=1e-6, base="gradient", seed=0)
    np.testing.assert_allclose(
        tiny(images, targets), gradients.sum(-1), rtol=1e-3, atol=1e-6
    )
    tiny_saliency = SmoothGrad(model, n=4, sigma=1e-6, seed=0)(images, targets)
    np.testing.assert_allclose(
        tiny_saliency, np.abs(gradients).max(-1), rtol=1e-3, atol=1e-6
    )
    # With real noise the map moves away from the plain gradient.
    noisy = SmoothGrad(model, n=4, sigma=0.5, base="gradient", seed=0)(images, targets)
    assert np.abs(noisy - gradients.sum(-1)).max() > 1e-2 * np.abs(gradients).max()


@pytest.mark.multi_backend
def test_smoothgrad_gradient_of_a_linear_model_ignores_noise():
    model, w = _linear_model()
    images = _images(2)
    maps = SmoothGrad(model, n=5, sigma=0.3, base="gradient", seed=0)(images, [0, 2])
    np.testing.assert_allclose(maps, w[[0, 2]].sum(-1), rtol=1e-4, atol=1e-6)


def test_smoothgrad_bad_arguments():
    model, _ = _linear_model()
    with pytest.raises(ValueError, match="`base` must be one of"):
        SmoothGrad(model, base="occlusion")
    with pytest.raises(ValueError, match="`sigma` must be a finite number"):
        SmoothGrad(model, sigma=-0.1)
    with pytest.raises(ValueError, match="`n` must be >= 1"):
        SmoothGrad(model, n=0)
    with pytest.raises(ValueError, match="`seed` must be"):
        SmoothGrad(model, seed=1.5)


# --- Gradient SHAP -------------------------------------------------------


@pytest.mark.multi_backend
def test_gradient_shap_on_a_linear_model():
    model, w = _linear_model()
    images = _images(3)
    targets = np.array([0, 1, 2])
    # One baseline, no noise: every sample is exactly w · (x − x').
    baseline = _images(1, seed=7)[0]
    one = GradientSHAP(model, baselines=baseline, n=3, seed=0)(images, targets)
    np.testing.assert_allclose(
        one, (w[targets] * (images - baseline)).sum(-1), rtol=1e-4, atol=1e-5
    )

    # A background set and input noise: w · (x − E[x']) in expectation.
    background = _images(4, seed=8)
    stdev, n = 0.1, 4000
    maps = GradientSHAP(model, baselines=background, n=n, stdev=stdev, seed=1)(
        images, targets
    )
    expected = (w[targets] * (images - background.mean(0))).sum(-1)
    # Per-pixel standard error of the n-sample mean.
    spread = (w[targets][:, None] * background[None]).sum(-1).std(axis=1)
    noise = stdev * np.sqrt((w[targets] ** 2).sum(-1))
    standard_error = np.sqrt(spread**2 + noise**2) / np.sqrt(n)
    assert np.all(np.abs(maps - expected) < 5 * standard_error + 1e-6)
    # ... and the sampling error is far below the effect of the baselines.
    assert np.abs(maps - expected).max() < 0.1 * np.abs(expected).max()


@pytest.mark.multi_backend
def test_gradient_shap_is_seeded_and_batch_invariant():
    model = _smooth_model()
    images = _images(4)
    background = _images(6, seed=9)
    targets = np.array([0, 1, 2, 0])

    def explain(seed, **kwargs):
        explainer = GradientSHAP(
            model, baselines=background, n=6, stdev=0.05, seed=seed, **kwargs
        )
        return explainer(images, targets)

    first = explain(0, batch_size=3)
    np.testing.assert_allclose(
        first, explain(0, samples_per_call=4), rtol=1e-5, atol=1e-7
    )
    assert np.abs(first - explain(1)).max() > 1e-3 * np.abs(first).max()


def test_gradient_shap_bad_arguments():
    model, _ = _linear_model()
    with pytest.raises(ValueError, match="`stdev` must be a finite number"):
        GradientSHAP(model, stdev=float("inf"))
    with pytest.raises(ValueError, match="`baselines` must be broadcastable"):
        GradientSHAP(model, baselines=np.zeros((3, 4, 5, 2)))
    with pytest.raises(ValueError, match="`baselines` must be None"):
        GradientSHAP(model, baselines="zeros")


# --- Guided backpropagation and Guided GradCAM ---------------------------


def _relu_model(nested=False, seed=0):
    """conv(relu) -> flatten -> dense -> ReLU -> dense logits -> softmax."""
    keras.utils.set_random_seed(seed)
    conv = keras.layers.Conv2D(3, 3, activation="relu", name="conv")
    inputs = keras.Input((5, 5, 2))
    if nested:
        features = keras.Sequential([keras.Input((5, 5, 2)), conv], name="block")(
            inputs
        )
    else:
        features = conv(inputs)
    x = keras.layers.Dense(4, name="fc")(keras.layers.Flatten()(features))
    x = keras.layers.ReLU(name="relu")(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    # Weights from numpy, so every backend explains the same network.
    rng = np.random.default_rng(seed)
    conv.kernel.assign(rng.normal(size=(3, 3, 2, 3)) * 0.5)
    conv.bias.assign(rng.normal(size=3) * 0.3)
    model.get_layer("fc").kernel.assign(rng.normal(size=(27, 4)) * 0.5)
    model.get_layer("fc").bias.assign(rng.normal(size=4) * 0.3)
    kernel = rng.normal(size=(4, 3))
    kernel[:, 0] = -np.abs(kernel[:, 0])  # class 0: all weights negative
    kernel[:, 1] = np.abs(kernel[:, 1]) * np.array([1, -1, 1, -1])
    model.get_layer("logits").kernel.assign(kernel)
    return model, conv


def _guided_closed_form(model, conv, image, target, guided=True):
    """Input gradient of one logit by hand (numpy), guided or plain."""
    k, b1 = conv.get_weights()
    w2, b2 = model.get_layer("fc").get_weights()
    w3 = model.get_layer("logits").get_weights()[0]
    z1 = np.zeros((3, 3, 3))
    for i in range(3):
        for j in range(3):
            z1[i, j] = np.einsum("abc,abck->k", image[i : i + 3, j : j + 3], k) + b1
    z2 = np.maximum(z1, 0).reshape(-1) @ w2 + b2
    clamp = (lambda g: np.maximum(g, 0)) if guided else (lambda g: g)
    g_z2 = clamp(w3[:, target]) * (z2 > 0)
    g_z1 = clamp((w2 @ g_z2).reshape(3, 3, 3)) * (z1 > 0)
    g_x = np.zeros(image.shape)
    for i in range(3):
        for j in range(3):
            g_x[i : i + 3, j : j + 3] += np.einsum("abck,k->abc", k, g_z1[i, j])
    return g_x


@pytest.mark.multi_backend
@pytest.mark.parametrize("nested", [False, True])
def test_guided_backprop_matches_closed_form(nested):
    model, conv = _relu_model(nested=nested)
    images = _images(4, (5, 5, 2), seed=3)
    targets = np.array([0, 1, 1, 2])
    maps = GuidedBackprop(model)(images, targets)
    expected = np.stack(
        [
            _guided_closed_form(model, conv, x, t).sum(-1)
            for x, t in zip(images, targets)
        ]
    )
    plain = np.stack(
        [
            _guided_closed_form(model, conv, x, t, guided=False).sum(-1)
            for x, t in zip(images, targets)
        ]
    )
    # Class 0's logit weights are all negative: guided gradients vanish.
    assert np.all(maps[0] == 0.0) and np.abs(plain[0]).max() > 1e-3
    assert np.abs(expected - plain).max() > 1e-2  # guiding changes the maps
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.multi_backend
def test_guided_gradcam_leaves_the_users_model_unchanged(tmp_path):
    model, _ = _relu_model()
    images = _images(3, (5, 5, 2), seed=4)
    targets = np.array([1, 2, 1])
    probe = keras.Model(model.input, [layer.output for layer in model.layers[1:]])

    def snapshot():
        return {
            "config": model.get_config(),
            "layers": [type(layer).__name__ for layer in model.layers],
            "weights": model.get_weights(),
            "activations": [keras.ops.convert_to_numpy(a) for a in probe(images)],
            "gradients": _plain_gradients(model, images, targets),
        }

    before = snapshot()
    maps = GuidedGradCAM(model)(images, targets)
    after = snapshot()
    assert before["config"] == after["config"]
    assert before["layers"] == after["layers"]
    for key in ("weights", "activations", "gradients"):
        for old, new in zip(before[key], after[key]):
            np.testing.assert_array_equal(old, new)
    # Still saves and reloads with the same outputs.
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reloaded(images)),
        keras.ops.convert_to_numpy(model(images)),
        rtol=1e-6,
    )
    # Guided GradCAM is the product of its two parts.
    expected = GradCAM(model)(images, targets) * GuidedBackprop(model)(images, targets)
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-8)
    assert np.abs(maps).max() > 0


@pytest.mark.multi_backend
def test_guided_backprop_follows_weight_updates_on_lenet():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    images = _images(2, (28, 28, 1))
    explainer = GuidedGradCAM(model)
    before = explainer(images, [3, 3])
    logits = model.get_layer("logits")
    logits.set_weights([-w for w in logits.get_weights()])
    after = explainer(images, [3, 3])
    # The compiled function reads the current weights, not those it traced.
    np.testing.assert_allclose(after, GuidedGradCAM(model)(images, [3, 3]), atol=1e-7)
    assert before.shape == (2, 28, 28) and np.abs(before - after).max() > 0


def test_guided_backprop_needs_a_relu():
    inputs = keras.Input(SHAPE)
    x = keras.layers.Conv2D(2, 3, activation="tanh")(inputs)
    logits = keras.layers.Dense(3)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, logits)
    with pytest.raises(ValueError, match="has no ReLU"):
        GuidedBackprop(model)
