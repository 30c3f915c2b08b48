"""Explanation-consistency reweighting (Wu et al.) on Fashion-MNIST.

Part 1, comparison: for each backbone (LeNet-5, VGG-small) and seed, the
same classifier trained with plain CE (`none`), hard-negative mining
(`hnm`), Keras's focal loss (`focal`) and explanation-consistency
reweighting (`consistency`: GradCAM, ε = 0.1, ψ = tanh, D between heatmaps
at the image's size, a round every `--every` epochs after one plain epoch
as in the paper's Algorithm 1; `consistency_native`: D between the CAMs at
their own resolution; `consistency_eps0.03`: image-size D, ε = 0.03);
test accuracy and mIoU of GradCAM (true class, thresholded at 0.5) against
the garments' object masks on the test split.

Part 2, debiasing (§IV-D): 80 % of the training images get an artificial
bias — brightness + ½·std, brightness − ½·std, or magnitude × 1.5 (clipped
to [0, 1]) — and for each method the share of the remaining (unbiased)
images among the 20 % highest weights is recorded at every round (random
weights score 20 %). Ties in the weights (every flipped or misclassified
sample has weight 1) are broken by D, then by the index. Focal loss
reweights inside its loss: its weight of a sample is the modulating factor
(1 − p_t)^γ.

Resumable: finished runs are kept in `results.json` under `--output-dir`.

    python scripts/reproduce_consistency.py \
        --output-dir applications/explanation_consistency
    python scripts/reproduce_consistency.py --quick --output-dir /tmp/consistency_quick
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_xai.applications import ImageClassifier
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import load_default_dataset, object_masks
from keras_xai.explainers import GradCAM
from keras_xai.metrics import mean_iou
from keras_xai.training import SampleWeightDataset, reweighting_setup
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import plot_sweep

METHODS = ("none", "hnm", "focal", "consistency")
# Consistency variants: the reweighting options that differ from the default.
CONSISTENCY_VARIANTS = {
    "consistency": {},
    "consistency_native": {"distance_size": "native"},
    "consistency_eps0.03": {"epsilon": 0.03},
}
# Hard-negative-mining rules: L / max L (the default) and ψ(L) = tanh(L).
HNM_VARIANTS = {"hnm": {}, "hnm_tanh": {"psi": "tanh"}}
ALL_METHODS = ("none", *HNM_VARIANTS, "focal", *CONSISTENCY_VARIANTS)
DEBIASING_METHODS = ("hnm", "focal", "consistency")
BIASES = ("brighten", "darken", "scale")
FOCAL_GAMMA = 2.0


# Arguments that only add runs: left out of the results' fingerprint.
ADDS_RUNS_ONLY = ("seeds", "backbones", "no_debiasing", "biases", "methods")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser, backbones=["lenet5", "vgg_small"])
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="debiasing rounds")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-images", type=int, default=2000)
    parser.add_argument("--no-debiasing", action="store_true")
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=ALL_METHODS
    )
    parser.add_argument(
        "--lr-decay-epochs",
        type=int,
        default=0,
        help="multiply Adam's learning rate by 0.1 every N epochs (0: never)",
    )
    ResultsStore.add_arguments(parser, "applications/explanation_consistency")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.backbones, args.seeds = ["lenet5"], [0]
        args.train_size, args.epochs, args.rounds, args.eval_images = 256, 2, 2, 64
        args.every = 1
    args.biases = ("scale",) if args.quick else BIASES
    return args


def options_for(method, args, log_dir=None):
    if method in CONSISTENCY_VARIANTS:
        return {
            "every": args.every,
            "start_epoch": 1,
            "log_dir": log_dir,
            **CONSISTENCY_VARIANTS[method],
        }
    if method in HNM_VARIANTS:
        return {"every": args.every, "start_epoch": 1, **HNM_VARIANTS[method]}
    if method == "focal":
        return {"gamma": FOCAL_GAMMA}
    return {}


def train(backbone, method, seed, x, y, classes, epochs, args, options):
    """Trains one run; returns `(model, weights per round, D per round or
    None, seconds)`."""
    keras.utils.set_random_seed(seed)
    model = ImageClassifier(backbone, x.shape[1:], classes)
    dataset = SampleWeightDataset(
        x,
        y,
        batch_size=args.batch_size,
        seed=seed,
        num_classes=classes if method == "focal" else None,
    )
    kind = method
    if method in CONSISTENCY_VARIANTS:
        kind = "consistency"
    elif method in HNM_VARIANTS:
        kind = "hnm"
    setup = reweighting_setup(kind, dataset, **options)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=setup.loss, metrics=["accuracy"]
    )
    callbacks = list(setup.callbacks)
    if args.lr_decay_epochs:
        step = args.lr_decay_epochs
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda epoch: 1e-3 * 0.1 ** (epoch // step)
            )
        )
    focal = FocalWeights(x, y) if method == "focal" else None
    if focal is not None:
        callbacks.append(focal)
    start = time.time()
    model.fit(dataset, epochs=epochs, callbacks=callbacks, verbose=0)
    seconds = time.time() - start
    reweighting = setup.callbacks[0] if setup.callbacks else None
    history = focal.history if focal else (reweighting.history if reweighting else [])
    distances = None
    if kind == "consistency":
        distances = [result.distances for result in reweighting.results]
    return model, history, distances, seconds


def weight_statistics(weights):
    """How concentrated one round's weights are: mean, median, share below
    0.05, effective sample size `(Σw)² / (N Σw²)` and the share of the total
    weight carried by the heaviest 1 %."""
    weights = np.sort(np.asarray(weights, "float64"))
    total = weights.sum()
    if total <= 0:
        return {
            "mean": 0.0,
            "median": 0.0,
            "below_0.05": 1.0,
            "ess": 0.0,
            "top1_share": 0.0,
        }
    top = max(1, len(weights) // 100)
    return {
        "mean": float(weights.mean()),
        "median": float(np.median(weights)),
        "below_0.05": float(np.mean(weights < 0.05)),
        "ess": float(total**2 / (len(weights) * np.sum(weights**2))),
        "top1_share": float(weights[-top:].sum() / total),
    }


def top_fifth(weights, distances=None):
    """Indices of the 20 % highest weights; ties broken by `distances`
    (higher first), then by index."""
    weights = np.asarray(weights)
    keys = [np.arange(len(weights))]
    if distances is not None:
        keys.append(-np.asarray(distances))
    order = np.lexsort([*keys, -weights])
    return order[: len(weights) // 5]


class FocalWeights(keras.callbacks.Callback):
    """The focal loss's per-sample factor (1 − p_t)^γ at each epoch's start."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.history = x, y, []

    def on_epoch_begin(self, epoch, logs=None):
        probabilities = self.model.predict(self.x, batch_size=512, verbose=0)
        p_true = probabilities[np.arange(len(self.y)), self.y]
        self.history.append((1.0 - p_true) ** FOCAL_GAMMA)


