"""Measures a trained classifier on every split of a shortcut benchmark."""

import numpy as np

from keras_xai.benchmarks.shortcut.data import TEST_SPLITS
from keras_xai.explainers.cam import GradCAM
from keras_xai.explainers.gradients import Saliency
from keras_xai.metrics.localization import iou
from keras_xai.models.class_model import (
    class_model,
    has_own_explanation,
    predict_outputs,
)


def accuracy(classifier, split, batch_size=1024):
    """Top-1 accuracy of `classifier` on a `ShortcutSplit`."""
    probabilities = classifier.predict(split.images, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=-1) == split.labels))


def decoy_saliency_share(classifier, split, num_images=1000):
    """Share of the true class's saliency that falls on the patch.

    `Σ_decoy S / Σ S` with `S = max_c |∂ logit_y / ∂x|` (Saliency), averaged
    over the first `num_images` images of `split`: how much the model's
    input gradient still looks at the shortcut (0 when it ignores it).
    Architecture-agnostic (MLPs have no feature map for GradCAM).

    Args:
        classifier: `keras.Model`.
        split: `ShortcutSplit` with patches.
        num_images: int. Defaults to 1,000.

    Returns:
        float in [0, 1].
    """
    images, labels = split.images[:num_images], split.labels[:num_images]
    maps = Saliency(classifier)(images, labels)
    return decoy_share(maps, split.decoy_masks[:num_images])


def decoy_share(maps, decoys):
    """Mean share `Σ_decoy |m| / Σ |m|` of each map's mass on the patch.

    Args:
        maps: array `(N, H, W)`.
        decoys: array `(N, H, W)` in {0, 1}.

    Returns:
        float in [0, 1]; an all-zero map counts as 0.
    """
    maps = np.abs(np.asarray(maps, dtype="float64"))
    totals = maps.sum(axis=(1, 2))
    shares = (maps * decoys).sum(axis=(1, 2)) / np.where(totals > 0, totals, 1.0)
    return float(np.mean(shares))


def gradcam_object_iou(classifier, split, num_images=1000, threshold=0.3):
    """Mean IoU of the true class's GradCAM (threshold 0.3) with the object."""
    images, labels = split.images[:num_images], split.labels[:num_images]
    maps = GradCAM(classifier)(images, labels)
    return float(np.mean(iou(maps, split.object_masks[:num_images], threshold)))


def evaluate_arm(model, data, has_feature_map, num_explained=1000):
    """Accuracies on every split and how the explanations sit.

    Args:
        model: trained `keras.Model`: a classifier (images ->
            probabilities) or a self-explaining model (IMPACTX).
        data: `ShortcutBenchmarkData`.
        has_feature_map: bool. Whether GradCAM applies (convolutional nets).
        num_explained: int. Test images explained. Defaults to 1,000.

    Returns:
        dict: `test_<split>` accuracy for each of `TEST_SPLITS`,
        `validation` and `validation_random` accuracies,
        `decoy_saliency_share` (random split) and `gradcam_iou` (random
        split; `None` without a feature map) and, for a self-explaining
        model, `own_explanation_decoy_share`: the share of its own
        explanation's mass on the patch (random split).
    """
    classifier = class_model(model)
    result = {
        f"test_{name}": accuracy(classifier, data.test[name]) for name in TEST_SPLITS
    }
    result["validation"] = accuracy(classifier, data.validation)
    result["validation_random"] = accuracy(classifier, data.validation_random)
    result["decoy_saliency_share"] = decoy_saliency_share(
        classifier, data.test["random"], num_explained
    )
    result["gradcam_iou"] = (
        gradcam_object_iou(classifier, data.test["random"], num_explained)
        if has_feature_map
        else None
    )
    if has_own_explanation(model):
        split = data.test["random"]
        _, maps = predict_outputs(model, split.images[:num_explained])
        result["own_explanation_decoy_share"] = decoy_share(
            maps, split.decoy_masks[:num_explained]
        )
    return result
