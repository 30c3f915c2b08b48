"""Benchmark: batched metrics against a per-image loop of the same computation.

Measures, in one run, on LeNet-5 (28x28x1, 10 classes, random weights) with
random images and random attribution maps:

- MoRF curves (4x4 patches, all 49 steps): `keras_xai.metrics.morf_curve`,
  which sends every (step, image) pair through the model in chunks, against
  a straightforward loop (per image, per step, one `predict_on_batch` of
  one image). Both must give the same curves (checked).
- Focus on `(N, 56, 56)` mosaic maps: one vectorised `focus` call against a
  loop calling it on one map at a time.

The loop baselines run on a subset and are reported per image; every
timing is the best of `--repeats` runs after a warm-up. Prints the
ratios and writes `bench/results/metrics_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/metrics.py [--images 1000]
"""

import argparse
import time

import keras
import numpy as np
from problem import random_lenet5_problem
from results_io import machine_info, write_result

from keras_xai.explainers.base import image_rngs
from keras_xai.metrics import focus, morf_curve


def naive_morf(model, images, maps, targets, patch_size, seed):
    """MoRF curves one image and one step at a time (the baseline)."""
    curves = []
    for image, relevance, target in zip(images, maps, targets):
        noise = image_rngs(image[None], seed)[0].random(image.shape, dtype="float32")
        height, width = relevance.shape
        cols = width // patch_size
        sums = relevance.reshape(height // patch_size, patch_size, cols, patch_size)
        order = np.argsort(-sums.sum(axis=(1, 3)).ravel(), kind="stable")
        x = image.copy()
        curve = [model.predict_on_batch(x[None])[0, target]]
        for patch in order:
            row, col = divmod(int(patch), cols)
            rows = slice(row * patch_size, (row + 1) * patch_size)
            columns = slice(col * patch_size, (col + 1) * patch_size)
            x[rows, columns] = noise[rows, columns]
            curve.append(model.predict_on_batch(x[None])[0, target])
        curves.append(curve)
    return np.array(curves, dtype="float64")


def timed(function, repeats=3):
    """(result, best seconds per call) of `function()` over `repeats` runs.

    The minimum filters out interference from other processes on a shared
    machine; one warm-up call comes first (tracing, caches).
    """
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--patch-size", type=int, default=4)
    parser.add_argument("--loop-images", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--focus-repeats", type=int, default=20)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    model, images, targets, rng = random_lenet5_problem(args.images)
    maps = rng.normal(size=(args.images, 28, 28))
    steps = (28 // args.patch_size) ** 2

    # --- MoRF ---------------------------------------------------------------
    curves, batched_seconds = timed(
        lambda: morf_curve(
            model,
            images,
            maps,
            targets,
            patch_size=args.patch_size,
            batch_size=args.batch_size,
        ),
        repeats=args.repeats,
    )
    n = args.loop_images
    loop_curves, loop_seconds = timed(
        lambda: naive_morf(
            model, images[:n], maps[:n], targets[:n], args.patch_size, seed=0
        ),
        repeats=args.repeats,
    )
    max_difference = float(np.max(np.abs(loop_curves - curves[:n])))
    _, single_seconds = timed(
        lambda: [
            morf_curve(
                model,
                images[i : i + 1],
                maps[i : i + 1],
                targets[i : i + 1],
                patch_size=args.patch_size,
            )
            for i in range(n)
        ],
        repeats=args.repeats,
    )
    morf_batched = batched_seconds / args.images * 1e3
    morf_loop = loop_seconds / n * 1e3
    morf_single = single_seconds / n * 1e3
    morf_ratio = morf_loop / morf_batched
    print(
        f"MoRF ({steps} steps, {args.images} images): batched {batched_seconds:.2f} s "
        f"= {morf_batched:.2f} ms/image"
    )
    print(f"MoRF per-image, per-step loop: {morf_loop:.2f} ms/image")
    print(f"MoRF morf_curve called per image: {morf_single:.2f} ms/image")
    print(f"MoRF batched vs per-image loop: {morf_ratio:.1f}x (goal >= 10x)")
    print(f"MoRF max |batched - loop| over {n} images: {max_difference:.2e}")

    # --- Focus --------------------------------------------------------------
    # float32, as explainers return them.
    mosaic_maps = rng.normal(size=(args.images, 56, 56)).astype("float32")
    flags = np.argsort(rng.random((args.images, 4)), axis=1) < 2
    scores, focus_seconds = timed(
        lambda: focus(mosaic_maps, flags), repeats=args.focus_repeats
    )
    loop_scores, focus_loop_seconds = timed(
        lambda: np.concatenate(
            [focus(mosaic_maps[i : i + 1], flags[i : i + 1]) for i in range(len(flags))]
        ),
        repeats=args.repeats,
    )
    assert np.allclose(scores, loop_scores)
    focus_ratio = focus_loop_seconds / focus_seconds
    print(
        f"Focus ({args.images} maps 56x56): batched {focus_seconds * 1e3:.2f} ms, "
        f"per-map loop {focus_loop_seconds * 1e3:.1f} ms: {focus_ratio:.1f}x"
    )

    backend = keras.backend.backend()
    result = {
        "benchmark": "metrics",
        "backend": backend,
        "keras": keras.__version__,
        "machine": machine_info(),
        "model": "lenet5 28x28x1, 10 classes, random weights",
        "images": args.images,
        "batch_size": args.batch_size,
        "timing": f"best of {args.repeats} runs after a warm-up",
        "morf": {
            "patch_size": args.patch_size,
            "steps": steps,
            "batched_seconds": batched_seconds,
            "batched_ms_per_image": morf_batched,
            "loop_images": n,
            "per_image_per_step_loop_ms_per_image": morf_loop,
            "morf_curve_per_image_ms_per_image": morf_single,
            "batched_vs_loop_ratio": morf_ratio,
            "max_abs_difference_vs_loop": max_difference,
        },
        "focus": {
            "map_shape": [56, 56],
            "batched_ms": focus_seconds * 1e3,
            "per_map_loop_ms": focus_loop_seconds * 1e3,
            "batched_vs_loop_ratio": focus_ratio,
        },
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "metrics", backend, args.output)
    return result


if __name__ == "__main__":
    main()
