"""Ensembles of explanations by Pazzani et al.'s protocol, where the metric can move.

The first reproduction (`reproduce_ensembles.py`) scores explanations on
black-background Fashion-MNIST, where `x·∇`-type maps vanish on the
background and a 4x4 GradCAM covers most of the image, so the localisation
metrics cannot tell the arms apart. Here:

- the garments sit on textured (or noisy) backgrounds
  (`keras_xai.datasets.with_backgrounds`), the object masks come from the
  original images, and the models train on such images;
- three arms per builder (`random_heads`, `kfold`, `bagging`): Ens-Avg (the
  averaged map of the ensemble), the mean member (each member's map scored,
  the scores averaged) and, as the paper's Ind-Avg for k-fold and bagging,
  one model trained on all the data;
- metrics per test image: IoU (threshold 0.3), Pearson correlation at
  14x14, the distance from the map's centre of mass to the garment's
  (`center_of_mass_distance`), and the intersection / union in pixels;
  signed maps (Integrated Gradients, Gradient SHAP) are scored by magnitude
  (the averaged signed map, then its magnitude);
- `--seeds` ensemble seeds (the data are the same for every seed) and, per
  seed, paired per-image tests of Ens-Avg against each other arm (mean
  difference, share of images where Ens-Avg is better, Wilcoxon signed-rank
  p-value).

Writes `results.json` (resumable per builder and seed) and prints a table:
means over seeds ± sample std (ddof = 1).

    python scripts/ensembles_protocol.py --background texture --seeds 0 1 2
    python scripts/ensembles_protocol.py --quick --output-dir /tmp/ens_protocol
"""

import argparse
import os
import sys
import time

import keras
import numpy as np
from scipy import stats

from keras_xai.applications import ExplanationEnsemble, ImageClassifier
from keras_xai.applications.ensemble import STRATEGIES
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import BACKGROUNDS, load_default_dataset, with_backgrounds
from keras_xai.explainers.by_name import get_explainer
from keras_xai.metrics import (
    center_of_mass,
    center_of_mass_distance,
    iou,
    overlap_pixels,
    pearson_correlation,
)
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import plot_per_seed

# The paper's methods, as results.json names them -> the explainer registry.
EXPLAINERS = {
    label: get_explainer(name)
    for label, name in (
        ("GradCAM", "gradcam"),
        ("Saliency", "saliency"),
        ("IntegratedGradients", "integrated_gradients"),
        ("GradientSHAP", "gradient_shap"),
    )
}
# metric -> True when higher is better.
METRICS = {
    "iou": True,
    "pearson": True,
    "com_distance": False,
    "intersection_px": True,
    "union_px": False,
}
ARMS = ("ens_avg", "mean_member", "single")
# The metrics the report's table (and its plots) show.
REPORTED_METRICS = ("iou", "pearson", "com_distance")


# Arguments that only add runs: left out of the results' fingerprint.
ADDS_RUNS_ONLY = ("seeds", "strategies")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser)
    parser.add_argument("--background", default="texture", choices=BACKGROUNDS)
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-images", type=int, default=500)
    parser.add_argument(
        "--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES
    )
    ResultsStore.add_arguments(parser, "applications/ensembles_multitask/protocol")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.data, args.train_size, args.members = "digits", 200, 2
        args.epochs, args.eval_images, args.seeds = 1, 16, [0]
    if args.members < 2:
        parser.error("--members must be >= 2")
    return args


def per_image_scores(maps, masks):
    """Every metric for every image of `(N, H, W)` non-negative maps."""
    intersection, union = overlap_pixels(maps, masks)
    return {
        "iou": iou(maps, masks, threshold=0.3),
        "pearson": pearson_correlation(maps, masks, size=14),
        "com_distance": center_of_mass_distance(maps, center_of_mass(masks)),
        "intersection_px": intersection,
        "union_px": union,
    }


def paired(ensemble, other, higher_is_better):
    """Ens-Avg against another arm over the same images."""
    difference = np.asarray(ensemble) - np.asarray(other)
    better = difference > 0 if higher_is_better else difference < 0
    nonzero = difference[difference != 0]
    p_value = (
        float(stats.wilcoxon(nonzero).pvalue) if nonzero.size >= 10 else float("nan")
    )
    return {
        "mean_difference": float(difference.mean()),
        "ens_better_share": float(better.mean()),
        "wilcoxon_p": p_value,
        "images": int(difference.size),
    }


def accuracy(model, x, y):
    return float(
        np.mean(np.argmax(model.predict(x, batch_size=512, verbose=0), -1) == y)
    )


def train_single(x, y, classes, seed, args):
    """The paper's Ind-Avg for k-fold and bagging: one model on all data."""
    keras.utils.set_random_seed(seed)
    model = ImageClassifier("lenet5", x.shape[1:], classes)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    return model


