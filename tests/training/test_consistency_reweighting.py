import os

import keras
import numpy as np
import pytest
from skimage.transform import resize

from keras_xai.explainers import CAMExplainer, EigenCAM, GradCAM, Saliency, XGradCAM
from keras_xai.explainers.by_name import EXPLAINERS
from keras_xai.training.consistency_reweighting import (
    CAM_EXPLAINERS,
    ConsistencyReweighting,
    ExplanationConsistency,
    check_cam_explainer,
    consistency_weights,
    weights_from_differences,
)
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from tests.training.reweighting_models import (
    EpochTag,
    RecordingDataset,
    assert_batches_carry,
    assert_batches_follow_history,
    predict_classes,
    tiny_classifier,
    tiny_images,
)


def _min_max(maps):
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def _cross_entropy(model, images, labels):
    probabilities = keras.ops.convert_to_numpy(model(images)).astype("float64")
    return -np.log(probabilities[np.arange(len(labels)), labels])


def _check_background_perturbation(images, result, epsilon):
    x, x_hat, masks = images[..., 0], result.perturbed[..., 0], result.masks
    # g(x) is a [0, 1] map whose peak is 1 (0 everywhere for an all-zero
    # CAM); its upsampled mask stays in [0, 1].
    assert result.heatmaps.shape == (len(x), 4, 4) and masks.shape == x.shape
    assert masks.min() >= 0.0 and masks.max() <= 1.0
    peaked = np.isclose(result.heatmaps.max(axis=(1, 2)), 1.0)
    assert np.all(peaked | (result.heatmaps == 0).all(axis=(1, 2)))
    assert peaked.sum() >= len(x) // 2
    # Where g(x) = 1 the image is untouched, exactly.
    semantic = masks == 1.0
    assert semantic.any(axis=(1, 2)).sum() == peaked.sum()
    np.testing.assert_array_equal(x_hat[semantic], x[semantic])
    # Elsewhere: x + ε·sign(∇CE)·(1 − g), clipped to [0, 1] (the sign itself
    # is checked against finite differences below).
    sign = np.where(x_hat - x >= 0, 1.0, -1.0)
    np.testing.assert_allclose(
        x_hat, np.clip(x + epsilon * sign * (1.0 - masks), 0.0, 1.0), atol=1e-6
    )
    assert x_hat.min() >= 0.0 and x_hat.max() <= 1.0


@pytest.mark.multi_backend
def test_fgsm_sign_matches_finite_differences():
    # Linear convolutions: the cross-entropy is smooth in x, so central
    # differences give its gradient without keras_xai.backend.grad.
    model = tiny_classifier(seed=2, activation=None)
    images, _ = tiny_images(2, seed=3, low=0.3, high=0.7)
    labels = np.array([0, 2])
    result = consistency_weights(
        model, images, labels, epsilon=0.1, return_examples=True
    )
    delta = 1e-2
    rng = np.random.default_rng(0)
    # 30 random pixels per image, all central differences in one model call.
    pixels = [
        (b, *divmod(int(f), 12))
        for b in range(2)
        for f in rng.choice(144, 30, replace=False)
    ]
    shifted = np.repeat(images, [60, 60], axis=0)
    for n, (_, i, j) in enumerate(pixels):
        shifted[2 * n, i, j, 0] += delta
        shifted[2 * n + 1, i, j, 0] -= delta
    losses = _cross_entropy(model, shifted, np.repeat(labels, 60))
    slopes = (losses[0::2] - losses[1::2]) / (2 * delta)
    checked = 0
    for (b, i, j), slope in zip(pixels, slopes):
        # Skip steps too small to read their sign, and flat directions.
        if result.masks[b, i, j] > 0.9 or abs(slope) < 1e-4:
            continue
        moved = result.perturbed[b, i, j, 0] - images[b, i, j, 0]
        assert np.sign(moved) == np.sign(slope), (b, i, j, slope, moved)
        checked += 1
    assert checked >= 20


