import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.applications import ExplanationGuidedClassifier
from keras_xai.benchmarks.shortcut import guidance_masks, shortcut_arm
from keras_xai.datasets.shortcut import make_shortcut_split


def _linear_classifier(side=8, classes=3, seed=0):
    inputs = keras.Input((side, side, 1))
    x = keras.layers.Flatten()(inputs)
    logits = keras.layers.Dense(classes, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(side * side, classes)).astype("float32")
    model.get_layer("logits").set_weights([weights, np.zeros(classes, "float32")])
    return model, weights


def _split(name, side=8, num=4):
    rng = np.random.default_rng(1)
    images = np.zeros((num, side, side), "uint8")
    images[:, 3:6, 3:6] = rng.integers(50, 255, size=(num, 3, 3))
    labels = np.arange(num) % 3
    split = make_shortcut_split(images, labels, "ross", name, 3, patch_size=2)
    return split._replace(images=split.images[..., None].astype("float32") / 255.0)


@pytest.mark.multi_backend
def test_decoy_annotation_penalises_the_patch_in_closed_form():
    classifier, w = _linear_classifier()
    arm = shortcut_arm("rrr_decoy@2.0")
    model = ExplanationGuidedClassifier(classifier, **arm.options)
    model.compile()
    split = _split("train")
    masks = guidance_masks(arm, split)
    loss = model.compute_loss(
        split.images,
        {"label": split.labels, "mask": masks},
        classifier(split.images),
    )
    x = split.images.reshape(len(split.images), -1).astype("float64")
    z = x @ w
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ce = -np.log(p[np.arange(len(x)), split.labels]).mean()
    # ∂ Σ_k log p_k / ∂x = Σ_k W_k − K Σ_k p_k W_k, penalised on the patch only.
    gradients = w.sum(1)[None] - 3 * p @ w.T
    decoy = split.decoy_masks.reshape(len(x), -1)
    penalty = 2.0 * ((decoy * gradients) ** 2).sum(1).mean()
    np.testing.assert_allclose(
        float(ops.convert_to_numpy(loss)), 0.5 * ce + 0.5 * penalty, rtol=1e-4
    )


@pytest.mark.multi_backend
def test_no_patch_means_no_penalty_and_finite_loss():
    classifier, _ = _linear_classifier()
    arm = shortcut_arm("rrr_decoy@1000")
    model = ExplanationGuidedClassifier(classifier, **arm.options)
    model.compile()
    split = _split("none")
    masks = guidance_masks(arm, split)
    np.testing.assert_array_equal(masks, 1.0)  # nothing annotated as irrelevant
    penalty = ops.convert_to_numpy(
        model.guidance_loss(split.images, split.labels, masks)
    )
    np.testing.assert_array_equal(penalty, 0.0)
    loss = model.compute_loss(
        split.images, {"label": split.labels, "mask": masks}, classifier(split.images)
    )
    probabilities = ops.convert_to_numpy(classifier(split.images))
    ce = -np.log(probabilities[np.arange(4), split.labels]).mean()
    assert np.isfinite(float(ops.convert_to_numpy(loss)))
    np.testing.assert_allclose(float(ops.convert_to_numpy(loss)), 0.5 * ce, rtol=1e-5)


def test_object_annotation_uses_object_masks():
    split = _split("train")
    np.testing.assert_array_equal(
        guidance_masks(shortcut_arm("so_1view"), split), split.object_masks
    )
    np.testing.assert_array_equal(
        guidance_masks(shortcut_arm("rrr_decoy"), split), 1.0 - split.decoy_masks
    )


def test_shuffled_annotation_is_another_images_patch():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 255, size=(40, 8, 8)).astype("uint8")
    labels = np.arange(40) % 3
    split = make_shortcut_split(images, labels, "ross", "train", 3, patch_size=2)
    arm = shortcut_arm("rrr_decoy_shuffled")
    assert arm.options == shortcut_arm("rrr_decoy").options
    masks = guidance_masks(arm, split, seed=5)
    decoys = 1.0 - masks
    # Every image is annotated with one of the split's own patches, each
    # patch used once, and the same seed gives the same annotation.
    own = {tuple(mask.ravel()) for mask in split.decoy_masks}
    assert {tuple(mask.ravel()) for mask in decoys} <= own
    np.testing.assert_array_equal(decoys.sum(), split.decoy_masks.sum())
    np.testing.assert_array_equal(masks, guidance_masks(arm, split, seed=5))
    assert not np.array_equal(masks, guidance_masks(arm, split, seed=6))
    # With four corners, most images are annotated in the wrong place.
    wrong = (decoys * split.decoy_masks).sum(axis=(1, 2)) == 0
    assert 0.5 < wrong.mean() < 1.0