def comparison(data, args, store):
    classes = len(data.class_names)
    rows = np.random.default_rng(0).permutation(len(data.x_train))[: args.train_size]
    x, y = data.x_train[rows], data.y_train[rows]
    images = data.x_test[: args.eval_images]
    labels = data.y_test[: args.eval_images]
    masks = object_masks(images)
    for seed in args.seeds:
        for backbone in args.backbones:
            for method in args.methods:
                key = f"{backbone}/{method}/{seed}"
                if store.get(key) is not None:
                    continue
                log_dir = None
                if method == "consistency" and seed == args.seeds[0]:
                    log_dir = os.path.join(args.output_dir, f"diagnostics_{backbone}")
                model, history, _, seconds = train(
                    backbone,
                    method,
                    seed,
                    x,
                    y,
                    classes,
                    args.epochs,
                    args,
                    options_for(method, args, log_dir),
                )
                probabilities = model.predict(data.x_test, batch_size=512, verbose=0)
                accuracy = float(np.mean(np.argmax(probabilities, -1) == data.y_test))
                cams = GradCAM(model)(images, labels)
                score = float(mean_iou(cams, masks, threshold=0.5))
                print(
                    f"{backbone} {method} seed {seed}: accuracy {accuracy:.4f}, "
                    f"GradCAM mIoU {score:.4f} ({seconds:.0f} s)"
                )
                run = {"accuracy": accuracy, "miou": score, "train_seconds": seconds}
                if history and method != "focal":
                    run["weight_rounds"] = [weight_statistics(w) for w in history]
                store.put(key, run)