def run_seed(seed, strategy, data, single, args):
    x, y, images, labels, masks, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    template = ImageClassifier("lenet5", x.shape[1:], int(y.max()) + 1)
    ensemble = ExplanationEnsemble(
        template, num_members=args.members, strategy=strategy, seed=seed
    )
    ensemble.compile()
    start = time.time()
    ensemble.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    result = {
        "train_seconds": time.time() - start,
        "accuracy": {
            "ensemble": accuracy(ensemble, x_test, y_test),
            "mean_member": float(
                np.mean([accuracy(m, x_test, y_test) for m in ensemble.members])
            ),
            "single": accuracy(single, x_test, y_test),
        },
        "methods": {},
    }
    for name, explainer in EXPLAINERS.items():
        member_maps = ensemble.explain_members(images, explainer, targets=labels)
        arms = {
            # The averaged signed map, then its magnitude (Eq. 1).
            "ens_avg": per_image_scores(np.abs(member_maps.mean(axis=0)), masks),
            "single": per_image_scores(
                np.abs(np.asarray(explainer(single)(images, targets=labels))), masks
            ),
        }
        each = [per_image_scores(np.abs(m), masks) for m in member_maps]
        arms["mean_member"] = {
            metric: np.mean([s[metric] for s in each], axis=0) for metric in METRICS
        }
        result["methods"][name] = {
            "means": {
                arm: {m: float(np.mean(v)) for m, v in arms[arm].items()}
                for arm in ARMS
            },
            "ens_vs": {
                other: {
                    metric: paired(arms["ens_avg"][metric], arms[other][metric], higher)
                    for metric, higher in METRICS.items()
                }
                for other in ("mean_member", "single")
            },
        }
    return result


def report(store, args):
    print(
        f"\nbackground {args.background}; mean over seeds ± sample std (ddof = 1); "
        "Ens-Avg better: share of images, per seed"
    )
    print(
        "| builder | method | metric | Ens-Avg | mean member | single model | "
        "Ens-Avg better than single (per seed, Wilcoxon p) |"
    )
    print("|---|---|---|---|---|---|---|")
    table = {}
    for strategy in args.strategies:
        runs = [store.get(f"{strategy}/seed{s}") for s in args.seeds]
        runs = [r for r in runs if r is not None]
        if not runs:
            continue
        for method in EXPLAINERS:
            for metric in REPORTED_METRICS:
                cells = []
                for arm in ARMS:
                    values = [r["methods"][method]["means"][arm][metric] for r in runs]
                    spread = (
                        f" ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else ""
                    )
                    cells.append(f"{np.mean(values):.3f}{spread}")
                    table[f"{strategy}/{method}/{metric}/{arm}"] = values
                tests = []
                for r in runs:
                    test = r["methods"][method]["ens_vs"]["single"][metric]
                    share, p_value = test["ens_better_share"], test["wilcoxon_p"]
                    tests.append(f"{share:.2f} (p {p_value:.2g})")
                tests = ", ".join(tests)
                print(
                    f"| {strategy} | {method} | {metric} | "
                    + " | ".join(cells)
                    + f" | {tests} |"
                )
    plot_paired_differences(table, args)
    return table


def plot_paired_differences(table, args):
    """Per metric, Ens-Avg minus each other arm, per seed (one dot a seed)."""
    for metric in REPORTED_METRICS:
        better = METRICS[metric]
        differences = {}
        for strategy in args.strategies:
            for method in EXPLAINERS:
                ens = table.get(f"{strategy}/{method}/{metric}/ens_avg")
                if ens is None:
                    continue
                for arm in ARMS[1:]:
                    other = table[f"{strategy}/{method}/{metric}/{arm}"]
                    label = f"{strategy} {method} vs {arm.replace('_', ' ')}"
                    differences[label] = np.subtract(ens, other)
        if not differences:
            continue
        favours = "> 0" if better else "< 0"
        plot_per_seed(
            differences,
            os.path.join(args.output_dir, f"ens_avg_minus_{metric}.png"),
            xlabel=f"Ens-Avg − other arm, {metric} ({favours} favours Ens-Avg)",
            title=f"{args.background} background, per seed",
            references={"no difference": 0.0},
            figsize=(10.0, 0.9 + 0.35 * len(differences)),
        )


def measure(store, args):
    """Trains and measures, per seed, the strategies `store` lacks."""
    raw = load_default_dataset(args.data)
    rows = np.random.default_rng(0).permutation(len(raw.x_train))[: args.train_size]
    x, _ = with_backgrounds(raw.x_train[rows], args.background, seed=0)
    y = raw.y_train[rows]
    x_test, _ = with_backgrounds(raw.x_test, args.background, seed=1)
    images, labels = x_test[: args.eval_images], raw.y_test[: args.eval_images]
    # Object masks of the original (black-background) test images.
    _, masks = with_backgrounds(raw.x_test[: args.eval_images], "black")
    data = (x, y, images, labels, masks, x_test, raw.y_test)
    for seed in args.seeds:
        todo = [s for s in args.strategies if store.get(f"{s}/seed{seed}") is None]
        if not todo:
            continue
        single = train_single(x, y, len(raw.class_names), seed, args)
        for strategy in todo:
            result = run_seed(seed, strategy, data, single, args)
            acc = result["accuracy"]
            print(
                f"{strategy} seed {seed}: ensemble {acc['ensemble']:.4f}, mean "
                f"member {acc['mean_member']:.4f}, single {acc['single']:.4f} "
                f"({result['train_seconds']:.0f} s)"
            )
            store.put(f"{strategy}/seed{seed}", result)


def main(argv=None):
    return ResultsStore.run_experiment(
        parse_args(argv), measure, report, ignore=ADDS_RUNS_ONLY
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
