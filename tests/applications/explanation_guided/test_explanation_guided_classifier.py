import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.applications import ImageClassifier
from keras_xai.applications.explanation_guided.explanation_guided_classifier import (
    ExplanationGuidedClassifier,
)
from keras_xai.applications.explanation_guided.two_phase import (
    backbone_layer_names,
    fit_two_phase,
)
from keras_xai.backend import compile_function, grad
from keras_xai.testing import TestCase


def _tiny(side=12, width=None, classes=3, activation="relu", pool="max"):
    """A ~450-parameter CNN ending in logits + softmax (3x3 feature map)."""
    inputs = keras.Input((side, width or side, 1))
    x = keras.layers.Conv2D(4, 3, activation=activation, name="conv1")(inputs)
    pooling = (
        keras.layers.MaxPooling2D if pool == "max" else keras.layers.AveragePooling2D
    )
    x = pooling(2, name="pool1")(x)
    x = keras.layers.Conv2D(6, 3, activation=activation, name="conv2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="predictions")(logits)
    return keras.Model(inputs, outputs, name="tiny")


def _data(n=16, side=12, classes=3, seed=0):
    """Images with a bright square object; the mask marks it."""
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.random((n, side, side, 1)).astype("float32")
    y = rng.integers(0, classes, n)
    masks = np.zeros((n, side, side), "float32")
    for i in range(n):
        r, c = rng.integers(0, side - 5, 2)
        masks[i, r : r + 5, c : c + 5] = 1.0
        x[i, r : r + 5, c : c + 5, 0] += 0.3 + 0.3 * y[i]
    return x, y, masks


def _numpy_ce(probabilities, labels):
    return -np.log(probabilities[np.arange(len(labels)), labels])


# --- Gradients reach the weights ---------------------------------------------


@pytest.mark.multi_backend
@pytest.mark.parametrize(
    "options, tolerance",
    [
        ({"cam_mode": "target", "views": 8}, 2e-2),
        ({"cam_mode": "signed", "views": 2}, 2e-2),
        ({"cam_mode": "all_classes", "views": 2}, 5e-2),
        ({"guidance": "rrr"}, 2e-2),
        ({"guidance": "rrr_gradcam", "rrr_weight": 3.0}, 2e-2),
        ({"guidance": "cam_fit"}, 2e-2),
    ],
)
def test_weight_gradients_match_central_differences(options, tolerance):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((4, 12, 12, 1)).astype("float32")
    y = np.array([0, 1, 2, 0])
    masks = np.zeros((4, 12, 12), "float32")
    masks[:, 3:9, 2:8] = 1.0
    # tanh, average pooling and a mild temperature keep the loss smooth
    # along the probe directions, so float32 central differences are
    # accurate. (With max pooling the input gradient RRR penalises jumps
    # when an argmax switches: it is not even continuous in the weights.)
    model = ExplanationGuidedClassifier(
        _tiny(activation="tanh", pool="avg"), temperature=2.0, **options
    )
    # The three kernels as one flat vector: one gradient call gives them all.
    variables = [
        model.classifier.get_layer(n).kernel for n in ("conv1", "conv2", "logits")
    ]
    values = [ops.convert_to_numpy(v) for v in variables]
    sizes = [v.size for v in values]
    w0 = np.concatenate([v.ravel() for v in values])

    def loss_at(w):
        parts = ops.split(w, np.cumsum(sizes)[:-1].tolist())
        mapping = [
            (variable, ops.reshape(part, variable.shape))
            for variable, part in zip(variables, parts)
        ]
        with keras.StatelessScope(state_mapping=mapping):
            return ops.sum(model.guidance_loss(x, y, masks))

    if keras.backend.backend() == "jax":
        # Eager JAX compiles every op on first use; one jit is much faster.
        loss_at = compile_function(loss_at, [])
    gradient = ops.convert_to_numpy(grad(loss_at, ops.convert_to_tensor(w0)))
    assert np.all(np.isfinite(gradient))
    analytic, finite = [], []
    start = 0
    for value, size in zip(values, sizes):
        # One probe direction per kernel, scaled like the kernel.
        direction = np.zeros_like(w0)
        probe = rng.normal(size=size).astype("float32")
        direction[start : start + size] = (
            probe * np.linalg.norm(value) / np.linalg.norm(probe)
        )
        assert np.abs(gradient[start : start + size]).max() > 1e-4  # reaches it
        start += size
        analytic.append(float(np.sum(gradient * direction)))
        h = 1e-3
        plus = float(ops.convert_to_numpy(loss_at(w0 + h * direction)))
        minus = float(ops.convert_to_numpy(loss_at(w0 - h * direction)))
        finite.append((plus - minus) / (2 * h))
    analytic, finite = np.array(analytic), np.array(finite)
    relative = np.linalg.norm(analytic - finite) / np.linalg.norm(finite)
    assert relative < tolerance, (analytic, finite)


# --- The loss measures where the model looks ----------------------------------


def _hand_built(channel):
    """A classifier whose class-0 logit reads only `channel` where it is lit.

    Channel 0 of the images holds the object (inside the mask), channel 1 a
    decoy patch outside it; the feature map copies the two channels.
    """
    inputs = keras.Input((8, 8, 2))
    features = keras.layers.Conv2D(2, 1, use_bias=False, name="features")(inputs)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(features))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    model.get_layer("features").set_weights([np.eye(2).reshape(1, 1, 2, 2)])
    kernel = np.zeros((8, 8, 2, 2), "float32")
    region = (slice(2, 6), slice(1, 5)) if channel == 0 else (slice(0, 2), slice(6, 8))
    kernel[region[0], region[1], channel, 0] = 1.0
    model.get_layer("logits").set_weights([kernel.reshape(128, 2), np.zeros(2)])
    return model


