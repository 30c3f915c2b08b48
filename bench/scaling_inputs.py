"""Benchmark: the single-device costs behind docs/scaling.md, and the wall
times they imply for the papers' settings on 1, 8 and 64 devices.

Measured here (one process, this machine's cores as one device, random
weights, best of `--repeats` after a warm-up call):

1. PartitionSHAP with 2000 evaluations (IMPACTX's targets), seconds per
   image, at CIFAR size (32×32×3) for LeNet-5, MobileNet and
   EfficientNet-B2 — the paper's three models — and at 224×224×3 for
   MobileNet (ImageNet size; one image: a minute or more here).
2. One training step of `ExplanationGuidedClassifier` with the
   segment-overlap loss over 8 dihedral views at 224×224×3 (the paper's
   setting, batch 32 there; `--so-batch` images here), ResNet-50, seconds
   per image.

Extrapolated, and labelled so in the JSON: the wall time of SHAP targets
for CIFAR-10's 50,000 training images and for ImageNet's 1,281,167, and of
one SO-loss epoch on CUB-200-2011's 5,994 training images and on
ImageNet, on 1, 8 and 64 devices *like this one*, assuming ideal scaling
(targets are independent per image; `bench/distributed.py` measures what
replication costs on this machine). An accelerator is faster than these
cores by a factor this machine cannot measure.

    python bench/scaling_inputs.py [--repeats 2]
"""

import argparse
import time

import keras
import numpy as np
from results_io import machine_info, write_result
from timing import best_seconds, timed

from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier
from keras_xai.explainers import PartitionSHAP

DEVICES = (1, 8, 64)
SETS = {
    "cifar10_train": 50_000,
    "cub200_train": 5_994,
    "imagenet_train": 1_281_167,
}


def shap_seconds(architecture, shape, images, repeats):
    """PartitionSHAP(max_evals=2000) seconds per image on `images` images."""
    keras.utils.set_random_seed(0)
    model = ImageClassifier(architecture, shape, 10, weights=None)
    x = np.random.default_rng(0).random((images, *shape)).astype("float32")
    explainer = PartitionSHAP(model, max_evals=2000)
    explainer(x[:1], np.zeros(1, "int32"))  # traces and compiles
    targets = np.zeros(images, "int32")
    best = min(timed(lambda: explainer(x, targets))[0] for _ in range(repeats))
    return best / images


def so_step_seconds(batch, repeats):
    """One SO-loss (8 views) training step at 224 px, seconds per image."""
    keras.utils.set_random_seed(0)
    classifier = ImageClassifier("resnet50", (224, 224, 3), 20, weights=None)
    model = ExplanationGuidedClassifier(classifier, views=8, beta=0.5)
    model.compile()
    rng = np.random.default_rng(0)
    x = rng.random((batch, 224, 224, 3)).astype("float32")
    masks = np.zeros((batch, 224, 224), "float32")
    masks[:, 56:168, 56:168] = 1.0
    y = {"label": rng.integers(0, 20, batch), "mask": masks}
    # best_seconds' untimed first call traces and compiles.
    return best_seconds(lambda: model.train_on_batch(x, y), repeats) / batch


def hours(seconds_per_image, images):
    """Wall hours on each device count, ideal scaling (extrapolated)."""
    return {f"{n}_devices": seconds_per_image * images / n / 3600 for n in DEVICES}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cifar-images", type=int, default=16)
    parser.add_argument("--so-batch", type=int, default=4)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    measured = {}
    for architecture in ("lenet5", "mobilenet", "efficientnet_b2"):
        key = f"partition_shap_2000_{architecture}_32px_seconds_per_image"
        measured[key] = shap_seconds(
            architecture, (32, 32, 3), args.cifar_images, args.repeats
        )
        print(key, measured[key], flush=True)
    key = "partition_shap_2000_mobilenet_224px_seconds_per_image"
    measured[key] = shap_seconds("mobilenet", (224, 224, 3), 1, 1)
    print(key, measured[key], flush=True)
    key = "so_loss_8_views_resnet50_224px_train_seconds_per_image"
    measured[key] = so_step_seconds(args.so_batch, args.repeats)
    print(key, measured[key], flush=True)

    extrapolated = {
        "note": "ideal scaling over devices like this machine's cores; "
        "computed from the measured seconds per image, not run",
        "shap_targets_cifar10_hours": {
            architecture: hours(
                measured[f"partition_shap_2000_{architecture}_32px_seconds_per_image"],
                SETS["cifar10_train"],
            )
            for architecture in ("lenet5", "mobilenet", "efficientnet_b2")
        },
        "shap_targets_imagenet_mobilenet_hours": hours(
            measured["partition_shap_2000_mobilenet_224px_seconds_per_image"],
            SETS["imagenet_train"],
        ),
        "so_loss_epoch_hours": {
            name: hours(
                measured["so_loss_8_views_resnet50_224px_train_seconds_per_image"],
                SETS[name],
            )
            for name in ("cub200_train", "imagenet_train")
        },
    }
    result = {
        "benchmark": "scaling_inputs",
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "settings": {
            "cifar_images": args.cifar_images,
            "so_batch": args.so_batch,
            "repeats": args.repeats,
            "training_sets": SETS,
        },
        "measured": measured,
        "extrapolated": extrapolated,
    }
    write_result(result, "scaling_inputs", result["backend"], args.output)
    return result


if __name__ == "__main__":
    main()