@pytest.mark.multi_backend
def test_perturbation_and_weights_against_an_independent_computation():
    model = tiny_classifier(seed=0)
    images, _ = tiny_images(16, seed=4)
    predicted = predict_classes(model, images)
    # The second half is labelled wrongly on purpose.
    labels = predicted.copy()
    labels[8:] = (labels[8:] + 1) % 3
    cam = GradCAM(model, upsample=False)
    seen_flipped = seen_consistent = False
    for epsilon in (0.01, 0.1):
        result = consistency_weights(
            model, images, labels, epsilon=epsilon, return_examples=True
        )
        _check_background_perturbation(images, result, epsilon)
        assert result.weights.dtype == np.float32
        assert result.weights.min() >= 0.0 and result.weights.max() <= 1.0
        misclassified = predicted != labels
        np.testing.assert_array_equal(result.misclassified, misclassified)
        np.testing.assert_array_equal(result.weights[misclassified], 1.0)
        flipped = predict_classes(model, result.perturbed) != predicted
        np.testing.assert_array_equal(result.flipped, flipped)
        np.testing.assert_array_equal(result.weights[flipped], 1.0)
        # g(x), g(x̂): GradCAM of the true class, min-max scaled, compared at
        # the image's size (bilinear, half-pixel centres, as skimage does).
        g = _min_max(cam(images, labels))
        g_hat = _min_max(cam(result.perturbed, labels))
        np.testing.assert_allclose(result.heatmaps, g, atol=1e-5)
        np.testing.assert_allclose(result.perturbed_heatmaps, g_hat, atol=1e-5)
        kept = ~misclassified & ~flipped
        size = images.shape[1:3]
        g_image, g_hat_image = (
            np.stack([resize(m, size, order=1, mode="edge") for m in maps])
            for maps in (g, g_hat)
        )
        expected = np.tanh(((g_hat_image - g_image) ** 2).sum(axis=(1, 2)))
        np.testing.assert_allclose(result.weights[kept], expected[kept], atol=1e-4)
        # distance_size="native": the same pass, D between the small CAMs.
        native = consistency_weights(
            model, images, labels, epsilon=epsilon, distance_size="native"
        )
        expected = np.tanh(((g_hat - g) ** 2).sum(axis=(1, 2)))
        np.testing.assert_allclose(native.weights[kept], expected[kept], atol=1e-4)
        np.testing.assert_allclose(
            result.consistency, np.where(flipped, 0.0, 1.0 - result.distances)
        )
        seen_flipped |= bool((flipped & ~misclassified).any())
        seen_consistent |= bool(kept.any())
    assert seen_flipped and seen_consistent