def _object_and_decoy(n=3):
    x = np.zeros((n, 8, 8, 2), "float32")
    x[:, 2:6, 1:5, 0] = 1.0  # object
    x[:, 0:2, 6:8, 1] = 1.0  # decoy
    masks = np.zeros((n, 8, 8), "float32")
    masks[:, 2:6, 1:5] = 1.0
    return x, np.zeros(n, "int32"), masks


@pytest.mark.multi_backend
@pytest.mark.parametrize(
    "options",
    [
        {"cam_mode": "target"},
        {"cam_mode": "signed"},
        {"cam_mode": "all_classes"},
        {"cam_mode": "target", "views": 1},
        {"guidance": "rrr", "rrr_weight": 1.0},
    ],
)
def test_attending_inside_the_mask_scores_better(options):
    x, y, masks = _object_and_decoy()
    inside = ExplanationGuidedClassifier(_hand_built(0), **options)
    outside = ExplanationGuidedClassifier(_hand_built(1), **options)
    good = ops.convert_to_numpy(inside.guidance_loss(x, y, masks))
    bad = ops.convert_to_numpy(outside.guidance_loss(x, y, masks))
    if options.get("guidance") == "rrr":
        np.testing.assert_allclose(good, 0.0, atol=1e-7)
        assert np.all(bad > 1e-3)
    else:  # CAM on the object: L_SO = 0; CAM on the decoy: L_SO = 1
        np.testing.assert_allclose(good, 0.0, atol=1e-4)
        np.testing.assert_allclose(bad, 1.0, atol=1e-4)


# --- Training ---------------------------------------------------------------


@pytest.mark.multi_backend
@pytest.mark.parametrize("guidance", ["so", "rrr", "rrr_gradcam", "cam_fit"])
def test_fit_decreases_the_loss(guidance):
    x, y, masks = _data()
    keras.utils.set_random_seed(1)
    model = ExplanationGuidedClassifier(_tiny(), guidance=guidance, rrr_weight=1.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(
        x, {"label": y, "mask": masks}, epochs=5, batch_size=8, verbose=0
    ).history
    assert set(history) >= {"loss", "accuracy", "ce_loss", "guidance_loss"}
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0], history
    if guidance in ("so", "cam_fit"):
        # (The RRR penalty starts near 0 at initialisation and grows with
        # the input gradients as the model learns; its total still falls.)
        assert history["guidance_loss"][-1] < history["guidance_loss"][0], history
    # predict behaves like the wrapped classifier.
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model.classifier.predict(x, verbose=0), atol=1e-6
    )


