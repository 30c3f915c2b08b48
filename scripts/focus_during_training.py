"""Focus against accuracy while a classifier trains.

The Focus paper (Arias-Duart et al., `focus_metric.txt`) argues that Focus
reflects how well a model has learnt. This script checks it at small scale:
a fully convolutional classifier (`ImageClassifier(architecture,
pooling="avg", hidden_units=())`) trains on Fashion-MNIST, early stopping on
a validation split carved from the training images, and before training and
after every epoch `keras_xai.training.FocusMonitor` measures the median
Focus of GradCAM, LRP, Saliency and of random maps (the control: a map that
ignores the model scores about 0.5) on the same mosaics of test images,
with the model's accuracy on those test images.

Two settings: all ten classes (`ten_class`) and two clearly distinct
classes (`two_class`, Trouser vs Bag by default), whose mosaics hold two
images of each.

Writes `results.json` (resumable: finished runs are kept), the plot
`focus_vs_accuracy_<setting>.png` and `correlations_<setting>_<architecture>.json`,
and prints the correlation between accuracy and median Focus (Pearson and
Spearman over every checkpoint of every seed, and Spearman per seed).

    python scripts/focus_during_training.py --setting ten_class --seeds 0 1 2
    python scripts/focus_during_training.py --setting two_class --seeds 0 1 2
    python scripts/focus_during_training.py --quick
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np
from scipy import stats

from keras_xai.applications import ImageClassifier
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import load_default_dataset
from keras_xai.training import FocusMonitor
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import plot_score_against_accuracy

# Labels as the figure and results.json write them -> registry names (or the
# random-map control, built below).
METHODS = {
    "GradCAM": "gradcam",
    "LRP": "lrp",
    "Saliency": "saliency",
    "random": None,
}
SETTINGS = ("ten_class", "two_class")


def random_maps(seed):
    """A factory of the control explainer: uniform noise, whatever the model."""

    def factory(model):
        rng = np.random.default_rng(seed)

        def explain(images, targets):
            return rng.random(np.shape(images)[:3]).astype("float32")

        return explain

    return factory


# Arguments that only add runs: left out of the results' fingerprint.
ADDS_RUNS_ONLY = ("seeds", "setting", "architecture", "methods")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser)
    parser.add_argument("--setting", default="ten_class", choices=SETTINGS)
    parser.add_argument(
        "--classes",
        type=int,
        nargs=2,
        default=[1, 8],
        help="the two classes of the two_class setting (Fashion-MNIST 1 "
        "Trouser, 8 Bag)",
    )
    parser.add_argument("--architecture", default="vgg_small")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--num-mosaics", type=int, default=300)
    parser.add_argument(
        "--test-images", type=int, default=2000, help="test images (mosaics, accuracy)"
    )
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS)
    )
    ResultsStore.add_arguments(parser, "applications/focus_metric/during_training")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.data, args.architecture, args.seeds = "digits", "lenet5", [0]
        args.max_epochs, args.num_mosaics, args.test_images = 2, 6, 120
    if args.max_epochs < 1 or args.patience < 1 or args.num_mosaics < 1:
        parser.error("--max-epochs, --patience and --num-mosaics must be >= 1")
    if not 0.0 < args.validation_fraction < 0.5:
        parser.error("--validation-fraction must be in (0, 0.5)")
    if args.setting == "two_class" and args.classes[0] == args.classes[1]:
        parser.error("--classes must name two different classes")
    return args


def setting_data(data, args):
    """`(x_train, y_train, x_test, y_test, class_names)` of the setting."""
    x_train, y_train = data.x_train, data.y_train
    x_test, y_test = data.x_test, data.y_test
    names = list(data.class_names)
    if args.setting == "two_class":
        classes = np.asarray(args.classes)
        if classes.max() >= len(names) or classes.min() < 0:
            raise ValueError(
                f"--classes must be in [0, {len(names)}). Received {args.classes}"
            )

        def keep(x, y):
            chosen = np.isin(y, classes)
            return x[chosen], (y[chosen] == classes[1]).astype("int32")

        x_train, y_train = keep(x_train, y_train)
        x_test, y_test = keep(x_test, y_test)
        names = [names[c] for c in classes]
    order = np.random.default_rng(0).permutation(len(x_test))[: args.test_images]
    return x_train, y_train, x_test[order], y_test[order], names


def run(seed, data, args, log):
    """Trains one seed; returns the per-checkpoint records."""
    x_train, y_train, x_test, y_test, names = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_train))
    held = int(round(args.validation_fraction * len(x_train)))
    validation, training = order[:held], order[held:]
    keras.utils.set_random_seed(seed)
    model = ImageClassifier(
        args.architecture,
        x_train.shape[1:],
        len(names),
        pooling="avg",
        hidden_units=(),
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    explainers = {
        label: name if name is not None else random_maps(seed)
        for label, name in METHODS.items()
        if label in args.methods
    }
    monitor = FocusMonitor(
        x_test, y_test, explainers, num_mosaics=args.num_mosaics, seed=seed
    )
    start = time.time()
    history = model.fit(
        x_train[training],
        y_train[training],
        validation_data=(x_train[validation], y_train[validation]),
        epochs=args.max_epochs,
        batch_size=args.batch_size,
        verbose=0,
        callbacks=[
            monitor,
            keras.callbacks.EarlyStopping(patience=args.patience),
        ],
    )
    for record in monitor.history:
        focus = ", ".join(
            f"{label} {record[label]['median']:.3f}" for label in explainers
        )
        log(f"  epoch {record['epoch']}: accuracy {record['accuracy']:.4f}; {focus}")
    return {
        "checkpoints": [
            {
                "epoch": record["epoch"],
                "accuracy": record["accuracy"],
                **{
                    label: {k: record[label][k] for k in ("median", "mean")}
                    for label in explainers
                },
            }
            for record in monitor.history
        ],
        "val_accuracy": [float(v) for v in history.history["val_accuracy"]],
        "seconds": time.time() - start,
    }


def correlations(runs, method):
    """Pearson and Spearman of (accuracy, median Focus) pooled and per run."""
    pooled_x, pooled_y, per_run = [], [], []
    for result in runs:
        x = [c["accuracy"] for c in result["checkpoints"]]
        y = [c[method]["median"] for c in result["checkpoints"]]
        pooled_x += x
        pooled_y += y
        if len(x) > 2 and np.ptp(y) > 0 and np.ptp(x) > 0:
            per_run.append(float(stats.spearmanr(x, y).statistic))
    if len(pooled_x) < 3 or np.ptp(pooled_y) == 0 or np.ptp(pooled_x) == 0:
        return None
    return {
        "pearson": float(stats.pearsonr(pooled_x, pooled_y).statistic),
        "spearman": float(stats.spearmanr(pooled_x, pooled_y).statistic),
        "spearman_per_run": per_run,
        "checkpoints": len(pooled_x),
    }


def report(store, args, log=print):
    """Prints the correlations, plots them and writes them as JSON.

    Returns:
        `{method: correlations}`, empty without a finished run.
    """
    runs = [store.get(f"{args.setting}/{args.architecture}/{s}") for s in args.seeds]
    runs = [r for r in runs if r is not None]
    if not runs:
        log("no finished run to report")
        return {}
    methods = [m for m in args.methods if m in runs[0]["checkpoints"][0]]
    table = {}
    log(
        f"\n{args.setting}, {args.architecture}, {len(runs)} seed(s): "
        "correlation of test accuracy with median Focus over all checkpoints"
    )
    log("| method | Pearson | Spearman | Spearman per seed | final median Focus |")
    log("|---|---|---|---|---|")
    for method in methods:
        result = correlations(runs, method)
        final = [r["checkpoints"][-1][method]["median"] for r in runs]
        table[method] = {"final_median": final, **(result or {})}
        if result is None:
            log(f"| {method} | n/a | n/a | n/a | {np.mean(final):.3f} |")
            continue
        per_seed = ", ".join(f"{v:.2f}" for v in result["spearman_per_run"])
        log(
            f"| {method} | {result['pearson']:.2f} | {result['spearman']:.2f} | "
            f"{per_seed} | {np.mean(final):.3f} |"
        )
    plot_score_against_accuracy(
        {
            method: [
                (
                    [c["accuracy"] for c in r["checkpoints"]],
                    [c[method]["median"] for c in r["checkpoints"]],
                )
                for r in runs
            ]
            for method in methods
        },
        os.path.join(args.output_dir, f"focus_vs_accuracy_{args.setting}.png"),
        title=f"{args.setting}, {args.architecture}",
        chance=0.5,
    )
    if table:
        path = os.path.join(
            args.output_dir, f"correlations_{args.setting}_{args.architecture}.json"
        )
        with open(path, "w") as file:
            json.dump({"seeds": args.seeds, "methods": table}, file, indent=1)
    return table


def measure(store, args, log=print):
    """Trains, per seed, the runs of the setting `store` lacks."""
    data = setting_data(load_default_dataset(args.data), args)
    for seed in args.seeds:
        key = f"{args.setting}/{args.architecture}/{seed}"
        if store.get(key) is not None:
            log(f"{key}: stored")
            continue
        log(f"{key}: training (at most {args.max_epochs} epochs)")
        result = run(seed, data, args, log)
        result["classes"] = list(args.classes) if args.setting == "two_class" else None
        store.put(key, result)


def main(argv=None):
    return ResultsStore.run_experiment(
        parse_args(argv), measure, report, ignore=ADDS_RUNS_ONLY
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
