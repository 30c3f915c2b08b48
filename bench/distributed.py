"""Benchmark: guided training on one device against two, and attribution
targets on Ray against the local path, on the same cores.

1. A guided training epoch (`ExplanationGuidedClassifier`, segment-overlap
   loss with 1 view, LeNet-5, global batch 64, `--images` random images)
   on one device and on two — TensorFlow `MirroredStrategy` over two
   logical CPUs, JAX `keras.distribution.DataParallel` over two host
   devices — each framework in its own process so the device flags take
   effect. Best of `--repeats` epochs after a warm-up epoch. On a 2-core
   machine two devices cannot be faster; the ratio measures what the
   replication costs (goal: at most 1.3× slower per image). The same
   ratio for the plain classifier trained by Keras's own step (CE) is the
   control: what the framework's replication costs without keras_xai.
2. Attribution targets for `--target-images` images: the local cache path
   (`compute_attribution_targets`) against Ray
   (`compute_attribution_targets_on_ray`, a local cluster with one worker
   per core), for GradCAM and for PartitionSHAP at 2000 evaluations on a
   smaller slice. The Ray session's start and the workers' first task
   (process start, imports, model load) are reported separately from the
   steady run; the caches are checked equal.

Writes `bench/results/distributed_<backend>.json` (the backend of part 2).

    python bench/distributed.py [--images 4096] [--target-images 8192]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
from problem import random_lenet5_problem
from results_io import machine_info, write_result
from timing import timed

from keras_xai.explainers import GradCAM, PartitionSHAP
from keras_xai.training import (
    compute_attribution_targets,
    compute_attribution_targets_on_ray,
)

# One process per framework: builds the model, trains one warm-up epoch and
# `repeats` timed epochs on one device and on two, prints JSON.
TRAIN = r"""
import json, sys, time
import numpy as np
images, repeats, framework = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if framework == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
import keras
from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier

rng = np.random.default_rng(0)
x = rng.random((images, 28, 28, 1)).astype("float32")
y = {"label": rng.integers(0, 10, images), "mask": np.ones((images, 28, 28), "float32")}


def build(kind):
    keras.utils.set_random_seed(0)
    classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
    if kind == "plain":  # the control: Keras's own training step
        classifier.compile("adam", "sparse_categorical_crossentropy")
        return classifier
    model = ExplanationGuidedClassifier(classifier, guidance="so", views=1)
    model.compile()
    return model


def epochs(model, kind):
    targets = y["label"] if kind == "plain" else y
    model.fit(x, targets, batch_size=64, epochs=1, verbose=0)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, targets, batch_size=64, epochs=1, verbose=0)
        best = min(best, time.perf_counter() - start)
    return best / images


report = {}
for kind in ("guided", "plain"):
    if framework == "tensorflow":
        single = epochs(build(kind), kind)
        with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
            model = build(kind)
        replicated = epochs(model, kind)
    else:
        import jax
        single = epochs(build(kind), kind)
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices())
        )
        replicated = epochs(build(kind), kind)
        keras.distribution.set_distribution(None)
    report[kind] = {
        "single_seconds_per_image": single,
        "two_devices_seconds_per_image": replicated,
        "two_devices_over_single": replicated / single,
    }
print(json.dumps(report))
"""


def training(framework, images, repeats):
    """Part 1 in a subprocess of `framework`: guided and plain (control)."""
    env = dict(os.environ, KERAS_BACKEND=framework, TF_CPP_MIN_LOG_LEVEL="3")
    if framework == "jax":
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    done = subprocess.run(
        [sys.executable, "-c", TRAIN, str(images), str(repeats), framework],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def targets(model, explainer, options, images, labels, shard_size):
    """Part 2 for one explainer: local against Ray, caches compared."""
    with tempfile.TemporaryDirectory() as root:
        local_seconds, local = timed(
            lambda: compute_attribution_targets(
                explainer(model, **options),
                images,
                labels,
                os.path.join(root, "local"),
                shard_size=shard_size,
                verbose=False,
            )
        )
        ray_seconds, on_ray = timed(
            lambda: compute_attribution_targets_on_ray(
                model,
                explainer,
                images,
                labels,
                os.path.join(root, "ray"),
                explainer_options=options,
                shard_size=shard_size,
                verbose=False,
            )
        )
    return {
        "images": len(images),
        "shard_size": shard_size,
        "local_seconds_per_image": local_seconds / len(images),
        "ray_seconds_per_image": ray_seconds / len(images),
        "ray_over_local": ray_seconds / local_seconds,
        "caches_equal": bool(np.array_equal(local, on_ray)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--target-images", type=int, default=8192)
    parser.add_argument("--shap-images", type=int, default=256)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    result = {
        "benchmark": "distributed",
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
        "training": {
            "model": "ExplanationGuidedClassifier(lenet5, guidance='so', "
            "views=1), batch 64, Adam",
            "images": args.images,
        },
    }
    for framework in ("tensorflow", "jax"):
        result["training"][framework] = training(framework, args.images, args.repeats)
        print(framework, result["training"][framework], flush=True)

    import ray

    model, images, labels, _ = random_lenet5_problem(args.target_images, seed=1)
    session_seconds, _ = timed(
        lambda: ray.init(
            num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False
        )
    )
    try:
        # The workers' first tasks: processes, imports, model load.
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as root:
            compute_attribution_targets_on_ray(
                model, GradCAM, images[:64], labels[:64], root,
                shard_size=64 // os.cpu_count(), verbose=False,
            )  # fmt: skip
        warm_up_seconds = time.perf_counter() - start
        result["ray"] = {
            "ray": ray.__version__,
            "workers": os.cpu_count(),
            "session_start_seconds": session_seconds,
            "first_tasks_seconds": warm_up_seconds,
            "gradcam": targets(
                model, GradCAM, {}, images, labels, args.target_images // 8
            ),
            "partition_shap_2000": targets(
                model,
                PartitionSHAP,
                {"max_evals": 2000},
                images[: args.shap_images],
                labels[: args.shap_images],
                args.shap_images // 4,
            ),
        }
    finally:
        ray.shutdown()
    print(json.dumps(result["ray"], indent=1))
    write_result(result, "distributed", result["backend"], args.output)
    return result


if __name__ == "__main__":
    main()