@pytest.mark.multi_backend
def test_images_without_masks_contribute_cross_entropy_only():
    x, y, masks = _data(n=8)
    keras.utils.set_random_seed(0)
    model = ExplanationGuidedClassifier(_tiny(), beta=0.3, views=4)
    model.compile()
    probabilities = ops.convert_to_numpy(model(x))
    ce = _numpy_ce(probabilities, y).mean()

    zero = np.zeros_like(masks)
    logs = model.evaluate(
        x, {"label": y, "mask": zero}, batch_size=8, verbose=0, return_dict=True
    )
    np.testing.assert_allclose(logs["ce_loss"], ce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.3 * ce, rtol=1e-5)
    assert logs["guidance_loss"] == 0.0

    # Half the images annotated: L_SO averaged over those four only.
    partial = masks.copy()
    partial[::2] = 0.0
    so = ops.convert_to_numpy(model.guidance_loss(x, y, masks))[1::2].mean()
    logs = model.evaluate(
        x, {"label": y, "mask": partial}, batch_size=8, verbose=0, return_dict=True
    )
    np.testing.assert_allclose(logs["guidance_loss"], so, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.3 * ce + 0.7 * so, rtol=1e-5)


def test_beta_one_skips_the_guidance_and_beta_zero_drops_ce():
    x, y, masks = _data(n=8)
    model = ExplanationGuidedClassifier(_tiny(), beta=1.0)
    model.compile()

    def fail(*args, **kwargs):
        raise AssertionError("beta=1 must not compute explanations")

    model._guidance = fail
    logs = model.evaluate(
        x, {"label": y, "mask": masks}, batch_size=8, verbose=0, return_dict=True
    )
    ce = _numpy_ce(ops.convert_to_numpy(model(x)), y).mean()
    np.testing.assert_allclose(logs["loss"], ce, rtol=1e-5)

    only_so = ExplanationGuidedClassifier(model.classifier, beta=0.0)
    only_so.compile()
    logs = only_so.evaluate(
        x, {"label": y, "mask": masks}, batch_size=8, verbose=0, return_dict=True
    )
    so = ops.convert_to_numpy(only_so.guidance_loss(x, y, masks)).mean()
    np.testing.assert_allclose(logs["loss"], so, rtol=1e-5)


def test_plain_labels_mean_no_masks():
    x, y, _ = _data(n=8)
    model = ExplanationGuidedClassifier(_tiny(), beta=0.3, views=2)
    model.compile()
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    ce = _numpy_ce(ops.convert_to_numpy(model(x)), y).mean()
    np.testing.assert_allclose(logs["ce_loss"], ce, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.3 * ce, rtol=1e-5)


def test_mixed_precision_keeps_the_loss_in_float32():
    x, y, masks = _data(n=8)
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = ExplanationGuidedClassifier(_tiny(), views=4)
        model.compile()
        history = model.fit(
            x, {"label": y, "mask": masks}, epochs=1, batch_size=8, verbose=0
        ).history
        loss = model.guidance_loss(x, y, masks)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert np.all(np.isfinite(history["loss"]))
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    assert np.all(np.isfinite(ops.convert_to_numpy(loss)))


def test_rrr_penalty_vanishes_when_the_mask_covers_everything():
    x, y, masks = _data(n=4)
    model = ExplanationGuidedClassifier(_tiny(), guidance="rrr")
    full = ops.convert_to_numpy(model.guidance_loss(x, y, np.ones_like(masks)))
    np.testing.assert_array_equal(full, 0.0)
    assert np.all(ops.convert_to_numpy(model.guidance_loss(x, y, masks)) > 0.0)


class _Snapshots(keras.callbacks.Callback):
    """Records conv1's kernel and the learning rate at the end of each fit."""

    def __init__(self):
        super().__init__()
        self.kernels, self.learning_rates = [], []

    def on_train_end(self, logs=None):
        layer = self.model.classifier.get_layer("conv1")
        self.kernels.append(ops.convert_to_numpy(layer.kernel).copy())
        self.learning_rates.append(float(self.model.optimizer.learning_rate))


