"""Benchmark: perturbation explainers on LeNet-5 / Fashion-MNIST shapes.

Measures, in one run:

- seconds per image of `PartitionSHAP(max_evals=2000)` against the naive
  use of shap at the same `max_evals`:
  `shap.Explainer(model.predict, shap.maskers.Image("blur(14,14)", shape),
  algorithm="partition")(x, max_evals=2000,
  outputs=shap.Explanation.argsort.flip[:1])`, and the ratio (goal >= 5x);
  both explain the top class with the same blur, and the correlation of
  their maps is printed as a check that they compute the same thing;
- images per second of `Occlusion` and `LIME`.

The model is LeNet-5 (28x28x1, 10 classes) with random weights; the images
come from `keras_xai.datasets.load_default_dataset()` (Fashion-MNIST when
installed, else scikit-learn's digits). shap's string blur masker needs
OpenCV; without it the naive path uses shap's array masker with the same
blurred image (`cv2.blur` and our box blur agree to 1e-7), one per image.
Writes `bench/results/explainers_perturbation.json`.

    KERAS_BACKEND=tensorflow python bench/explainers_perturbation.py [--images 8]
"""

import argparse
import importlib.util
import time

import keras
import numpy as np
import shap
from results_io import machine_info, write_result

from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers.lime import LIME
from keras_xai.explainers.occlusion import Occlusion
from keras_xai.explainers.partition_shap import PartitionSHAP, box_blur

BLUR = (14, 14)


def seconds(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def naive_shap(model, images, max_evals, labels=None):
    """shap as its examples use it: `model.predict`, shap's own batching.

    Explains the top class, or `labels[i]` for image `i` when given (shap's
    `outputs=` applies to all rows, so labelled images go one at a time).
    """

    def predict(x):
        return model.predict(x, verbose=0)

    shape = images.shape[1:]
    top = shap.Explanation.argsort.flip[:1]
    with_cv2 = importlib.util.find_spec("cv2") is not None
    if with_cv2 and labels is None:
        masker = shap.maskers.Image(f"blur({BLUR[0]},{BLUR[1]})", shape)
        explainer = shap.Explainer(predict, masker, algorithm="partition")
        values = explainer(images, max_evals=max_evals, outputs=top, silent=True)
        return values.values[..., 0].sum(-1), "shap blur masker (OpenCV)"
    maps = []
    for index, image in enumerate(images):
        background = f"blur({BLUR[0]},{BLUR[1]})" if with_cv2 else box_blur(image, BLUR)
        masker = shap.maskers.Image(background, shape)
        explainer = shap.Explainer(predict, masker, algorithm="partition")
        outputs = top if labels is None else [int(labels[index])]
        values = explainer(
            image[None], max_evals=max_evals, outputs=outputs, silent=True
        ).values
        maps.append(values[0, ..., 0].sum(-1))
    name = (
        "shap blur masker (OpenCV)"
        if with_cv2
        else "shap array masker = blurred image (no OpenCV)"
    )
    return np.stack(maps), name


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
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
    naive_shap(model, shap_images[:1], args.max_evals)

    ours_time, ours_maps = seconds(lambda: ours(shap_images, targets))
    naive_time, (naive_maps, naive_masker) = seconds(
        lambda: naive_shap(model, shap_images, args.max_evals)
    )
    ours_per_image = ours_time / args.images
    naive_per_image = naive_time / args.images
    ratio = naive_per_image / ours_per_image
    correlation = float(
        np.mean(
            [
                np.corrcoef(a.ravel(), b.ravel())[0, 1]
                for a, b in zip(ours_maps, naive_maps)
            ]
        )
    )
    print(f"PartitionSHAP(max_evals={args.max_evals}): {ours_per_image:.3f} s/image")
    print(f"naive shap + model.predict ({naive_masker}): {naive_per_image:.3f} s/image")
    print(f"speed-up: {ratio:.1f}x (goal >= 5x); map correlation {correlation:.3f}")

    # Occlusion and LIME: one untimed call on the same images first, so
    # every chunk shape is traced before the timed call.
    occlusion = Occlusion(model, patch_size=4, batch_size=args.batch_size)
    occlusion_images = images[: args.occlusion_images]
    occlusion(occlusion_images)
    occlusion_time, _ = seconds(lambda: occlusion(occlusion_images))
    occlusion_rate = len(occlusion_images) / occlusion_time
    print(f"Occlusion(patch_size=4): {occlusion_rate:.1f} images/s")

    lime = LIME(model, num_samples=1000, batch_size=args.batch_size)
    lime(shap_images)
    lime_time, _ = seconds(lambda: lime(shap_images))
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
        "naive_shap_seconds_per_image": naive_per_image,
        "naive_masker": naive_masker,
        "partition_shap_speedup": ratio,
        "map_correlation_with_naive": correlation,
        "occlusion_patch4_images_per_second": occlusion_rate,
        "lime_1000_samples_images_per_second": lime_rate,
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "explainers_perturbation", backend, args.output)
    return result


if __name__ == "__main__":
    main()
