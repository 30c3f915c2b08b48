import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.explainers.lrp import LRP
from keras_xai.layers.image_preprocessing import ImagePreprocessing
from keras_xai.models.model_split import logits_tensor

pytestmark = pytest.mark.multi_backend


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _logits(model, images):
    return _numpy(keras.Model(model.input, logits_tensor(model))(images))


def _randomize(model, seed, bias=0.0):
    """Random weights; every bias set to `bias` (zero: LRP conserves)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for variable in layer.weights:
            if variable.path.endswith("bias"):
                variable.assign(np.full(variable.shape, bias, "float32"))
            elif variable.path.endswith("kernel"):
                fan_in = int(np.prod(variable.shape[:-1]))
                value = rng.normal(size=variable.shape) / np.sqrt(fan_in)
                variable.assign(value.astype("float32"))
    return model


def _lenet(seed=0, bias=0.0):
    keras.utils.set_random_seed(seed)
    return _randomize(ImageClassifier("lenet5", (28, 28, 1), 10), seed, bias)


def _images(shape, seed=0, low=0.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape).astype("float32")


def test_relevance_is_conserved_layer_to_layer_on_lenet():
    # Default rules: z^B (conv1), alpha1beta0 (conv2), epsilon (fc1, fc2,
    # logits). With zero biases every rule conserves, up to epsilon.
    model = _lenet(seed=1)
    images = _images((6, 28, 28, 1), seed=1)
    logits = _logits(model, images)
    # Lowest and highest class per image: negative and positive totals.
    targets = np.where(np.arange(6) % 2 == 0, logits.argmax(-1), logits.argmin(-1))
    expected = logits[np.arange(6), targets]
    assert (expected > 0).any() and (expected < 0).any()

    relevances = LRP(model).explain_layers(images, targets)
    assert list(relevances) == [
        "preprocessing",
        "conv1",
        "pool1",
        "conv2",
        "pool2",
        "flatten",
        "fc1",
        "fc2",
        "logits",
    ]
    one_hot = np.eye(10, dtype="float32")[targets]
    np.testing.assert_allclose(
        relevances["logits"], one_hot * expected[:, None], rtol=1e-5, atol=1e-6
    )
    for name, relevance in relevances.items():
        totals = relevance.reshape(6, -1).sum(axis=1)
        np.testing.assert_allclose(
            totals, expected, rtol=1e-3, atol=1e-5, err_msg=f"at {name}"
        )


def test_biases_absorb_relevance_in_the_epsilon_rule():
    # The counterpart of conservation: with biases it must not hold.
    model = _lenet(seed=2, bias=0.3)
    images = _images((4, 28, 28, 1), seed=2)
    logits = _logits(model, images)
    targets = logits.argmax(-1)
    relevances = LRP(model).explain_layers(images, targets)
    totals = relevances["preprocessing"].reshape(4, -1).sum(axis=1)
    assert np.all(np.isfinite(totals))
    assert np.abs(totals - logits[np.arange(4), targets]).min() > 1e-2


@pytest.mark.parametrize("bias", [0.0, 0.7])
def test_epsilon_rule_on_a_linear_model_is_input_times_weight(bias):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4, 5, 2))
    flat = keras.layers.Flatten()(inputs)
    logits = keras.layers.Dense(3, name="logits")(flat)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    _randomize(model, 3, bias=bias)
    images = _images((5, 4, 5, 2), seed=3, low=-1.0)
    targets = np.array([0, 1, 2, 0, 1])

    maps = LRP(model, first_rule="epsilon", epsilon=1e-9)(images, targets)

    kernel = _numpy(model.get_layer("logits").kernel)
    weights = kernel[:, targets].T.reshape(5, 4, 5, 2)
    expected = (images * weights).sum(-1)  # gradient x input, per pixel
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5)
    # The bias keeps its share: the map sums to the logit minus the bias.
    logit = _logits(model, images)[np.arange(5), targets]
    np.testing.assert_allclose(
        maps.reshape(5, -1).sum(1), logit - bias, rtol=1e-4, atol=1e-5
    )


def _conv_model(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(5, 3, padding="same", name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    return _randomize(
        keras.Model(inputs, keras.layers.Activation("softmax")(logits)), seed
    )


def test_alpha1beta0_relevance_is_nonnegative_at_convolution_inputs():
    model = _conv_model(seed=4)
    # Signed inputs: the first layer's alpha1beta0 takes both signs.
    images = _images((6, 8, 8, 2), seed=4, low=-1.0)
    logits = _logits(model, images)
    targets = logits.argmax(-1)
    assert np.all(logits[np.arange(6), targets] > 0)

    alpha = LRP(
        model,
        first_rule="alpha1beta0",
        conv_rule="alpha1beta0",
        dense_rule="alpha1beta0",
    ).explain_layers(images, targets)
    for key in (list(alpha)[0], "conv1"):
        assert alpha[key].min() >= 0.0, key
        np.testing.assert_allclose(
            alpha[key].reshape(6, -1).sum(1),
            logits[np.arange(6), targets],
            rtol=1e-4,
        )
    # The epsilon rule on the same model does give negative relevance.
    epsilon = LRP(
        model, first_rule="epsilon", conv_rule="epsilon", dense_rule="epsilon"
    ).explain_layers(images, targets)
    assert epsilon["conv1"].min() < -1e-4


def _zb_closed_form(x, kernel, low, high, r_out):
    """z^B on a dense layer, in float64 numpy."""
    x, kernel, r_out = (np.asarray(v, "float64") for v in (x, kernel, r_out))
    low = np.broadcast_to(low, x.shape[1:]).reshape(-1)
    high = np.broadcast_to(high, x.shape[1:]).reshape(-1)
    x = x.reshape(x.shape[0], -1)
    positive, negative = np.maximum(kernel, 0), np.minimum(kernel, 0)
    contributions = (
        x[:, :, None] * kernel - low[:, None] * positive - high[:, None] * negative
    )
    z = contributions.sum(1, keepdims=True)
    return (contributions / z * r_out[:, None, :]).sum(-1)


@pytest.mark.parametrize("mode", ["none", "tf"])
def test_zb_first_layer_matches_closed_form_within_bounds(mode):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((3, 3, 2))
    x = ImagePreprocessing(mode=mode, name="preprocessing")(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(6, activation="relu", name="fc")(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    model = _randomize(keras.Model(inputs, logits), 5)
    low, high = np.array([-0.5, 0.0], "float32"), np.array([1.5, 1.0], "float32")
    images = np.clip(_images((4, 3, 3, 2), seed=5, low=-0.5, high=1.5), low, high)
    targets = np.array([0, 1, 2, 1])

    relevances = LRP(model, low=low, high=high).explain_layers(images, targets)

    kernel = _numpy(model.get_layer("fc").kernel)
    # The box is mapped through the preprocessing (mode "tf": 2x - 1).
    scale, offset = (1.0, 0.0) if mode == "none" else (2.0, -1.0)
    expected = _zb_closed_form(
        images * scale + offset,
        kernel,
        low * scale + offset,
        high * scale + offset,
        relevances["fc"],
    )
    got = relevances["preprocessing"].reshape(4, -1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    # Inside the box every contribution is >= 0, so the input relevance has
    # the sign of the relevance it receives; it is conserved.
    np.testing.assert_allclose(
        got.sum(1), relevances["fc"].sum(1), rtol=1e-4, atol=1e-6
    )
    # With non-negative relevance arriving (alpha1beta0 above it, positive
    # logits) the input relevance inside the box is non-negative.
    logits = _logits(model, images)
    winners = logits.argmax(-1)
    assert np.all(logits[np.arange(4), winners] > 0)
    signed = LRP(model, low=low, high=high, dense_rule="alpha1beta0")(images, winners)
    assert signed.min() >= 0.0 and signed.max() > 0.0
    # The epsilon rule in the first layer has no such guarantee.
    plain = LRP(model, first_rule="epsilon", dense_rule="alpha1beta0")
    assert plain(images, winners).min() < 0.0


def test_lrp_on_lenet_shapes_dtypes_targets_and_batching():
    model = _lenet(seed=6, bias=0.05)
    images = _images((6, 28, 28, 1), seed=6)
    explainer = LRP(model, batch_size=3)
    maps = explainer(images)
    assert maps.shape == (6, 28, 28) and maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and np.abs(maps).max() > 0
    predicted = _logits(model, images).argmax(-1)
    np.testing.assert_array_equal(maps, explainer(images, targets=predicted))
    whole = LRP(model, batch_size=6)(images, targets=predicted)
    np.testing.assert_allclose(maps, whole, rtol=1e-5, atol=1e-7)
    other = explainer(images, targets=(predicted + 1) % 10)
    assert np.abs(maps - other).max() > 1e-3 * np.abs(maps).max()
    relevances = explainer.explain_layers(images[:3], predicted[:3])
    assert relevances["conv1"].shape == (3, 24, 24, 6)
    assert relevances["flatten"].shape == (3, 256)
    assert all(r.dtype == np.float32 for r in relevances.values())
    np.testing.assert_allclose(
        relevances["preprocessing"][..., 0], maps[:3], rtol=1e-5, atol=1e-7
    )


def test_compiled_and_eager_agree_and_nested_models_are_expanded():
    flat = _conv_model(seed=9)
    images = _images((3, 8, 8, 2), seed=9)
    targets = np.array([2, 0, 1])
    expected = LRP(flat)(images, targets)
    np.testing.assert_allclose(
        LRP(flat, compile=False)(images, targets), expected, rtol=1e-5, atol=1e-7
    )
    # The same layers as a Sequential inside a functional model.
    body = keras.Sequential(
        [keras.Input((8, 8, 2))]
        + [flat.get_layer(n) for n in ("conv1", "conv2", "relu2", "gap")]
    )
    inputs = keras.Input((8, 8, 2))
    logits = flat.get_layer("logits")(body(inputs))
    nested = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    explainer = LRP(nested)
    assert [step.name for step in explainer.steps] == [
        "conv1",
        "relu2",
        "gap",
        "logits",
    ]
    np.testing.assert_allclose(
        explainer(images, targets), expected, rtol=1e-5, atol=1e-7
    )


def test_all_zero_inputs_and_weights_give_zero_relevance_not_nan():
    model = _lenet(seed=10)
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, "float32"))
    images = np.zeros((2, 28, 28, 1), "float32")
    for rules in ({}, {"first_rule": "epsilon"}, {"first_rule": "alpha1beta0"}):
        relevances = LRP(model, **rules).explain_layers(images, [0, 3])
        for name, relevance in relevances.items():
            assert np.all(relevance == 0.0), (rules, name)


def _model(*layers, shape=(8, 8, 1)):
    inputs = keras.Input(shape)
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def test_unsupported_layers_and_graphs_raise_at_construction():
    dense = keras.layers.Dense(3, name="logits")
    with pytest.raises(ValueError, match="'norm' \\(LayerNormalization\\)"):
        LRP(
            _model(
                keras.layers.Conv2D(2, 3, name="conv"),
                keras.layers.LayerNormalization(name="norm"),
                keras.layers.Flatten(),
                dense,
            )
        )
    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(2, 3, padding="same", name="b")(a)
    skip = keras.layers.Add(name="skip")([a, b])
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(skip)))
    with pytest.raises(ValueError, match="'skip' \\(Add\\) takes 2 inputs"):
        LRP(model)
    with pytest.raises(ValueError, match="'conv' \\(Conv2D\\) with activation 'tanh'"):
        LRP(
            _model(
                keras.layers.Conv2D(2, 3, activation="tanh", name="conv"),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            )
        )
    with pytest.raises(ValueError, match="'bn' \\(BatchNormalization\\) here"):
        LRP(
            _model(
                keras.layers.Conv2D(2, 3, activation="relu"),
                keras.layers.BatchNormalization(name="bn"),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            )
        )
    with pytest.raises(ValueError, match="'scale' \\(Rescaling\\).*only before"):
        LRP(
            _model(
                keras.layers.Conv2D(2, 3),
                keras.layers.Rescaling(2.0, name="scale"),
                keras.layers.Flatten(),
                keras.layers.Dense(3),
            )
        )
    with pytest.raises(ValueError, match="at least one Conv2D or Dense"):
        LRP(_model(keras.layers.Flatten(), keras.layers.Activation("relu")))


def test_bad_options_raise():
    model = _conv_model(seed=11)
    with pytest.raises(ValueError, match="`epsilon` must be a finite float > 0"):
        LRP(model, epsilon=0.0)
    with pytest.raises(ValueError, match="`conv_rule` must be one of .*first layer"):
        LRP(model, conv_rule="zB")
    with pytest.raises(ValueError, match="`first_rule` must be one of"):
        LRP(model, first_rule="gamma")
    with pytest.raises(ValueError, match="`low` must be < `high`"):
        LRP(model, low=1.0, high=1.0)
    with pytest.raises(ValueError, match="`high` must be a float or an array"):
        LRP(model, high=np.ones(3))
    explainer = LRP(model)
    with pytest.raises(ValueError, match="`targets` must be class indices"):
        explainer.explain_layers(np.zeros((1, 8, 8, 2), "float32"), [3])
    with pytest.raises(ValueError, match="finite"):
        explainer(np.full((1, 8, 8, 2), np.nan, "float32"))


def test_max_pooling_is_winner_take_all_and_average_pooling_proportional():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="max")(x)
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c2")(x)
    x = keras.layers.AveragePooling2D(2, name="avg")(x)
    x = keras.layers.Flatten()(x)
    model = _randomize(keras.Model(inputs, keras.layers.Dense(2, name="logits")(x)), 7)
    images = _images((3, 8, 8, 1), seed=7)
    relevances = LRP(model).explain_layers(images, np.array([0, 1, 0]))

    def windows(a):  # (B, H, W, C) -> (B, H/2, W/2, C, 4)
        b, h, w, c = a.shape
        a = a.reshape(b, h // 2, 2, w // 2, 2, c)
        return a.transpose(0, 1, 3, 5, 2, 4).reshape(b, h // 2, w // 2, c, 4)

    below_max = windows(relevances["c1"])
    assert (np.count_nonzero(below_max, axis=-1) <= 1).all()
    np.testing.assert_allclose(below_max.sum(-1), relevances["max"], atol=1e-7)
    features = _numpy(keras.Model(model.input, model.get_layer("c2").output)(images))
    a = windows(features)
    expected = (
        a / np.maximum(a.sum(-1, keepdims=True), 1e-30) * relevances["avg"][..., None]
    )
    np.testing.assert_allclose(windows(relevances["c2"]), expected, atol=1e-6)


def test_overlapping_max_pooling_routes_relevance_and_conserves_it():
    model = _model(
        keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool"),
        keras.layers.Flatten(),
        keras.layers.Dense(2, name="logits"),
    )
    _randomize(model, 12)
    images = _images((2, 8, 8, 1), seed=12)
    relevances = LRP(model).explain_layers(images, [0, 1])
    np.testing.assert_allclose(
        relevances["conv"].reshape(2, -1).sum(1),
        relevances["pool"].reshape(2, -1).sum(1),
        rtol=1e-5,
        atol=1e-7,
    )
    # Only window maxima receive relevance.
    features = _numpy(keras.Model(model.input, model.get_layer("conv").output)(images))
    pooled = _numpy(model.get_layer("pool")(features))
    receives = relevances["conv"] != 0
    assert receives.any()
    assert np.isin(features[receives], pooled).all()


def test_mixed_precision_gives_float32_maps_equal_to_float32():
    reference = _conv_model(seed=13)
    images = _images((2, 8, 8, 2), seed=13)
    expected = LRP(reference)(images, [0, 2])
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = _conv_model(seed=13)
    finally:
        keras.config.set_dtype_policy(policy)
    mixed.set_weights(reference.get_weights())
    assert mixed.get_layer("conv1").compute_dtype == "float16"
    maps = LRP(mixed)(images, [0, 2])
    assert maps.dtype == np.float32
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-7)


def _bn_model(with_bn=True):
    inputs = keras.Input((10, 10, 2), name="images")
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    if with_bn:
        x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("relu", name="relu1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(5, name="fc")(x)
    if with_bn:
        x = keras.layers.BatchNormalization(name="bn2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.Dropout(0.5)(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def test_batchnorm_folding_keeps_the_logits_and_equals_a_folded_model():
    keras.utils.set_random_seed(8)
    model = _randomize(_bn_model(), 8, bias=0.1)
    rng = np.random.default_rng(8)
    for name in ("bn1", "bn2"):
        bn = model.get_layer(name)
        n = bn.gamma.shape[0]
        bn.gamma.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
        bn.beta.assign(rng.normal(size=n).astype("float32"))
        bn.moving_mean.assign(rng.normal(size=n).astype("float32"))
        bn.moving_variance.assign(rng.uniform(0.2, 3.0, n).astype("float32"))
    images = _images((6, 10, 10, 2), seed=8)
    targets = np.arange(6) % 3
    explainer = LRP(model)
    relevances = explainer.explain_layers(images, targets)
    assert list(relevances) == ["images", "relu1", "pool", "flatten", "relu2", "logits"]
    # The folded chain computes the model's logits.
    logits = _logits(model, images)
    np.testing.assert_allclose(
        relevances["logits"][np.arange(6), targets],
        logits[np.arange(6), targets],
        rtol=1e-5,
        atol=1e-5,
    )

    # Independent folding in numpy, into the same model without the BNs.
    folded = _bn_model(with_bn=False)
    for linear, norm in (("conv", "bn1"), ("fc", "bn2"), ("logits", None)):
        layer = model.get_layer(linear)
        kernel, bias = _numpy(layer.kernel), _numpy(layer.bias)
        if norm is not None:
            bn = model.get_layer(norm)
            gamma, beta, mean, var = (
                _numpy(v)
                for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
            )
            scale = gamma / np.sqrt(var + bn.epsilon)
            kernel, bias = kernel * scale, (bias - mean) * scale + beta
        folded.get_layer(linear).kernel.assign(kernel)
        folded.get_layer(linear).bias.assign(bias)
    np.testing.assert_allclose(_logits(folded, images), logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        explainer(images, targets),
        LRP(folded)(images, targets),
        rtol=1e-4,
        atol=1e-6,
    )


@pytest.mark.parametrize("rule", ["alpha1beta0", "zB"])
def test_conserving_rules_do_not_depend_on_the_activation_scale(rule):
    # The same logits with the hidden activations scaled by 1e-12: relevance
    # (conserved from the same logit) must not change.
    images = _images((2, 8, 8, 2), seed=3)
    reference_model = _conv_model(seed=5)
    scaled_model = _conv_model(seed=5)
    scale = 1e-12
    for name in ("conv1", "conv2"):
        kernel, bias = scaled_model.get_layer(name).get_weights()
        factor = scale if name == "conv1" else 1.0
        scaled_model.get_layer(name).set_weights([kernel * factor, bias * factor])
    kernel, bias = scaled_model.get_layer("logits").get_weights()
    scaled_model.get_layer("logits").set_weights([kernel / scale, bias])
    np.testing.assert_allclose(
        _logits(scaled_model, images), _logits(reference_model, images), rtol=1e-4
    )
    rules = {
        "first_rule": rule,
        "conv_rule": "alpha1beta0",
        "dense_rule": "alpha1beta0",
    }
    reference = LRP(reference_model, **rules)(images, targets=[0, 1])
    scaled = LRP(scaled_model, **rules)(images, targets=[0, 1])
    assert np.abs(reference).max() > 0
    np.testing.assert_allclose(
        scaled, reference, rtol=1e-3, atol=1e-4 * np.abs(reference).max()
    )
