"""Benchmark: where gradient explainers spend their time on each backend.

Integrated Gradients, SmoothGrad and Gradient SHAP are, per model call, one
forward pass and one backward pass to the input pixels over `b·k` images.
This times, on LeNet-5 and `--images` random 28×28×1 images in one batch
(compiled, best of `--repeats` after a warm-up):

1. the forward pass (`model.predict_on_batch`), and
2. `Saliency` (forward + gradient of the target logits w.r.t. the input),

so the cost of the backward pass to the input can be compared between
backends with the forward pass as the yardstick. Writes
`bench/results/input_gradient_<backend>.json`.

    KERAS_BACKEND=jax python bench/input_gradient.py [--images 4096]
"""

import argparse
import time

import keras
import numpy as np
from problem import random_lenet5_problem
from results_io import machine_info, write_result
from timing import best_seconds

from keras_xai.explainers import Saliency


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    model, images, targets, _ = random_lenet5_problem(args.images)
    saliency = Saliency(model, batch_size=args.images)

    forward = best_seconds(
        lambda: np.asarray(model.predict_on_batch(images)), args.repeats
    )
    gradient = best_seconds(lambda: saliency(images, targets), args.repeats)
    backend = keras.backend.backend()
    result = {
        "benchmark": "input_gradient",
        "backend": backend,
        "keras": keras.__version__,
        "machine": machine_info(),
        "model": "lenet5 28x28x1, 10 classes, random weights",
        "images": args.images,
        "timing_method": f"best of {args.repeats} after a warm-up",
        "forward_images_per_second": args.images / forward,
        "saliency_images_per_second": args.images / gradient,
        "saliency_over_forward_time": gradient / forward,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        f"{backend}: forward {result['forward_images_per_second']:.0f} img/s, "
        f"saliency {result['saliency_images_per_second']:.0f} img/s "
        f"({result['saliency_over_forward_time']:.2f}x the forward time)"
    )
    write_result(result, "input_gradient", backend, args.output)
    return result


if __name__ == "__main__":
    main()
