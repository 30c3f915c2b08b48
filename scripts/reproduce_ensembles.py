"""Ensembles and multitask attribute heads (Pazzani et al.) on Fashion-MNIST.

Part 1, ensembles: for each builder (`random_heads`, `kfold`, `bagging`) an
`ExplanationEnsemble` of `--members` LeNet-5 classifiers is trained on a
seeded training subset. On `--eval-images` test images with object masks
(the garment's pixels), for GradCAM, Saliency, Integrated Gradients and
Gradient SHAP (true class; signed maps by magnitude), the paper's table:
Ind-Avg (each member's map scored, the scores averaged) vs Ens-Avg (the
averaged map scored) for IoU (threshold 0.3), Pearson correlation at
14x14, and the intersection and union in pixels; IoU as a function of
ensemble size (the first k members) as a plot; ensemble vs mean-member
accuracy.

Part 2, multitask: a `MultitaskAttributeClassifier` with the class-level
attributes of `keras_xai.datasets.class_attributes.FASHION_MNIST_ATTRIBUTES`,
trained jointly; class and attribute accuracy; a sheet of labelled-arrow
explanations.

    python scripts/reproduce_ensembles.py --output-dir applications/ensembles_multitask
    python scripts/reproduce_ensembles.py --quick --output-dir /tmp/ens_quick
"""

import argparse
import os
import sys
import time

import keras
import numpy as np
from matplotlib.image import imread, imsave

from keras_xai.applications import (
    ExplanationEnsemble,
    ImageClassifier,
    MultitaskAttributeClassifier,
)
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import load_default_dataset, object_masks
from keras_xai.datasets.class_attributes import (
    FASHION_MNIST_ATTRIBUTES as ATTRIBUTES,
)
from keras_xai.datasets.class_attributes import class_attribute_matrix
from keras_xai.explainers import (
    GradCAM,
    GradientSHAP,
    IntegratedGradients,
    Saliency,
)
from keras_xai.metrics import iou, overlap_pixels, pearson_correlation
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import draw_labelled_arrows, plot_sweep

STRATEGIES = ("random_heads", "kfold", "bagging")
EXPLAINERS = {
    "GradCAM": GradCAM,
    "Saliency": Saliency,
    "IntegratedGradients": IntegratedGradients,
    "GradientSHAP": GradientSHAP,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser, seeds=None)
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    ResultsStore.add_arguments(parser, "applications/ensembles_multitask")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.members, args.epochs, args.eval_images = 200, 2, 1, 16
    if args.members < 2:
        parser.error("--members must be >= 2")
    return args


def scores(maps, masks):
    intersection, union = overlap_pixels(maps, masks)
    return {
        "iou": float(np.mean(iou(maps, masks, threshold=0.3))),
        "pearson": float(np.mean(pearson_correlation(maps, masks, size=14))),
        "intersection_px": float(np.mean(intersection)),
        "union_px": float(np.mean(union)),
    }


def ensemble_part(data, args, store):
    rows = np.random.default_rng(args.seed).permutation(len(data.x_train))
    x, y = data.x_train[rows[: args.train_size]], data.y_train[rows[: args.train_size]]
    images = data.x_test[: args.eval_images]
    labels = data.y_test[: args.eval_images]
    masks = object_masks(images)
    for strategy in STRATEGIES:
        if store.get(f"ensemble/{strategy}") is not None:
            continue
        keras.utils.set_random_seed(args.seed)
        template = ImageClassifier("lenet5", x.shape[1:], len(data.class_names))
        ensemble = ExplanationEnsemble(
            template, num_members=args.members, strategy=strategy, seed=args.seed
        )
        ensemble.compile()
        start = time.time()
        ensemble.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds = time.time() - start
        member_accuracy = [
            float(
                np.mean(
                    np.argmax(m.predict(data.x_test, batch_size=512, verbose=0), -1)
                    == data.y_test
                )
            )
            for m in ensemble.members
        ]
        result = {
            "train_seconds": seconds,
            "ensemble_accuracy": float(
                np.mean(
                    np.argmax(
                        ensemble.predict(data.x_test, batch_size=512, verbose=0), -1
                    )
                    == data.y_test
                )
            ),
            "member_accuracy": member_accuracy,
            "methods": {},
        }
        for name, explainer in EXPLAINERS.items():
            member_maps = ensemble.explain_members(images, explainer, targets=labels)
            ens_maps = ensemble.explain(images, explainer, targets=labels)
            scale = float(np.abs(member_maps).max()) or 1.0
            np.testing.assert_allclose(
                ens_maps, member_maps.mean(axis=0), rtol=1e-5, atol=1e-6 * scale
            )
            # Signed maps (IG, Gradient SHAP) are compared by magnitude (a
            # min-max of the signed range would mark everything near zero):
            # Ens-Avg scores |mean of the signed maps| (Eq. 1, then the
            # magnitude); the size curve scores the mean of the first k
            # members' magnitudes. For GradCAM and Saliency (non-negative)
            # the two are the same.
            individual = [scores(np.abs(m), masks) for m in member_maps]
            result["methods"][name] = {
                "ind_avg": {
                    k: float(np.mean([s[k] for s in individual])) for k in individual[0]
                },
                "ens_avg": scores(np.abs(ens_maps), masks),
                "iou_by_size": [
                    float(np.mean(iou(np.abs(member_maps[:k]).mean(axis=0), masks)))
                    for k in range(1, args.members + 1)
                ],
            }
        print(
            f"{strategy}: ensemble accuracy {result['ensemble_accuracy']:.4f}, "
            f"members {np.mean(member_accuracy):.4f} ({seconds:.0f} s)"
        )
        store.put(f"ensemble/{strategy}", result)