@pytest.mark.multi_backend
def test_fit_two_phase_freezes_the_backbone_first():
    x, y, masks = _data()
    keras.utils.set_random_seed(0)
    classifier = _tiny()
    model = ExplanationGuidedClassifier(classifier, views=1)
    assert backbone_layer_names(classifier) == ["conv1", "conv2"]
    before = ops.convert_to_numpy(classifier.get_layer("conv1").kernel).copy()
    head = ops.convert_to_numpy(classifier.get_layer("logits").kernel).copy()
    snapshots = _Snapshots()
    histories = fit_two_phase(
        model,
        x,
        {"label": y, "mask": masks},
        phase1_epochs=1,
        phase2_epochs=2,
        batch_size=8,
        callbacks=[snapshots],
        verbose=0,
    )
    # Phase 1: backbone frozen at 1e-3, head trained.
    np.testing.assert_array_equal(snapshots.kernels[0], before)
    assert snapshots.learning_rates == pytest.approx([1e-3, 3e-4])
    # Phase 2: every layer trained, epochs numbered on.
    assert not np.allclose(snapshots.kernels[1], before)
    assert not np.allclose(
        ops.convert_to_numpy(classifier.get_layer("logits").kernel), head
    )
    assert histories.phase1.epoch == [0] and histories.phase2.epoch == [1, 2]
    assert classifier.get_layer("conv1").trainable


def test_fit_two_phase_bad_arguments():
    x, y, masks = _data(n=4)
    model = ExplanationGuidedClassifier(_tiny(), views=2)
    targets = {"label": y, "mask": masks}
    with pytest.raises(ValueError, match="`backbone_layers` must name layers"):
        fit_two_phase(model, x, targets, backbone_layers=["nope"], verbose=0)
    with pytest.raises(ValueError, match="`model` must be an ExplanationGuided"):
        fit_two_phase(model.classifier, x, targets)
    with pytest.raises(ValueError, match="`epochs` is set by fit_two_phase"):
        fit_two_phase(model, x, targets, epochs=3)
    with pytest.raises(ValueError, match="`phase2_lr` must be a finite number > 0"):
        fit_two_phase(model, x, targets, phase2_lr=0.0)
    with pytest.raises(ValueError, match="`phase1_epochs` must be >= 0"):
        fit_two_phase(model, x, targets, phase1_epochs=-1)
    # Nothing to do: no fit, flags untouched.
    assert fit_two_phase(model, x, targets, 0, 0) == (None, None)
    assert model.classifier.get_layer("conv1").trainable


# --- Configuration, saving, bad input --------------------------------------------


