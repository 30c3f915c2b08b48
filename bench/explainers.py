"""Benchmark: attribution-method throughput on LeNet-5 / Fashion-MNIST shapes.

Measures, in one run, images per second of every explainer (compiled and
batched) and the speed-up of batched GradCAM over a per-image loop of the
same computation (eager, one image per call). Prints a table and writes
`bench/results/explainers_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/explainers.py [--images 256]
"""

import argparse
import time

import keras
from problem import random_lenet5_problem
from results_io import machine_info, write_result

from keras_xai import explainers

# (explainer name, options): every method the library ships, with the
# options used in the table.
METHODS = [
    ("GradCAM", {}),
    ("GradCAMPlusPlus", {}),
    ("XGradCAM", {}),
    ("EigenCAM", {}),
    ("AblationCAM", {}),
    ("ScoreCAM", {}),
    ("Saliency", {}),
    ("InputXGradient", {}),
    ("IntegratedGradients", {"steps": 50}),
    ("SmoothGrad", {"n": 50, "seed": 0}),
    ("GradientSHAP", {"n": 50, "seed": 0}),
    ("GuidedBackprop", {}),
    ("GuidedGradCAM", {}),
    ("LRP", {}),
]


def throughput(function, images, repeats):
    """Images per second of `function(images)`, after one warm-up call."""
    function(images)
    start = time.perf_counter()
    for _ in range(repeats):
        function(images)
    return repeats * len(images) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-images", type=int, default=32)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    model, images, targets, _ = random_lenet5_problem(args.images)

    rows = []
    for name, options in METHODS:
        explainer = getattr(explainers, name)(
            model, batch_size=args.batch_size, **options
        )
        rate = throughput(lambda x, e=explainer: e(x, targets), images, args.repeats)
        rows.append({"method": name, "options": options, "images_per_second": rate})
        print(f"{name:>22s}: {rate:10.1f} images/s")

    # Baseline: the same GradCAM computation, eagerly, one image per call.
    eager = explainers.GradCAM(model, batch_size=1, compile=False)
    loop_images = images[: args.loop_images]
    loop_targets = targets[: args.loop_images]

    def per_image_loop(x):
        for i in range(len(x)):
            eager(x[i : i + 1], loop_targets[i : i + 1])

    loop_rate = throughput(per_image_loop, loop_images, 1)
    batched_rate = next(
        r["images_per_second"] for r in rows if r["method"] == "GradCAM"
    )
    ratio = batched_rate / loop_rate
    print(f"GradCAM per-image eager loop: {loop_rate:.1f} images/s")
    print(f"GradCAM batched+compiled vs per-image loop: {ratio:.1f}x (goal >= 50x)")

    backend = keras.backend.backend()
    result = {
        "benchmark": "explainers",
        "backend": backend,
        "keras": keras.__version__,
        "machine": machine_info(),
        "model": "lenet5 28x28x1, 10 classes",
        "images": args.images,
        "batch_size": args.batch_size,
        "methods": rows,
        "gradcam_per_image_loop_images_per_second": loop_rate,
        "gradcam_batched_vs_loop_ratio": ratio,
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "explainers", backend, args.output)
    return result


if __name__ == "__main__":
    main()
