"""Segment-overlap loss on decoy Fashion-MNIST: which guidance undoes a shortcut.

Training images carry a class-coded grey patch in the padded margin
(`keras_xai.datasets.make_decoy`, 28 -> 36 px); test images carry a random
one. Every model is evaluated on the decoy test split:
- `ceiling`: the same classifier trained with CE on the clean padded images;
- `floor`: CE on the decoy images (it learns the patch);
- `so_only` (β = 0), `ce_so` (β = 0.5, no blur), `ce_so_blur` (β = 0.5,
  blurred masks), and SPEC §5.2's variants: `signed` (no ReLU in the CAM),
  `all_classes` (every class's CAM), `earlier_layer` (CAM on an earlier
  feature map), all with blur and β = 0.5;
- `rrr`: Ross et al.'s input-gradient penalty outside the mask.
Each method is reported as test accuracy and as the share of the
floor-to-ceiling gap it recovers, plus the IoU (threshold 0.3) between
GradCAM maps (true class) and the object masks on the test split. Seed 0 of
the first backbone also runs a β sweep and a views sweep (CE+SO-blur).

Resumable: finished runs are kept in `results.json` under `--output-dir`.

    python scripts/reproduce_segment_overlap.py \
        --output-dir applications/segment_overlap_loss
    python scripts/reproduce_segment_overlap.py --quick --output-dir /tmp/so_quick
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import load_default_dataset, make_decoy
from keras_xai.explainers import GradCAM
from keras_xai.metrics import iou
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import plot_sweep, save_image_grid

# method -> options of ExplanationGuidedClassifier ("clean" marks the ceiling).
METHODS = {
    "ceiling": {"beta": 1.0, "clean": True},
    "floor": {"beta": 1.0},
    "so_only": {"beta": 0.0, "blur_kernel_size": "auto"},
    "ce_so": {"beta": 0.5, "blur_kernel_size": None},
    "ce_so_blur": {"beta": 0.5, "blur_kernel_size": "auto"},
    "signed": {"beta": 0.5, "blur_kernel_size": "auto", "cam_mode": "signed"},
    "all_classes": {"beta": 0.5, "blur_kernel_size": "auto", "cam_mode": "all_classes"},
    "earlier_layer": {"beta": 0.5, "blur_kernel_size": "auto", "earlier": True},
    "rrr": {"beta": 0.5, "guidance": "rrr"},
}
EARLIER_LAYER = {"lenet5": "conv1", "vgg_small": "block1_conv2"}
BETAS = (0.25, 0.5, 0.75, 1.0)
VIEWS = (1, 2, 4, 8)


# Arguments that only add runs: left out of the results' fingerprint.
ADDS_RUNS_ONLY = ("seeds", "methods", "backbones", "no_sweeps")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser, backbones=["lenet5", "vgg_small"])
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS)
    )
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--test-size", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument(
        "--decoy-size",
        type=int,
        default=8,
        help="side of the decoy patch, also the margin padded around the image",
    )
    parser.add_argument("--no-sweeps", action="store_true")
    ResultsStore.add_arguments(parser, "applications/segment_overlap_loss")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.backbones, args.seeds = ["lenet5"], [0]
        args.train_size, args.test_size, args.epochs = 256, 128, 1
    return args


def decoy_data(args):
    data = load_default_dataset(args.data)
    classes = len(data.class_names)
    rows = np.random.default_rng(0).permutation(len(data.x_train))[: args.train_size]
    x_train, y_train = data.x_train[rows], data.y_train[rows]
    x_test, y_test = data.x_test[: args.test_size], data.y_test[: args.test_size]
    size = args.decoy_size
    decoy_train, masks_train = make_decoy(
        x_train,
        y_train,
        "train",
        seed=0,
        num_classes=classes,
        patch_size=size,
        pad=size,
    )
    decoy_test, masks_test = make_decoy(
        x_test, y_test, "test", seed=1, num_classes=classes, patch_size=size, pad=size
    )
    pad = (decoy_train.shape[1] - x_train.shape[1]) // 2
    clean_train = np.pad(x_train, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    return {
        "classes": classes,
        "names": data.class_names,
        "decoy_train": decoy_train,
        "clean_train": clean_train,
        "masks_train": masks_train,
        "y_train": y_train,
        "x_test": decoy_test,
        "masks_test": masks_test,
        "y_test": y_test,
    }


def train(backbone, method, seed, data, args, beta=None, views=None):
    options = dict(METHODS[method])
    clean = options.pop("clean", False)
    if options.pop("earlier", False):
        options["feature_layer"] = EARLIER_LAYER[backbone]
    if beta is not None:
        options["beta"] = beta
    options["views"] = views or args.views
    keras.utils.set_random_seed(seed)
    classifier = ImageClassifier(
        backbone, data["decoy_train"].shape[1:], data["classes"]
    )
    model = ExplanationGuidedClassifier(classifier, **options)
    model.compile()
    x = data["clean_train"] if clean else data["decoy_train"]
    start = time.time()
    model.fit(
        x,
        {"label": data["y_train"], "mask": data["masks_train"]},
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
    )
    seconds = time.time() - start
    probabilities = classifier.predict(data["x_test"], batch_size=512, verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, -1) == data["y_test"]))
    maps = GradCAM(classifier)(data["x_test"][:1000], data["y_test"][:1000])
    overlap = float(np.mean(iou(maps, data["masks_test"][:1000], threshold=0.3)))
    print(
        f"  {backbone} {method} seed {seed} β={options['beta']} "
        f"views={options['views']}: accuracy {accuracy:.4f}, IoU {overlap:.3f} "
        f"({seconds:.0f} s)"
    )
    return classifier, {
        "accuracy": accuracy,
        "gradcam_iou": overlap,
        "train_seconds": seconds,
    }


def measure(store, args):
    """The main runs, then the sweeps, of those `store` lacks."""
    data = decoy_data(args)
    for backbone in args.backbones:
        for seed in args.seeds:
            for method in args.methods:
                key = f"{backbone}/{method}/{seed}"
                if store.get(key) is None:
                    model, result = train(backbone, method, seed, data, args)
                    store.put(key, result)
                    if seed == args.seeds[0] and method in ("floor", "ce_so_blur"):
                        example_figure(model, backbone, method, data, args)
    if not args.no_sweeps:
        sweeps(store, data, args)


def sweeps(store, data, args):
    """β and views sweeps of CE+SO-blur; points equal to a main run reuse it."""
    backbone, seed = args.backbones[0], args.seeds[0]
    same = {
        ("beta", 0.5): f"{backbone}/ce_so_blur/{seed}",
        ("beta", 1.0): f"{backbone}/floor/{seed}",  # β = 1 is plain CE
        ("views", args.views): f"{backbone}/ce_so_blur/{seed}",
    }
    for name, values in (("beta", BETAS), ("views", VIEWS)):
        for value in values:
            key = f"sweep_{name}/{backbone}/{value}/{seed}"
            if store.get(key) is not None:
                continue
            reused = same.get((name, value))
            if reused is not None and store.get(reused) is not None:
                store.put(key, store.get(reused))
                continue
            options = {"beta": value} if name == "beta" else {"views": value}
            store.put(
                key, train(backbone, "ce_so_blur", seed, data, args, **options)[1]
            )


def example_figure(classifier, backbone, method, data, args):
    count = 6
    images = data["x_test"][:count]
    maps = GradCAM(classifier)(images, data["y_test"][:count])
    save_image_grid(
        [
            [image, mask, cam]
            for image, mask, cam in zip(images, data["masks_test"], maps)
        ],
        os.path.join(args.output_dir, f"gradcam_{backbone}_{method}.png"),
        titles=["decoy test image", "object mask", f"GradCAM ({method})"],
        row_labels=[data["names"][t] for t in data["y_test"][:count]],
    )


def _stats(values):
    values = np.asarray(values, "float64")
    return float(values.mean()), float(values.std())


def report(store, args):
    table = {}
    print(
        "\n| backbone | method | decoy test accuracy | gap recovered | "
        "GradCAM IoU | s/run |"
    )
    print("|---|---|---|---|---|---|")
    for backbone in args.backbones:
        rows = {}
        for method in METHODS:
            runs = [
                store.get(f"{backbone}/{method}/{seed}")
                for seed in args.seeds
                if store.get(f"{backbone}/{method}/{seed}") is not None
            ]
            if runs:
                rows[method] = runs
        if "floor" not in rows or "ceiling" not in rows:
            continue
        floor = _stats([r["accuracy"] for r in rows["floor"]])[0]
        ceiling = _stats([r["accuracy"] for r in rows["ceiling"]])[0]
        for method, runs in rows.items():
            accuracy = _stats([r["accuracy"] for r in runs])
            overlap = _stats([r["gradcam_iou"] for r in runs])
            # Without a gap (the decoy not exploited) there is nothing to recover.
            gap = ceiling - floor
            recovered = (accuracy[0] - floor) / gap if gap >= 0.02 else None
            seconds = _stats([r["train_seconds"] for r in runs])[0]
            table[f"{backbone}/{method}"] = {
                "accuracy_mean": accuracy[0],
                "accuracy_std": accuracy[1],
                "gap_recovered": recovered,
                "gradcam_iou_mean": overlap[0],
                "gradcam_iou_std": overlap[1],
                "seeds": len(runs),
                "train_seconds": seconds,
            }
            print(
                f"| {backbone} | {method} | {accuracy[0]:.4f} ± {accuracy[1]:.4f} "
                f"(n={len(runs)}) | "
                + ("n/a (no gap)" if recovered is None else f"{100 * recovered:.0f} %")
                + " | "
                + f"{overlap[0]:.3f} ± {overlap[1]:.3f} | {seconds:.0f} |"
            )
    store.finish(table=table)
    backbone, seed = args.backbones[0], args.seeds[0]
    for name, values, label in (
        ("beta", BETAS, "β (weight of CE; 1 − β on L_SO)"),
        ("views", VIEWS, "dihedral views"),
    ):
        runs = [store.get(f"sweep_{name}/{backbone}/{v}/{seed}") for v in values]
        if all(r is not None for r in runs):
            plot_sweep(
                values,
                {"CE+SO-blur": [r["accuracy"] for r in runs]},
                os.path.join(args.output_dir, f"sweep_{name}.png"),
                xlabel=label,
                ylabel="decoy test accuracy (higher is better)",
                title=f"{backbone}, seed {seed}",
                logx=name == "views",
            )


def main(argv=None):
    return ResultsStore.run_experiment(
        parse_args(argv), measure, report, ignore=ADDS_RUNS_ONLY
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
