"""Benchmark: IMPACTX's explanation cost at inference and for its targets.

In one run on LeNet-5 / Fashion-MNIST shapes (28×28×1, 10 classes):

1. Time to an explanation at inference, per image: IMPACTX's own forward
   pass (class + map) against the stage-1 model plus a post-hoc method
   (PartitionSHAP with 2000 evaluations, GradCAM).
2. Attribution-target generation, seconds per image, through keras_xai's
   cache path (`compute_attribution_targets` with `PartitionSHAP`) against
   shap's Partition explainer at equal `max_evals` and blur, used as its
   examples show and tuned (`shap_peers.py`; the maps' agreement is checked
   by `explainers_perturbation.py`). The cache path's time is also
   extrapolated to the 60,000 Fashion-MNIST training images (labelled so:
   measured on `--shap-images` images only).

Prints ratios and writes `bench/results/impactx_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/impactx.py [--shap-images 16]
"""

import argparse
import tempfile
import time

import keras
import numpy as np
import shap
from results_io import machine_info, write_result
from shap_peers import shap_as_documented, shap_tuned
from timing import timed

from keras_xai.applications import IMPACTX
from keras_xai.explainers import GradCAM, PartitionSHAP
from keras_xai.training import compute_attribution_targets


def seconds(function):
    """Wall time of one call of `function()`."""
    return timed(function)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--shap-images", type=int, default=16)
    parser.add_argument("--max-evals", type=int, default=2000)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    model = IMPACTX.from_preset("lenet5_fashion_mnist")
    classifier = model.classifier
    rng = np.random.default_rng(0)
    images = rng.random((args.images, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, args.images)
    shap_images, shap_labels = images[: args.shap_images], labels[: args.shap_images]

    # 1. Inference: a class and its explanation.
    forward = model.predict
    forward(images, batch_size=256, verbose=0)
    impactx_s = seconds(lambda: forward(images, batch_size=256, verbose=0))
    gradcam = GradCAM(classifier, batch_size=256)
    gradcam(images[:8])

    def classify_then_gradcam():
        predicted = np.argmax(classifier.predict(images, batch_size=256, verbose=0), -1)
        gradcam(images, targets=predicted)

    gradcam_s = seconds(classify_then_gradcam)
    partition = PartitionSHAP(classifier, max_evals=args.max_evals)
    partition(shap_images[:1], targets=shap_labels[:1])

    def classify_then_shap():
        predicted = np.argmax(
            classifier.predict(shap_images, batch_size=256, verbose=0), -1
        )
        partition(shap_images, targets=predicted)

    shap_s = seconds(classify_then_shap)
    inference = {
        "impactx_forward_ms_per_image": 1000 * impactx_s / len(images),
        "stage1_plus_gradcam_ms_per_image": 1000 * gradcam_s / len(images),
        "stage1_plus_partition_shap_ms_per_image": 1000 * shap_s / len(shap_images),
    }
    inference["partition_shap_vs_impactx_ratio"] = (
        inference["stage1_plus_partition_shap_ms_per_image"]
        / inference["impactx_forward_ms_per_image"]
    )
    inference["gradcam_vs_impactx_ratio"] = (
        inference["stage1_plus_gradcam_ms_per_image"]
        / inference["impactx_forward_ms_per_image"]
    )

    # 2. Target generation: cache path vs shap (documented, tuned), equal max_evals.
    with tempfile.TemporaryDirectory() as cache:
        cache_s = seconds(
            lambda: compute_attribution_targets(
                PartitionSHAP(classifier, max_evals=args.max_evals),
                shap_images,
                shap_labels,
                cache,
                verbose=False,
            )
        )
    documented_s = seconds(
        lambda: shap_as_documented(
            classifier, shap_images, args.max_evals, labels=shap_labels
        )
    )
    tuned_s = seconds(
        lambda: shap_tuned(classifier, shap_images, args.max_evals, labels=shap_labels)
    )
    targets = {
        "max_evals": args.max_evals,
        "images": len(shap_images),
        "cache_path_seconds_per_image": cache_s / len(shap_images),
        "shap_documented_seconds_per_image": documented_s / len(shap_images),
        "shap_tuned_seconds_per_image": tuned_s / len(shap_images),
        "speedup_vs_shap_documented": documented_s / cache_s,
        "speedup_vs_shap_tuned": tuned_s / cache_s,
        # Extrapolated from the slice above, not measured on 60,000 images.
        "fashion_mnist_train_60000_hours_extrapolated": cache_s
        / len(shap_images)
        * 60000
        / 3600,
    }

    for key, value in {**inference, **targets}.items():
        print(f"{key:>42s}: {value:10.3f}")
    backend = keras.backend.backend()
    result = {
        "benchmark": "impactx",
        "backend": backend,
        "keras": keras.__version__,
        "shap": shap.__version__,
        "machine": machine_info(),
        "model": "IMPACTX lenet5_fashion_mnist preset (random weights)",
        "inference": inference,
        "targets": targets,
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "impactx", backend, args.output)
    return result


if __name__ == "__main__":
    main()
