"""Measures a trained classifier on every split of a shortcut benchmark."""

import numpy as np

from keras_xai.benchmarks.shortcut.data import TEST_SPLITS
from keras_xai.explainers.cam import GradCAM
from keras_xai.explainers.gradients import Saliency
from keras_xai.explainers.partition_shap import PartitionSHAP
from keras_xai.metrics.localization import iou, pearson_correlation
from keras_xai.metrics.perturbation_curves import aopc, morf_curve
from keras_xai.models.class_model import (
    class_model,
    has_own_explanation,
    predict_outputs,
)
from keras_xai.utils.validation import check_positive_int


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


def explanation_faithfulness(
    model, split, num_images=500, shap_evals=2000, patch_size=4, seed=0
):
    """MoRF AOPC of the model's maps against SHAP and random maps on it.

    For the first `num_images` images of `split`, the class the model
    predicts is explained three ways on the same model: PartitionSHAP with
    `shap_evals` evaluations (IMPACTX's targets in its paper), uniform
    random maps (the control any map must beat) and, for a self-explaining
    model (IMPACTX), its own explanation output. Each map's MoRF curve
    (`morf_curve`: `patch_size` patches replaced by noise, most relevant
    first, the predicted class's probability tracked) is summarised by its
    AOPC (higher is more faithful).

    Args:
        model: trained `keras.Model`: a classifier or a self-explaining model.
        split: `ShortcutSplit`.
        num_images: int >= 1. Defaults to 500.
        shap_evals: int. PartitionSHAP's evaluations per image. Defaults to
            2,000.
        patch_size: int. Side of a MoRF patch; must divide the image's
            height and width. Defaults to 4.
        seed: int. Seeds the random maps and the MoRF noise. Defaults to 0.

    Returns:
        dict: `aopc_shap`, `aopc_random` and, for a self-explaining model,
        `aopc_own`, `aopc_own_minus_shap` (mean per-image difference on the
        same images) and `own_shap_correlation` (mean per-image Pearson
        correlation of the own map with the SHAP map); means over images.
    """
    num_images = check_positive_int(num_images, "num_images")
    classifier = class_model(model)
    images = split.images[:num_images]
    probabilities, own = predict_outputs(model, images)
    predicted = np.argmax(probabilities, axis=-1)

    def faithfulness(maps):
        curves = morf_curve(
            classifier, images, maps, predicted, patch_size=patch_size, seed=seed
        )
        return aopc(curves)

    shap_maps = PartitionSHAP(classifier, max_evals=shap_evals)(images, predicted)
    random_maps = np.random.default_rng(seed).random(images.shape[:3])
    shap_scores = faithfulness(shap_maps)
    result = {
        "aopc_shap": float(shap_scores.mean()),
        "aopc_random": float(faithfulness(random_maps).mean()),
    }
    if own is not None:
        own_scores = faithfulness(own)
        result["aopc_own"] = float(own_scores.mean())
        result["aopc_own_minus_shap"] = float(np.mean(own_scores - shap_scores))
        # At the maps' own resolution (no downsampling): one score per image.
        result["own_shap_correlation"] = float(
            np.mean(pearson_correlation(own, shap_maps, size=own.shape[1]))
        )
    return result


def evaluate_arm(
    model, data, has_feature_map, num_explained=1000, faithfulness_images=0
):
    """Accuracies on every split and how the explanations sit.

    Args:
        model: trained `keras.Model`: a classifier (images ->
            probabilities) or a self-explaining model (IMPACTX).
        data: `ShortcutBenchmarkData`.
        has_feature_map: bool. Whether GradCAM applies (convolutional nets).
        num_explained: int. Test images explained. Defaults to 1,000.
        faithfulness_images: int >= 0. Random-split test images on which
            `explanation_faithfulness` compares the model's maps by MoRF
            AOPC; 0 skips it (it costs PartitionSHAP's 2,000 evaluations
            per image). Defaults to 0.

    Returns:
        dict: `test_<split>` accuracy for each of `TEST_SPLITS`,
        `validation` and `validation_random` accuracies,
        `decoy_saliency_share` (random split) and `gradcam_iou` (random
        split; `None` without a feature map) and, for a self-explaining
        model, `own_explanation_decoy_share`: the share of its own
        explanation's mass on the patch (random split); with
        `faithfulness_images`, the keys of `explanation_faithfulness`.
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
    if faithfulness_images:
        result.update(
            explanation_faithfulness(
                model, data.test["random"], num_images=faithfulness_images
            )
        )
    return result