def biased(x, kind, rng, fraction=0.8):
    """`x` with the bias `kind` on a random `fraction`; returns the mask too."""
    chosen = rng.random(len(x)) < fraction
    out = x.copy()
    std = x.std(axis=(1, 2, 3), keepdims=True)
    if kind == "brighten":
        out[chosen] = x[chosen] + 0.5 * std[chosen]
    elif kind == "darken":
        out[chosen] = x[chosen] - 0.5 * std[chosen]
    else:
        out[chosen] = x[chosen] * 1.5
    return np.clip(out, 0.0, 1.0).astype("float32"), chosen


def debiasing(data, args, store):
    classes = len(data.class_names)
    rows = np.random.default_rng(0).permutation(len(data.x_train))[: args.train_size]
    x, y = data.x_train[rows], data.y_train[rows]
    for kind in args.biases:
        xb, is_biased = biased(x, kind, np.random.default_rng(1))
        for method in DEBIASING_METHODS:
            key = f"debias/{kind}/{method}"
            if store.get(key) is not None:
                continue
            options = options_for(method, args)
            if method != "focal":
                options["every"] = 1
            _, history, distances, _ = train(
                "lenet5", method, 0, xb, y, classes, args.rounds + 1, args, options
            )
            shares = []
            for round_index in range(len(history) - args.rounds, len(history)):
                ties = None if distances is None else distances[round_index]
                top = top_fifth(history[round_index], ties)
                shares.append(float(np.mean(~is_biased[top])))
            print(f"debiasing {kind} {method}: unbiased share in top 20 % {shares}")
            store.put(key, {"unbiased_share_top20": shares})


def report(store, args):
    table = {}
    print("\n| backbone | method | test accuracy | GradCAM mIoU (0.5) | seeds |")
    print("|---|---|---|---|---|")
    for backbone in args.backbones:
        for method in ALL_METHODS:
            runs = [store.get(f"{backbone}/{method}/{s}") for s in args.seeds]
            runs = [r for r in runs if r is not None]
            if not runs:
                continue
            acc = np.array([r["accuracy"] for r in runs])
            miou = np.array([r["miou"] for r in runs])
            table[f"{backbone}/{method}"] = {
                "accuracy_mean": float(acc.mean()),
                "accuracy_std": float(acc.std()),
                "miou_mean": float(miou.mean()),
                "miou_std": float(miou.std()),
                "seeds": len(runs),
            }
            print(
                f"| {backbone} | {method} | {acc.mean():.4f} ± {acc.std():.4f} | "
                f"{miou.mean():.4f} ± {miou.std():.4f} | {len(runs)} |"
            )
    for kind in args.biases:
        series = {
            m: store.get(f"debias/{kind}/{m}")["unbiased_share_top20"]
            for m in (*DEBIASING_METHODS, "consistency_native")
            if store.get(f"debias/{kind}/{m}") is not None
        }
        if series:
            rounds = max(len(v) for v in series.values())
            series = {m: v for m, v in series.items() if len(v) == rounds}
            series["random"] = [0.2] * rounds
            plot_sweep(
                list(range(1, rounds + 1)),
                series,
                os.path.join(args.output_dir, f"debiasing_{kind}.png"),
                xlabel="reweighting round",
                ylabel="unbiased share of top-20 % weights",
                title=f"bias: {kind} 80 % of the training images",
            )
    store.finish(table=table)


def measure(store, args):
    """The comparison, then the debiasing runs, of those `store` lacks."""
    data = load_default_dataset(args.data)
    comparison(data, args, store)
    if not args.no_debiasing:
        debiasing(data, args, store)


def main(argv=None):
    return ResultsStore.run_experiment(
        parse_args(argv), measure, report, ignore=ADDS_RUNS_ONLY
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