def multitask_part(data, args, store):
    names, table = class_attribute_matrix(ATTRIBUTES, len(data.class_names))
    rows = np.random.default_rng(args.seed).permutation(len(data.x_train))
    x, y = data.x_train[rows[: args.train_size]], data.y_train[rows[: args.train_size]]
    keras.utils.set_random_seed(args.seed)
    model = MultitaskAttributeClassifier(
        "lenet5", x.shape[1:], len(data.class_names), attribute_names=names
    )
    model.compile()
    model.fit(
        x,
        {"class": y, "attributes": table[y]},
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
    )
    outputs = model.predict(data.x_test, batch_size=512, verbose=0)
    result = {
        "attributes": {name: list(ATTRIBUTES[name]) for name in names},
        "class_accuracy": float(
            np.mean(np.argmax(outputs["class"], -1) == data.y_test)
        ),
        "attribute_accuracy": float(
            np.mean((outputs["attributes"] > 0.5) == (table[data.y_test] > 0.5))
        ),
    }
    print(
        f"multitask: class accuracy {result['class_accuracy']:.4f}, attribute "
        f"accuracy {result['attribute_accuracy']:.4f}"
    )
    store.put("multitask", result)
    arrow_sheet(model, data, args)


def arrow_sheet(model, data, args, count=6):
    # One test image per class with attributes, so the sheet shows several.
    picks = [int(np.flatnonzero(data.y_test == c)[0]) for c in (0, 1, 3, 4, 8, 9)]
    images = data.x_test[picks[:count]]
    explanations = model.explain_attributes(images)
    masks = object_masks(images)
    folder = os.path.join(args.output_dir, "arrows")
    panels = []
    for index, (image, entries) in enumerate(zip(images, explanations)):
        if not entries:
            continue
        path = draw_labelled_arrows(
            image,
            [entry.center for entry in entries],
            [f"{entry.name} ({entry.probability:.2f})" for entry in entries],
            os.path.join(folder, f"arrows_{index}.png"),
            mask=masks[index],
            image_size=2.5,
            fontsize=8,
        )
        panels.append(imread(path)[..., :3])
    if panels:
        height = max(p.shape[0] for p in panels)
        width = max(p.shape[1] for p in panels)
        padded = [
            np.pad(
                p,
                ((0, height - p.shape[0]), (0, width - p.shape[1]), (0, 0)),
                constant_values=1.0,
            )
            for p in panels
        ]
        while len(padded) % 3:
            padded.append(np.ones_like(padded[0]))
        sheet = np.concatenate(
            [
                np.concatenate(padded[i : i + 3], axis=1)
                for i in range(0, len(padded), 3)
            ]
        )
        imsave(os.path.join(args.output_dir, "labelled_arrows.png"), sheet)


def report(store, args):
    print("\n| builder | method | metric | Ind-Avg | Ens-Avg |")
    print("|---|---|---|---|---|")
    for strategy in STRATEGIES:
        result = store.get(f"ensemble/{strategy}")
        if result is None:
            continue
        for method, values in result["methods"].items():
            for metric in ("iou", "pearson", "intersection_px", "union_px"):
                print(
                    f"| {strategy} | {method} | {metric} | "
                    f"{values['ind_avg'][metric]:.3f} | "
                    f"{values['ens_avg'][metric]:.3f} |"
                )
        plot_sweep(
            list(range(1, args.members + 1)),
            {m: v["iou_by_size"] for m, v in result["methods"].items()},
            os.path.join(args.output_dir, f"iou_by_size_{strategy}.png"),
            xlabel="ensemble size (first k members)",
            ylabel="IoU with object mask (higher is better)",
            title=f"{strategy}",
        )
    store.finish()


def measure(store, args):
    """The ensemble runs, then the multi-task one, of those `store` lacks."""
    data = load_default_dataset(args.data)
    ensemble_part(data, args, store)
    if store.get("multitask") is None:
        multitask_part(data, args, store)


def main(argv=None):
    return ResultsStore.run_experiment(parse_args(argv), measure, report)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
