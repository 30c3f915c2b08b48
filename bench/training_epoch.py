"""Benchmark: one LeNet-5 training epoch on this backend, alone on the cores
and with the cores shared.

A LeNet-5 epoch on the PyTorch backend once measured 5× a TensorFlow epoch
here (`bench/results/consistency_*.json`, taken while other experiments
ran). This separates the backend from the load: it times `fit` for one
epoch (`--images` random 28×28×1 images, batch 64, Adam) after a warm-up,
best of `--repeats`,

1. on an otherwise idle machine, and
2. with `--busy` other processes spinning on the cores (pure Python loops,
   one per core by default): what a training run sees when a second
   experiment or a test suite shares the machine.

On the torch backend both are measured with torch's default thread count
(one OpenMP thread per core) and with one thread (`torch.set_num_threads`).
Writes `bench/results/training_epoch_<backend>.json`.

    KERAS_BACKEND=torch python bench/training_epoch.py [--images 6400]
"""

import argparse
import contextlib
import multiprocessing
import os
import time

import keras
import numpy as np
from results_io import machine_info, write_result
from timing import best_seconds

from keras_xai.applications import ImageClassifier


def _spin(stop):
    while not stop.is_set():
        sum(range(10_000))


@contextlib.contextmanager
def busy_cores(count):
    """`count` processes spinning until the block ends."""
    stop = multiprocessing.Event()
    workers = [
        multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def epoch_seconds(model, x, y, repeats):
    """Best of `repeats` one-epoch `fit` calls (after one warm-up epoch)."""
    return best_seconds(
        lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0), repeats
    )


def thread_settings():
    """(name, apply) pairs: the backend's default, and one thread on torch."""
    if keras.backend.backend() != "torch":
        return [("default", lambda: None)]
    import torch

    default = torch.get_num_threads()
    return [
        (f"{default}_threads", lambda: torch.set_num_threads(default)),
        ("1_thread", lambda: torch.set_num_threads(1)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=os.cpu_count())
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    x = rng.random((args.images, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, args.images)
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    backend = keras.backend.backend()
    timing = {}
    for name, apply in thread_settings():
        apply()
        idle = epoch_seconds(model, x, y, args.repeats)
        with busy_cores(args.busy):
            shared = epoch_seconds(model, x, y, args.repeats)
        timing[name] = {
            "idle_epoch_seconds": idle,
            "shared_epoch_seconds": shared,
            "shared_over_idle": shared / idle,
        }
        print(f"{backend} {name}: idle {idle:.2f} s, shared {shared:.2f} s/epoch")
    result = {
        "benchmark": "training_epoch",
        "backend": backend,
        "keras": keras.__version__,
        "machine": machine_info(),
        "model": "lenet5 28x28x1, 10 classes, Adam, batch 64",
        "images": args.images,
        "busy_processes": args.busy,
        "timing_method": f"best of {args.repeats} epochs after a warm-up epoch",
        "timing": timing,
        "date": time.strftime("%Y-%m-%d"),
    }
    write_result(result, "training_epoch", backend, args.output)
    return result


if __name__ == "__main__":
    main()
