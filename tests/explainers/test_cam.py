import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.backend import grad
from keras_xai.explainers import (
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    ScoreCAM,
    XGradCAM,
    grad_cam,
)

# Every CAM computes gradients or runs the model: all backends.
pytestmark = pytest.mark.multi_backend


def _gap_model(seed=0):
    """conv -> GAP -> dense: GradCAM has a closed form on it."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 2))
    features = keras.layers.Conv2D(
        5, 3, padding="same", activation="relu", name="conv"
    )(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    logits = keras.layers.Dense(4, name="logits")(pooled)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def test_gradcam_matches_closed_form_on_gap_model():
    model = _gap_model()
    images = np.random.default_rng(0).random((6, 8, 8, 2)).astype("float32")
    targets = np.array([0, 1, 2, 3, 0, 1])
    maps = GradCAM(model)(images, targets=targets)

    features = keras.ops.convert_to_numpy(
        keras.Model(model.input, model.get_layer("conv").output)(images)
    )
    kernel = keras.ops.convert_to_numpy(model.get_layer("logits").kernel)
    # d y_t / d A_ijk = W[k, t] / (H * W) for every position.
    alpha = kernel[:, targets].T / 64.0
    expected = np.maximum((features * alpha[:, None, None, :]).sum(-1), 0.0)
    assert maps.shape == (6, 8, 8) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)


def test_gradcam_default_targets_are_predictions_and_batches_agree():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    images = np.random.default_rng(1).random((5, 28, 28, 1)).astype("float32")
    explainer = GradCAM(model, batch_size=2)
    predicted = np.argmax(keras.ops.convert_to_numpy(model(images)), axis=-1)
    np.testing.assert_allclose(
        explainer(images), explainer(images, targets=predicted), atol=1e-6
    )
    one_by_one = np.concatenate([explainer(images[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(explainer(images), one_by_one, rtol=1e-4, atol=1e-6)
    assert explainer(images).min() >= 0.0


def test_differentiable_gradcam_reaches_the_weights():
    model = _gap_model(seed=1)
    images = np.random.default_rng(2).random((3, 8, 8, 2)).astype("float32")
    targets = np.array([0, 1, 1], "int32")
    split = GradCAM(model).split
    kernel = model.get_layer("logits").kernel
    images_t = keras.ops.convert_to_tensor(images)
    targets_t = keras.ops.convert_to_tensor(targets)

    def cam_total(weights):
        # The logits kernel as an explicit argument (second-order gradient).
        with keras.StatelessScope(state_mapping=[(kernel, weights)]):
            return keras.ops.sum(grad_cam(split, images_t, targets_t, relu=False))

    gradient = keras.ops.convert_to_numpy(
        grad(cam_total, keras.ops.convert_to_numpy(kernel))
    )
    features = keras.ops.convert_to_numpy(
        keras.Model(model.input, model.get_layer("conv").output)(images)
    )
    # sum(CAM) = sum_b sum_k W[k, t_b] / 64 * sum_ij A[b, i, j, k].
    expected = np.zeros((5, 4), "float64")
    for b, t in enumerate(targets):
        expected[:, t] += features[b].sum(axis=(0, 1)) / 64.0
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


def test_gradcam_bad_input():
    model = _gap_model()
    explainer = GradCAM(model)
    good = np.zeros((2, 8, 8, 2), "float32")
    with pytest.raises(ValueError, match="`images` must be a batch"):
        explainer(np.zeros((8, 8, 2), "float32"))
    with pytest.raises(ValueError, match="per-image shape"):
        explainer(np.zeros((2, 9, 8, 2), "float32"))
    with pytest.raises(
        ValueError, match="`targets` must be class indices in \\[0, 4\\)"
    ):
        explainer(good, targets=[0, 4])
    with pytest.raises(ValueError, match="one entry per image"):
        explainer(good, targets=[0])
    with pytest.raises(ValueError, match="finite"):
        explainer(np.full((1, 8, 8, 2), np.nan, "float32"))
    with pytest.raises(ValueError, match="empty batch"):
        explainer(np.zeros((0, 8, 8, 2), "float32"))
    with pytest.raises(ValueError, match="`layer` must name a layer"):
        GradCAM(model, layer="missing")


def _gap_case(seed=0):
    model = _gap_model(seed)
    images = np.random.default_rng(seed).random((4, 8, 8, 2)).astype("float32")
    targets = np.array([0, 1, 2, 3])
    features = keras.ops.convert_to_numpy(
        keras.Model(model.input, model.get_layer("conv").output)(images)
    ).astype("float64")
    kernel = keras.ops.convert_to_numpy(model.get_layer("logits").kernel)
    bias = keras.ops.convert_to_numpy(model.get_layer("logits").bias)
    return model, images, targets, features, kernel, bias


def test_xgradcam_equals_gradcam_on_gap_model():
    # With constant gradients, the normalised-activation weights sum to one
    # spatially, so XGradCAM's weights equal GradCAM's.
    model, images, targets, *_ = _gap_case()
    np.testing.assert_allclose(
        XGradCAM(model)(images, targets),
        GradCAM(model)(images, targets),
        rtol=1e-4,
        atol=1e-7,
    )


def test_gradcam_plus_plus_closed_form_on_gap_model():
    model, images, targets, features, kernel, _ = _gap_case(1)
    g = kernel[:, targets].T / 64.0  # (b, k), constant over positions
    sums = features.sum(axis=(1, 2))
    a = g**2 / (2 * g**2 + sums * g**3)
    weights = 64.0 * a * np.maximum(g, 0)
    expected = np.maximum(np.einsum("bhwk,bk->bhw", features, weights), 0)
    np.testing.assert_allclose(
        GradCAMPlusPlus(model)(images, targets), expected, rtol=1e-3, atol=1e-7
    )


def test_ablation_cam_closed_form_on_gap_model():
    model, images, targets, features, kernel, bias = _gap_case(2)
    pooled = features.mean(axis=(1, 2))
    scores = (pooled @ kernel + bias)[np.arange(4), targets]
    drops = pooled * kernel[:, targets].T  # zeroing channel k removes its term
    weights = drops / scores[:, None]
    expected = np.maximum(np.einsum("bhwk,bk->bhw", features, weights), 0)
    np.testing.assert_allclose(
        AblationCAM(model, channel_batch_size=2)(images, targets),
        expected,
        rtol=1e-3,
        atol=1e-6,
    )


def test_eigen_cam_matches_numpy_svd_and_ignores_targets():
    model, images, targets, features, *_ = _gap_case(3)
    flat = features.reshape(4, 64, -1)
    expected = []
    for f in flat:
        centred = f - f.mean(axis=0)
        projection = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
        mean_activation = f.mean(axis=1)
        if projection @ (mean_activation - mean_activation.mean()) < 0:
            projection = -projection
        expected.append(np.maximum(projection, 0).reshape(8, 8))
    maps = EigenCAM(model)(images, targets)
    np.testing.assert_allclose(maps, np.stack(expected), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(EigenCAM(model)(images, (targets + 1) % 4), maps)


def test_score_cam_matches_a_per_channel_loop():
    model, images, targets, features, *_ = _gap_case(4)
    channels = features.shape[-1]
    weights = np.zeros((4, channels))
    for k in range(channels):
        mask = features[..., k]
        low = mask.min(axis=(1, 2), keepdims=True)
        high = mask.max(axis=(1, 2), keepdims=True)
        mask = np.where(
            high - low > 1e-7, (mask - low) / np.maximum(high - low, 1e-12), 0
        )
        probabilities = keras.ops.convert_to_numpy(
            model(images * mask[..., None].astype("float32"))
        )
        weights[:, k] = probabilities[np.arange(4), targets]
    expected = np.maximum(np.einsum("bhwk,bk->bhw", features, weights), 0)
    np.testing.assert_allclose(
        ScoreCAM(model, channel_batch_size=3)(images, targets),
        expected,
        rtol=1e-3,
        atol=1e-6,
    )


def test_native_resolution_option():
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    images = np.random.default_rng(5).random((2, 28, 28, 1)).astype("float32")
    maps = GradCAM(model, upsample=False)(images)
    assert maps.shape == (2, 4, 4)
    assert GradCAM(model, layer="conv2", upsample=False)(images).shape == (2, 8, 8)


def _wide_gap_model(side, feature_scale=1.0, seed=0):
    """1x1 conv -> GAP -> dense on a side x side map; features scaled."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((side, side, 2))
    features = keras.layers.Conv2D(5, 1, activation="relu", name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    logits = keras.layers.Dense(4, name="logits")(pooled)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    if feature_scale != 1.0:  # same logits, activations scaled
        conv, dense = model.get_layer("conv"), model.get_layer("logits")
        conv.set_weights([w * feature_scale for w in conv.get_weights()])
        kernel, bias = dense.get_weights()
        dense.set_weights([kernel / feature_scale, bias])
    return model


def _features_and_kernel(model, images):
    features = keras.ops.convert_to_numpy(
        keras.Model(model.input, model.get_layer("conv").output)(images)
    ).astype("float64")
    kernel = keras.ops.convert_to_numpy(model.get_layer("logits").kernel)
    return features, kernel.astype("float64")


def test_gradcam_plus_plus_keeps_small_gradients():
    # Under GAP on a 64x64 map, g = W / 4096 ~ 1e-4: an absolute 1e-7 guard
    # on the paper's denominator (~g²) zeroed every weight.
    side = 64
    model = _wide_gap_model(side)
    images = np.random.default_rng(0).random((3, side, side, 2)).astype("float32")
    targets = np.array([0, 1, 2])
    maps = GradCAMPlusPlus(model)(images, targets=targets)
    features, kernel = _features_and_kernel(model, images)
    g = kernel[:, targets].T / side**2  # (B, K), the same at every position
    totals = features.sum(axis=(1, 2))  # (B, K)
    # The paper's a = g² / (2g² + S·g³) in float64, α = Σ_ij a·ReLU(g).
    a = g**2 / (2 * g**2 + totals * g**3)
    alpha = side**2 * a * np.maximum(g, 0.0)
    expected = np.maximum((features * alpha[:, None, None, :]).sum(-1), 0.0)
    assert expected.max() > 0 and maps.max() > 0
    np.testing.assert_allclose(maps, expected, rtol=1e-3, atol=1e-6 * expected.max())


@pytest.mark.parametrize(
    "explainer", [GradCAMPlusPlus, XGradCAM, ScoreCAM, AblationCAM]
)
def test_maps_do_not_depend_on_the_activation_scale(explainer):
    images = np.random.default_rng(1).random((2, 8, 8, 2)).astype("float32")
    targets = np.array([0, 2])
    reference = explainer(_wide_gap_model(8))(images, targets=targets)
    scaled = explainer(_wide_gap_model(8, feature_scale=1e-9))(images, targets)
    # The same model up to an activation scale: the same map up to a factor.
    assert reference.max() > 0 and scaled.max() > 0
    np.testing.assert_allclose(
        scaled / scaled.max(), reference / reference.max(), atol=2e-3
    )