class TestExplanationGuidedClassifier(TestCase):
    @pytest.mark.multi_backend
    def test_round_trips(self, tmp_path):
        x, _, _ = _data(n=3)
        self.run_model_test(
            ExplanationGuidedClassifier,
            {
                "classifier": _tiny(),
                "beta": 0.25,
                "views": ("identity", "rot90"),
                "temperature": 3.0,
                "blur_kernel_size": None,
                "feature_layer": "conv1",
                "cam_mode": "signed",
            },
            x,
            expected_output_shape=(3, 3),
            tmp_path=tmp_path,
        )

    @pytest.mark.multi_backend
    def test_saved_compiled_model_keeps_training(self, tmp_path):
        x, y, masks = _data(n=8)
        model = ExplanationGuidedClassifier(
            _tiny(), views=4, guidance="rrr", rrr_weight=2.0
        )
        model.compile()
        targets = {"label": y, "mask": masks}
        model.fit(x, targets, epochs=1, batch_size=8, verbose=0)
        path = str(tmp_path / "guided.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        assert isinstance(restored, ExplanationGuidedClassifier)
        # (JSON form: a reloaded functional model reports lists for tuples.)
        assert json.dumps(restored.get_config(), sort_keys=True) == json.dumps(
            model.get_config(), sort_keys=True
        )
        self.assert_allclose(restored(x), model(x), atol=1e-6)
        # The compile state came back and training goes on.
        assert restored.compiled and restored.guidance == "rrr"
        before = ops.convert_to_numpy(restored.classifier.get_layer("conv1").kernel)
        logs = restored.fit(x, targets, epochs=1, batch_size=8, verbose=0).history
        assert np.isfinite(logs["loss"][0]) and "guidance_loss" in logs
        after = ops.convert_to_numpy(restored.classifier.get_layer("conv1").kernel)
        assert not np.allclose(before, after)

    def test_defaults(self):
        model = ExplanationGuidedClassifier(ImageClassifier("lenet5"))
        config = model.get_config()
        assert config["beta"] == 0.5 and config["views"] == 8
        assert config["blur_kernel_size"] == "auto" and config["cam_mode"] == "target"
        assert config["guidance"] == "so" and config["feature_layer"] is None
        model.compile()
        assert isinstance(model.optimizer, keras.optimizers.Adam)
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)

    def test_non_square_images(self):
        x = np.random.default_rng(0).random((2, 12, 14, 1)).astype("float32")
        model = ExplanationGuidedClassifier(_tiny(12, 14), views=4)
        loss = ops.convert_to_numpy(
            model.guidance_loss(x, np.array([0, 1]), np.ones((2, 12, 14), "float32"))
        )
        assert loss.shape == (2,) and np.all(np.isfinite(loss))
        with pytest.raises(ValueError, match="must be square"):
            ExplanationGuidedClassifier(_tiny(12, 14), views=8)
        with pytest.raises(ValueError, match="must be square"):
            ExplanationGuidedClassifier(_tiny(12, 14), views=("transpose",))

    def test_bad_arguments(self):
        classifier = _tiny()
        cases = [
            ({"beta": 1.5}, "`beta` must be in \\[0, 1\\]. Received: beta=1.5"),
            ({"beta": -0.1}, "`beta` must be in"),
            ({"beta": "half"}, "`beta` must be a number"),
            ({"views": 0}, "`views` must be between 1 and 8. Received: views=0"),
            ({"views": 9}, "`views` must be between 1 and 8"),
            ({"views": ("rot45",)}, "`views` must be a non-empty tuple"),
            ({"temperature": 0}, "`temperature` must be a finite number > 0"),
            ({"blur_kernel_size": 4}, "`blur_kernel_size` must be"),
            ({"cam_mode": "relu"}, "`cam_mode` must be one of"),
            ({"guidance": "gradcam"}, "`guidance` must be one of"),
            ({"rrr_weight": -1.0}, "`rrr_weight` must be a finite number >= 0"),
            ({"feature_layer": "flatten"}, "4-D"),
            ({"feature_layer": "missing"}, "must name a layer"),
        ]
        for options, message in cases:
            with pytest.raises(ValueError, match=message):
                ExplanationGuidedClassifier(classifier, **options)
        with pytest.raises(ValueError, match="`classifier` must be a functional"):
            ExplanationGuidedClassifier("lenet5")

        inputs = keras.Input((12, 12, 1))
        dense = keras.layers.Dense(3)(keras.layers.Flatten()(inputs))
        no_softmax = keras.Model(inputs, dense)
        with pytest.raises(ValueError, match="must end with a softmax"):
            ExplanationGuidedClassifier(no_softmax)
        no_maps = keras.Model(inputs, keras.layers.Activation("softmax")(dense))
        with pytest.raises(ValueError, match="no feature map for guidance='so'"):
            ExplanationGuidedClassifier(no_maps)
        ExplanationGuidedClassifier(no_maps, guidance="rrr")  # needs no CAM

        model = ExplanationGuidedClassifier(classifier)
        with pytest.raises(ValueError, match="do not pass `loss`"):
            model.compile(loss="mse")

    @pytest.mark.multi_backend
    def test_bad_targets(self):
        x, y, masks = _data(n=4)
        model = ExplanationGuidedClassifier(_tiny(), views=2)
        model.compile()
        with pytest.raises(ValueError, match="matching the images' \\(H, W\\)"):
            model.fit(x, {"label": y, "mask": masks[:, :10, :10]}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="keys 'label' and"):
            model.fit(x, {"labels": y, "mask": masks}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="matching the images"):
            model.guidance_loss(x, y, masks[..., None].repeat(2, -1))
        # The errors left the model usable (on JAX too).
        model.fit(x, {"label": y, "mask": masks}, epochs=1, verbose=0)
