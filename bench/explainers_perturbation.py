"""Benchmark: perturbation explainers on LeNet-5 / Fashion-MNIST shapes.

Measures, in one run:

- seconds per image of `PartitionSHAP(max_evals=2000)` against shap's
  Partition explainer at the same `max_evals` and blur, used as its image
  examples show (`model(x)`, `batch_size=50`) and tuned (compiled
  `predict_on_batch`, `batch_size=256`), and against the model-evaluation
  floor (2000 compiled forward passes per image in full batches); see
  `shap_peers.py`. The maps' correlation with each shap run is recorded as
  the check that they compute the same thing;
- images per second of `Occlusion` and `LIME`.

The model is LeNet-5 (28x28x1, 10 classes) with random weights; the images
come from `keras_xai.datasets.load_default_dataset()` (Fashion-MNIST when
installed, else scikit-learn's digits). Writes
`bench/results/explainers_perturbation.json`.

    KERAS_BACKEND=tensorflow python bench/explainers_perturbation.py [--images 16]
"""

import argparse
import time

import keras
import numpy as np
import shap
from map_agreement import mean_correlation
from results_io import machine_info, write_result
from shap_peers import (
    BLUR,
    evaluation_floor,
    masker_name,
    shap_as_documented,
    shap_tuned,
)
from timing import timed

from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers.lime import LIME
from keras_xai.explainers.occlusion import Occlusion
from keras_xai.explainers.partition_shap import PartitionSHAP


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--max-evals", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--occlusion-images", type=int, default=64)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    data = load_default_dataset()
    images = data.x_test[: max(args.images, args.occlusion_images)]
    shap_images = images[: args.images]
    targets = np.argmax(model.predict(shap_images, verbose=0), axis=-1)
    backend = keras.backend.backend()
    print(f"backend {backend}, data {data.name}, {args.images} images")

    # Warm-ups (numba JIT in shap, tracing) are not timed.
    ours = PartitionSHAP(
        model,
        max_evals=args.max_evals,
        masker=f"blur({BLUR[0]},{BLUR[1]})",
        batch_size=args.batch_size,
    )
    ours(shap_images[:1], targets[:1])
    shap_as_documented(model, shap_images[:1], args.max_evals)
    shap_tuned(model, shap_images[:1], args.max_evals, batch_size=args.batch_size)

    ours_time, ours_maps = timed(lambda: ours(shap_images, targets))
    documented_time, documented_maps = timed(
        lambda: shap_as_documented(model, shap_images, args.max_evals)
    )
    tuned_time, tuned_maps = timed(
        lambda: shap_tuned(
            model, shap_images, args.max_evals, batch_size=args.batch_size
        )
    )
    floor = evaluation_floor(model, shap_images, args.max_evals, args.batch_size)
    ours_per_image = ours_time / args.images
    documented_per_image = documented_time / args.images
    tuned_per_image = tuned_time / args.images
    print(f"PartitionSHAP(max_evals={args.max_evals}): {ours_per_image:.3f} s/image")
    print(f"model-evaluation floor: {floor:.3f} s/image")
    print(f"shap as documented ({masker_name()}): {documented_per_image:.3f} s/image")
    print(f"shap tuned: {tuned_per_image:.3f} s/image")
    print(
        f"vs documented {documented_per_image / ours_per_image:.1f}x, "
        f"vs tuned {tuned_per_image / ours_per_image:.1f}x, "
        f"ours / floor {ours_per_image / floor:.2f}x"
    )

    # Occlusion and LIME: one untimed call on the same images first, so
    # every chunk shape is traced before the timed call.
    occlusion = Occlusion(model, patch_size=4, batch_size=args.batch_size)
    occlusion_images = images[: args.occlusion_images]
    occlusion(occlusion_images)
    occlusion_time, _ = timed(lambda: occlusion(occlusion_images))
    occlusion_rate = len(occlusion_images) / occlusion_time
    print(f"Occlusion(patch_size=4): {occlusion_rate:.1f} images/s")

    lime = LIME(model, num_samples=1000, batch_size=args.batch_size)
    lime(shap_images)
    lime_time, _ = timed(lambda: lime(shap_images))
    lime_rate = args.images / lime_time
    print(f"LIME(num_samples=1000, slic): {lime_rate:.2f} images/s")

    result = {
        "benchmark": "explainers_perturbation",
        "backend": backend,
        "keras": keras.__version__,
        "shap": shap.__version__,
        "machine": machine_info(),
        "model": "lenet5 28x28x1, 10 classes, random weights",
        "data": data.name,
        "images": args.images,
        "max_evals": args.max_evals,
        "batch_size": args.batch_size,
        "partition_shap_seconds_per_image": ours_per_image,
        "evaluation_floor_seconds_per_image": floor,
        "partition_shap_over_floor": ours_per_image / floor,
        "shap_masker": masker_name(),
        "shap_documented": "shap.Explainer(lambda x: model(x), masker), batch_size=50",
        "shap_documented_seconds_per_image": documented_per_image,
        "speedup_vs_shap_documented": documented_per_image / ours_per_image,
        "map_correlation_with_documented": mean_correlation(ours_maps, documented_maps),
        "shap_tuned": "shap.Explainer(model.predict_on_batch, masker), "
        f"batch_size={args.batch_size}",
        "shap_tuned_seconds_per_image": tuned_per_image,
        "speedup_vs_shap_tuned": tuned_per_image / ours_per_image,
        "map_correlation_with_tuned": mean_correlation(ours_maps, tuned_maps),
        "occlusion_patch4_images_per_second": occlusion_rate,
        "lime_1000_samples_images_per_second": lime_rate,
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "explainers_perturbation", backend, args.output)
    return result


if __name__ == "__main__":
    main()