def _input_independent_model():
    """Features are a fixed frame (zero kernel, constant bias, zero padding):
    the CAM and the prediction do not depend on the image."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(
        3, 3, kernel_initializer="zeros", bias_initializer="ones", name="conv"
    )(inputs)
    x = keras.layers.ZeroPadding2D(1, name="frame")(x)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


@pytest.mark.multi_backend
def test_unchanging_heatmaps_give_psi_zero_or_the_floor():
    model = _input_independent_model()
    images, _ = tiny_images(6, size=8, seed=5)
    labels = predict_classes(model, images)
    assert len(set(labels)) == 1
    result = consistency_weights(model, images, labels, epsilon=0.5, floor=0.25)
    assert not result.flipped.any() and not result.misclassified.any()
    # ψ(0) = 0 up to rounding (XLA may fuse the two CAMs differently), so
    # every weight is the floor.
    np.testing.assert_allclose(result.squared_differences, 0.0, atol=1e-9)
    np.testing.assert_allclose(result.distances, 0.0, atol=1e-9)
    np.testing.assert_allclose(result.weights, 0.25, atol=1e-9)
    # A real model with a negligible step: heatmaps barely move.
    model = tiny_classifier(seed=0)
    images, _ = tiny_images(8, seed=6)
    labels = predict_classes(model, images)
    tiny = consistency_weights(model, images, labels, epsilon=1e-7)
    assert not tiny.flipped.any()
    np.testing.assert_allclose(tiny.weights, 0.0, atol=1e-5)


@pytest.mark.multi_backend
def test_deterministic_and_batch_invariant():
    model = tiny_classifier(seed=0)
    images, _ = tiny_images(12, seed=7)
    labels = predict_classes(model, images)
    consistency = ExplanationConsistency(model, epsilon=0.02, batch_size=6)
    first = consistency(images, labels)
    again = consistency(images, labels)
    for name, value in first.arrays().items():
        np.testing.assert_array_equal(value, getattr(again, name), err_msg=name)
    whole = consistency_weights(model, images, labels, epsilon=0.02)
    np.testing.assert_allclose(first.weights, whole.weights, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(first.flipped, whole.flipped)


def test_psi_and_floor():
    squared = np.array([0.0, 0.5, 2.0, 3.0, 0.1])
    flipped = np.array([False, False, False, True, False])
    misclassified = np.array([False, False, False, False, True])
    kept = np.array([True, True, True, False, False])
    for psi, expected in (
        ("tanh", np.tanh(squared)),
        ("softsign", squared / (1 + squared)),
        ("arctan", 2 * np.arctan(squared) / np.pi),
    ):
        weights, distances = weights_from_differences(
            squared, flipped, misclassified, psi=psi
        )
        np.testing.assert_allclose(distances, expected, rtol=1e-6)
        np.testing.assert_allclose(weights[kept], expected[kept], rtol=1e-6)
        np.testing.assert_array_equal(weights[~kept], 1.0)
        floored, _ = weights_from_differences(
            squared, flipped, misclassified, psi=psi, floor=0.2
        )
        np.testing.assert_allclose(floored[kept], 0.2 + 0.8 * expected[kept], rtol=1e-6)
        np.testing.assert_array_equal(floored[~kept], 1.0)
    with pytest.raises(ValueError, match="`psi`"):
        weights_from_differences(squared, flipped, misclassified, psi="sigmoid")
    with pytest.raises(ValueError, match="one length"):
        weights_from_differences(squared[:3], flipped, misclassified)


def test_cam_choices():
    model = tiny_classifier(seed=0)
    images, _ = tiny_images(6, seed=8)
    labels = predict_classes(model, images)
    by_name = consistency_weights(model, images, labels, explainer="XGradCAM")
    by_instance = consistency_weights(
        model, images, labels, explainer=XGradCAM(model, layer="conv2")
    )
    np.testing.assert_allclose(by_name.weights, by_instance.weights, atol=1e-6)
    eigen = consistency_weights(
        model, images, labels, explainer=EigenCAM, return_examples=True
    )
    expected = _min_max(EigenCAM(model, upsample=False)(images))
    np.testing.assert_allclose(eigen.heatmaps, expected, atol=1e-5)
    on_conv1 = consistency_weights(
        model,
        images,
        labels,
        explainer=GradCAM(model, layer="conv1"),
        return_examples=True,
    )
    assert on_conv1.heatmaps.shape == (6, 10, 10)


def test_bad_inputs():
    model = tiny_classifier(seed=0)
    images, labels = tiny_images(4, seed=9)
    for epsilon in (0, -0.1, float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="`epsilon`"):
            consistency_weights(model, images, labels, epsilon=epsilon)
    with pytest.raises(ValueError, match="`psi`"):
        consistency_weights(model, images, labels, psi="relu")
    for explainer in ("saliency", Saliency, Saliency(model), 3):
        with pytest.raises(ValueError, match="`explainer` must be a CAM"):
            consistency_weights(model, images, labels, explainer=explainer)
    with pytest.raises(ValueError, match="model being reweighted"):
        consistency_weights(
            model, images, labels, explainer=GradCAM(tiny_classifier(seed=1))
        )
    with pytest.raises(ValueError, match="`labels` must have one entry per image"):
        consistency_weights(model, images, labels[:3])
    with pytest.raises(ValueError, match="`labels` must be class indices"):
        consistency_weights(model, images, labels + 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        consistency_weights(model, images * 255, labels)
    with pytest.raises(ValueError, match="`images`"):
        consistency_weights(model, images[..., 0], labels)
    with pytest.raises(ValueError, match="`floor`"):
        consistency_weights(model, images, labels, floor=1.5)
    with pytest.raises(ValueError, match="`batch_size`"):
        consistency_weights(model, images, labels, batch_size=0)
    for size in ("pixels", None):
        with pytest.raises(ValueError, match="`distance_size` must be one of"):
            consistency_weights(model, images, labels, distance_size=size)
    data = SampleWeightDataset(images, labels)
    with pytest.raises(ValueError, match="`distance_size` must be one of"):
        ConsistencyReweighting(data, distance_size="Image")
    with pytest.raises(ValueError, match="`every` must be >= 1"):
        ConsistencyReweighting(data, every=0)
    with pytest.raises(ValueError, match="`start_epoch` must be >= 0"):
        ConsistencyReweighting(data, start_epoch=-1)
    with pytest.raises(ValueError, match="`epsilon`"):
        ConsistencyReweighting(data, epsilon=0.0)
    with pytest.raises(ValueError, match="`explainer` must be a CAM"):
        ConsistencyReweighting(data, explainer="lime")
    with pytest.raises(ValueError, match="`dataset` must be a keras_xai"):
        ConsistencyReweighting((images, labels))


def _fit(dataset, epochs=2, **options):
    model = tiny_classifier(seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = ConsistencyReweighting(dataset, epsilon=0.05, **options)
    model.fit(
        dataset, epochs=epochs, verbose=0, callbacks=[callback, EpochTag(dataset)]
    )
    return model, callback


@pytest.mark.multi_backend
def test_fit_sees_new_weights_every_epoch():
    images, labels = tiny_images(24, seed=10)
    data = RecordingDataset(images, labels, batch_size=8, seed=0)
    model, callback = _fit(data, epochs=2)
    assert callback.epochs == [0, 1]
    assert_batches_follow_history(data, callback, epochs=2)
    assert not np.array_equal(callback.history[0], callback.history[1])
    # Round 1 ran on the model as fit received it (the same initial weights).
    untrained = consistency_weights(
        tiny_classifier(seed=0), images, labels, epsilon=0.05
    )
    np.testing.assert_allclose(callback.history[0], untrained.weights, atol=1e-5)


def test_schedule_start_epoch_and_every():
    images, labels = tiny_images(16, seed=11)
    data = RecordingDataset(images, labels, batch_size=8, seed=0)
    _, callback = _fit(data, epochs=4, every=2, start_epoch=1)
    assert callback.epochs == [1, 3]
    first, second = callback.history
    # Untouched before start_epoch; epoch 2 still trains on epoch 1's weights.
    assert_batches_carry(data, {0: np.ones(16), 1: first, 2: first, 3: second})


def test_log_dir_diagnostics(tmp_path):
    images, _ = tiny_images(8, seed=13)
    labels = predict_classes(tiny_classifier(seed=0), images)  # all correct
    data = SampleWeightDataset(images, labels, batch_size=8)
    _, callback = _fit(data, epochs=1, log_dir=tmp_path, num_examples=1)
    assert sorted(os.listdir(tmp_path)) == [
        "consistency_examples_epoch_0001.png",
        "weight_histograms.png",
        "weights_epoch_0001.npz",
    ]
    with np.load(tmp_path / "weights_epoch_0001.npz") as saved:
        np.testing.assert_array_equal(saved["weights"], callback.history[0])
        np.testing.assert_array_equal(saved["flipped"], callback.results[0].flipped)


def test_cam_names_come_from_the_explainer_registry():
    cams = {n: c for n, c in EXPLAINERS.items() if issubclass(c, CAMExplainer)}
    assert CAM_EXPLAINERS == cams
    assert check_cam_explainer("GradCAM++") == "gradcam++"
    with pytest.raises(ValueError, match="`explainer` must be a CAM"):
        check_cam_explainer("guided_gradcam")
