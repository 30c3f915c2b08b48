"""Reproduces the Focus paper's findings on Fashion-MNIST mosaics.

Arias-Duart et al., "Who Explains the Explanation? Quantitatively Assessing
Feature Attribution Methods" (`focus_metric.txt`), re-run at small scale:
two fully convolutional classifiers with global average pooling (LeNet-5 and
a small VGG-style CNN) are trained on the Fashion-MNIST training set at
28x28 and rebuilt with the same weights at 56x56, the size of a 2x2 mosaic
of test images. For each trained model and for a randomly initialised model
of the same architecture the script measures the Focus distribution of
several attribution methods (GradCAM, LRP and SmoothGrad as in the paper,
plus the other explainers that apply), and the cascading-randomisation
curve (Focus vs. number of top layers re-initialised) for GradCAM and LRP.

Writes `results.json` and the plots `focus_trained.png`, `focus_random.png`
and `randomization.png` to `--output-dir`, and prints a Markdown table of
the medians and means.

    KERAS_BACKEND=tensorflow python scripts/reproduce_focus.py
    KERAS_BACKEND=tensorflow python scripts/reproduce_focus.py --quick
"""

import argparse
import datetime
import functools
import importlib.metadata
import json
import os
import platform
import sys
import time

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset, make_mosaics
from keras_xai.explainers.by_name import build_explainer
from keras_xai.metrics import (
    cascading_randomization,
    direction_label,
    focus,
    focus_evaluation,
    randomization_curve,
)

# The methods' labels (as the paper writes them, the keys of results.json)
# and the names of the explainer registry they stand for.
METHOD_NAMES = {
    "GradCAM": "gradcam",
    "GradCAM++": "gradcam++",
    "XGradCAM": "xgradcam",
    "EigenCAM": "eigencam",
    "LRP": "lrp",
    "Saliency": "saliency",
    "InputXGradient": "input_x_gradient",
    "SmoothGrad": "smoothgrad",
    "IntegratedGradients": "integrated_gradients",
}
PAPER_METHODS = ("GradCAM", "LRP", "SmoothGrad")
ALL_METHODS = tuple(METHOD_NAMES)
CASCADE_METHODS = ("GradCAM", "LRP")
CHANCE = 0.5
# Tolerances of the automatic checks in results.json (see README.md).
NEAR_CHANCE = 0.05
WELL_ABOVE_CHANCE = 0.6

# Settings of the full run and of `--quick` (a smoke run: a small training
# subset, one epoch, a few mosaics, the paper's three methods). Explicit
# flags override either.
FULL = {
    "epochs": 3,
    "num_mosaics": 500,
    "train_size": None,
    "smoothgrad_samples": 25,
    "ig_steps": 20,
    "top_layer_draws": 5,
    "methods": ALL_METHODS,
}
QUICK = {
    "epochs": 1,
    "num_mosaics": 12,
    "train_size": 1000,
    "smoothgrad_samples": 2,
    "ig_steps": 2,
    "top_layer_draws": 2,
    "methods": PAPER_METHODS,
}


# === Models ===


def build_lenet5(image_shape, num_classes):
    """LeNet-5 with global average pooling and no hidden dense layers, so it
    accepts 2H x 2W mosaics with the weights learnt at H x W."""
    return ImageClassifier(
        "lenet5", image_shape, num_classes, pooling="avg", hidden_units=()
    )


def build_vgg_small(image_shape, num_classes):
    """The library's small VGG-style CNN (`ImageClassifier('vgg_small')`):
    three blocks of two 3x3 Conv2D+ReLU, max pooling after the first two,
    global average pooling, a `logits` Dense layer and a softmax. Only layers
    LRP supports; feature map 7x7 at 28x28 (14x14 on a 56x56 mosaic, so each
    quadrant is exactly 7x7 cells)."""
    return ImageClassifier(
        "vgg_small", image_shape, num_classes, pooling="avg", hidden_units=()
    )


MODELS = {
    "lenet5_gap": (
        "LeNet-5 (conv5x5x6, pool, conv5x5x16, pool), global average pooling, "
        "Dense logits (library ImageClassifier('lenet5', pooling='avg', "
        "hidden_units=()))",
        build_lenet5,
    ),
    "vgg_small": (
        "VGG-style CNN: 2x conv3x3x16, pool, 2x conv3x3x32, pool, 2x "
        "conv3x3x64, global average pooling, Dense logits (library "
        "ImageClassifier('vgg_small', pooling='avg', hidden_units=()))",
        build_vgg_small,
    ),
}
MODEL_LABELS = {"lenet5_gap": "LeNet-5 (GAP)", "vgg_small": "VGG-small (6 conv)"}


def at_size(model, builder, image_shape):
    """The same weights in a model built for `image_shape` (e.g. mosaics)."""
    if isinstance(model, ImageClassifier):
        copy = ImageClassifier.from_config(
            {**model.get_config(), "image_shape": image_shape}
        )
    else:
        copy = builder(image_shape, int(model.outputs[0].shape[-1]))
    copy.set_weights(model.get_weights())
    return copy


def explainer_factories(args):
    """`{label: model -> explainer}` for `args.methods`, from the registry."""
    options = {
        "smoothgrad": {"n": args.smoothgrad_samples, "sigma": 0.15, "seed": args.seed},
        "integrated_gradients": {"steps": args.ig_steps},
    }
    factories = {}
    for label in args.methods:
        name = METHOD_NAMES[label]
        factories[label] = functools.partial(
            build_explainer, name, **options.get(name, {})
        )
    return factories


# === Arguments ===


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog="Defaults are those of the full run; --quick lowers them "
        f"({', '.join(f'{k}={v}' for k, v in QUICK.items() if k != 'methods')}, "
        "methods GradCAM LRP SmoothGrad). Explicit flags win over both.",
    )
    parser.add_argument(
        "--output-dir",
        default=os.path.join("applications", "focus_metric"),
        help="where results.json and the PNGs go (default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        default="fashion_mnist",
        choices=["fashion_mnist", "auto", "digits"],
        help="dataset (default: %(default)s; 'digits' is scikit-learn's, "
        "resized to 28x28, for smoke tests)",
    )
    parser.add_argument(
        "--epochs", type=int, help=f"training epochs (default: {FULL['epochs']})"
    )
    parser.add_argument(
        "--num-mosaics",
        type=int,
        help=f"mosaics of test images per evaluation (default: {FULL['num_mosaics']})",
    )
    parser.add_argument(
        "--train-size",
        type=int,
        help="training images used (default: the whole training set)",
    )
    parser.add_argument(
        "--smoothgrad-samples",
        type=int,
        help=f"noisy samples of SmoothGrad (default: {FULL['smoothgrad_samples']})",
    )
    parser.add_argument(
        "--ig-steps",
        type=int,
        help=f"steps of Integrated Gradients (default: {FULL['ig_steps']})",
    )
    parser.add_argument(
        "--top-layer-draws",
        type=int,
        help="independent re-initialisations of the top layer alone, seeds "
        "SEED, SEED+1, ... (the first is the cascade's first step; default: "
        f"{FULL['top_layer_draws']})",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=ALL_METHODS,
        help="attribution methods (default: all of them)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="architectures (default: all of them)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the initialisation, the data subset, the mosaics, the "
        "SmoothGrad noise and the re-drawn weights (default: %(default)s)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fast smoke run (about a minute; its numbers are not meaningful)",
    )
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in (
        "epochs",
        "num_mosaics",
        "train_size",
        "smoothgrad_samples",
        "ig_steps",
        "top_layer_draws",
        "batch_size",
    ):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1 (received {value})")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0 (received {args.seed})")
    args.methods = [m for m in ALL_METHODS if m in args.methods]
    return args


# === Statistics ===


def summarize(scores, empty, targets, seed):
    """Median, mean, spread, bootstrap 95% CI of the median, empty maps and
    the median per target class."""
    scores = np.asarray(scores, dtype="float64")
    targets = np.asarray(targets)
    rng = np.random.default_rng(seed)
    resampled = rng.choice(scores, size=(1000, scores.size), replace=True)
    low, high = np.percentile(np.median(resampled, axis=1), [2.5, 97.5])
    nonempty = scores[~np.asarray(empty)]
    return {
        "median": float(np.median(scores)),
        "median_ci95": [float(low), float(high)],
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "q25": float(np.percentile(scores, 25)),
        "q75": float(np.percentile(scores, 75)),
        "share_above_0.5": float(np.mean(scores > CHANCE)),
        "empty_maps": int(np.sum(empty)),
        "median_nonempty": float(np.median(nonempty)) if nonempty.size else None,
        "median_by_target_class": {
            int(c): float(np.median(scores[targets == c])) for c in np.unique(targets)
        },
        "n": int(scores.size),
    }


def empty_maps(maps):
    """Whether each map has no positive relevance (Focus then scores 0.5)."""
    maps = np.asarray(maps)
    return np.max(maps.reshape(len(maps), -1), axis=1) <= 0


def accuracy(model, images, labels, batch_size):
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=-1) == labels))


# === Plots ===


def _canvas(rows, width, height):
    figure = Figure(figsize=(width, height * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(rows, 1, squeeze=False)[:, 0]


def plot_distributions(focus_results, models, state, accuracies, path):
    """One panel per model: a box per method, the 0.5 chance line."""
    methods = list(next(iter(focus_results.values()))[state])
    figure, axes = _canvas(len(models), 1.5 + 0.95 * len(methods), 3.2)
    for ax, name in zip(axes, models):
        per_method = focus_results[name][state]
        positions = np.arange(1, len(methods) + 1)
        ax.boxplot(
            [per_method[m]["scores"] for m in methods],
            positions=positions,
            widths=0.6,
            showmeans=True,
            meanprops={"marker": "^", "markersize": 4},
        )
        ax.axhline(CHANCE, color="gray", linestyle="--", linewidth=1, label="0.5")
        ax.set_xticks(positions)
        ax.set_xticklabels(methods, rotation=20, ha="right")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(f"Focus ({direction_label(focus)})")
        ax.set_title(
            f"{MODEL_LABELS[name]}, {state} weights "
            f"(test accuracy {accuracies[name][state]:.3f}, "
            f"{len(per_method[methods[0]]['scores'])} mosaics)",
            fontsize="medium",
        )
    figure.savefig(path, format="png")
    return path


def plot_cascades(cascades, path):
    """One panel per model: median Focus (IQR band) vs. layers randomised."""
    models = list(cascades)
    figure, axes = _canvas(len(models), 6.5, 3.4)
    for ax, name in zip(axes, models):
        curve = cascades[name]
        layers = curve["layers"]
        steps = np.arange(len(layers))
        for method in CASCADE_METHODS:
            if method not in curve["methods"]:
                continue
            stats = curve["methods"][method]
            (line,) = ax.plot(steps, stats["median"], marker="o", label=method)
            ax.fill_between(
                steps, stats["q25"], stats["q75"], color=line.get_color(), alpha=0.15
            )
            draws = curve["top_layer_draws"]["methods"][method]["median"]
            offset = -0.08 if method == CASCADE_METHODS[0] else 0.08
            ax.scatter(
                np.full(len(draws), 1 + offset),
                draws,
                marker="_",
                s=120,
                color=line.get_color(),
                label=f"{method}, top layer only, {len(draws)} draws",
            )
        ax.axhline(CHANCE, color="gray", linestyle="--", linewidth=1, label="0.5")
        ax.set_xticks(steps)
        ax.set_xticklabels(
            ["original"] + [f"+{layer}" for layer in layers[1:]],
            rotation=30,
            ha="right",
        )
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("layers re-initialised, top (output) layer first, cumulative")
        ax.set_ylabel("median Focus (IQR band)")
        ax.set_title(
            f"Cascading randomisation, {MODEL_LABELS[name]}", fontsize="medium"
        )
        ax.legend(fontsize="small", loc="upper right", ncol=2)
    figure.savefig(path, format="png")
    return path


# === Run ===


def train(name, builder, data, x_train, y_train, args, log):
    keras.utils.set_random_seed(args.seed)
    shape, num_classes = data.x_test.shape[1:], len(data.class_names)
    model = builder(shape, num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=2 if not args.quick else 0,
    )
    log(f"[{name}] trained {args.epochs} epoch(s) in {time.time() - start:.0f} s")
    # A random model of the same architecture, from another seed.
    keras.utils.set_random_seed(args.seed + 1)
    random_model = builder(shape, num_classes)
    return model, random_model, time.time() - start


def evaluate_focus(model, factories, x_test, y_test, args, log, tag):
    results = {}
    for method, factory in factories.items():
        start = time.time()
        result = focus_evaluation(
            model, factory, x_test, y_test, args.num_mosaics, seed=args.seed
        )
        stats = summarize(
            result["scores"], result["empty_maps"], result["targets"], args.seed
        )
        stats["seconds"] = round(time.time() - start, 2)
        stats["scores"] = result["scores"]
        results[method] = stats
        log(
            f"[{tag}] {method:>19}: median {stats['median']:.3f} "
            f"mean {stats['mean']:.3f} empty {stats['empty_maps']} "
            f"({stats['seconds']:.1f} s)"
        )
    return results


def evaluate_cascade(model, factories, x_test, y_test, args, log, tag):
    """Cascading randomisation (top layer first) for GradCAM and LRP, then
    `--top-layer-draws` independent re-initialisations of the top layer."""
    mosaics, targets, flags, _ = make_mosaics(
        x_test, y_test, args.num_mosaics, seed=args.seed
    )
    curves, draws = {}, {}
    layers = None
    for method in CASCADE_METHODS:
        if method not in factories:
            continue
        start = time.time()
        empties = []

        def metric(maps, empties=empties):
            empties.append(int(np.sum(empty_maps(maps))))
            return focus(maps, flags)

        curve = randomization_curve(
            model, factories[method], mosaics, targets, metric=metric, seed=args.seed
        )
        layers = curve["layers"]
        per_step = curve["per_image_scores"]
        curves[method] = {
            "median": [float(np.median(s)) for s in per_step],
            "mean": [float(s) for s in curve["scores"]],
            "q25": [float(np.percentile(s, 25)) for s in per_step],
            "q75": [float(np.percentile(s, 75)) for s in per_step],
            "empty_maps": empties,
            "seconds": round(time.time() - start, 2),
        }
        log(
            f"[{tag}] cascade {method}: medians "
            + ", ".join(
                f"{layer} {value:.3f}"
                for layer, value in zip(layers, curves[method]["median"])
            )
            + f" ({time.time() - start:.1f} s)"
        )
    if layers is None:
        return {"layers": None, "methods": curves, "top_layer_draws": draws}

    # The cascade's first step is one random draw of the top layer; with 10
    # classes its Focus depends on that draw, so repeat it with other seeds.
    start = time.time()
    seeds = list(range(args.seed, args.seed + args.top_layer_draws))
    for seed in seeds:
        ((_, randomized),) = cascading_randomization(
            model, layers=[layers[1]], seed=seed
        )
        for method in curves:
            maps = factories[method](randomized)(mosaics, targets)
            scores = focus(maps, flags)
            entry = draws.setdefault(
                method,
                {"median": [], "mean": [], "empty_maps": [], "by_target_class": []},
            )
            entry["median"].append(float(np.median(scores)))
            entry["mean"].append(float(np.mean(scores)))
            entry["empty_maps"].append(int(np.sum(empty_maps(maps))))
            entry["by_target_class"].append(
                [float(np.median(scores[targets == c])) for c in np.unique(targets)]
            )
    for method, entry in draws.items():
        log(
            f"[{tag}] {method} with only {layers[1]!r} re-initialised, seeds "
            f"{seeds}: medians "
            + ", ".join(f"{v:.3f}" for v in entry["median"])
            + f" (mean of medians {np.mean(entry['median']):.3f})"
        )
    log(f"[{tag}] top-layer draws took {time.time() - start:.1f} s")
    return {
        "layers": layers,
        "methods": curves,
        "top_layer_draws": {"layer": layers[1], "seeds": seeds, "methods": draws},
    }


def check_findings(focus_results, cascades):
    """The paper's claims as explicit, tolerance-based checks."""

    def near_chance(value):
        return abs(value - CHANCE) <= NEAR_CHANCE

    checks = []
    for name, states in focus_results.items():
        random_medians = {m: s["median"] for m, s in states["random"].items()}
        checks.append(
            {
                "claim": "a random model scores about 0.5",
                "model": name,
                "criterion": f"|median - 0.5| <= {NEAR_CHANCE} for every method",
                "values": random_medians,
                "holds": all(near_chance(v) for v in random_medians.values()),
                "holds_for": [m for m, v in random_medians.items() if near_chance(v)],
            }
        )
        trained = states["trained"]
        for method in ("GradCAM", "LRP"):
            if method in trained:
                checks.append(
                    {
                        "claim": f"{method} scores well above 0.5 on a trained model",
                        "model": name,
                        "criterion": f"median >= {WELL_ABOVE_CHANCE}",
                        "values": {method: trained[method]["median"]},
                        "holds": trained[method]["median"] >= WELL_ABOVE_CHANCE,
                    }
                )
        if "SmoothGrad" in trained:
            value = trained["SmoothGrad"]["median"]
            checks.append(
                {
                    "claim": "SmoothGrad stays near random on a trained model",
                    "model": name,
                    "criterion": f"|median - 0.5| <= {NEAR_CHANCE}",
                    "values": {"SmoothGrad": value},
                    "holds": near_chance(value),
                }
            )
    for name, curve in cascades.items():
        for method, stats in curve["methods"].items():
            top = curve["layers"][1]
            value = stats["median"][1]
            checks.append(
                {
                    "claim": f"randomising the top layer drops {method}'s Focus "
                    "to about 0.5 (the cascade's draw)",
                    "model": name,
                    "criterion": f"|median after re-initialising {top!r} - 0.5| "
                    f"<= {NEAR_CHANCE}",
                    "values": {method: value},
                    "holds": near_chance(value),
                }
            )
            medians = curve["top_layer_draws"]["methods"][method]["median"]
            checks.append(
                {
                    "claim": f"randomising the top layer drops {method}'s Focus "
                    f"to about 0.5 (average over {len(medians)} draws)",
                    "model": name,
                    "criterion": f"|mean over draws of the median - 0.5| <= "
                    f"{NEAR_CHANCE}",
                    "values": {
                        f"{method} mean of medians": float(np.mean(medians)),
                        "lowest draw": float(np.min(medians)),
                        "highest draw": float(np.max(medians)),
                    },
                    "holds": near_chance(float(np.mean(medians))),
                }
            )
    return checks


def markdown_table(focus_results, accuracies):
    lines = [
        "| model | method | trained median | trained mean | random median | "
        "random mean |",
        "|---|---|---|---|---|---|",
    ]
    for name, states in focus_results.items():
        label = (
            f"{MODEL_LABELS[name]} (acc. {accuracies[name]['trained']:.3f} / "
            f"{accuracies[name]['random']:.3f})"
        )
        for method, trained in states["trained"].items():
            random = states["random"][method]
            lines.append(
                f"| {label} | {method} | {trained['median']:.3f} | "
                f"{trained['mean']:.3f} | {random['median']:.3f} | "
                f"{random['mean']:.3f} |"
            )
            label = ""
    return "\n".join(lines)


def _distribution_version(*names):
    """The installed version of the first of `names` that is installed."""
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def environment():
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "keras_backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
    }
    if keras.backend.backend() == "tensorflow":
        info["tensorflow"] = _distribution_version("tensorflow", "tensorflow-cpu")
    return info


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    log = print
    env = environment()
    data = load_default_dataset(args.data)
    if args.data == "auto" and data.name != "fashion_mnist":
        log("Fashion-MNIST is not installed; using scikit-learn's digits instead.")
    rng = np.random.default_rng(args.seed)
    rows = rng.permutation(len(data.x_train))[: args.train_size]
    x_train, y_train = data.x_train[rows], data.y_train[rows]
    x_test, y_test = data.x_test, data.y_test
    mosaic_shape = (2 * x_test.shape[1], 2 * x_test.shape[2], x_test.shape[3])
    log(
        f"data: {data.name}, {len(x_train)} training images, mosaics of "
        f"{len(x_test)} test images, {mosaic_shape[0]}x{mosaic_shape[1]}; "
        f"methods: {', '.join(args.methods)}"
    )
    os.makedirs(args.output_dir, exist_ok=True)
    factories = explainer_factories(args)

    accuracies, focus_results, cascades, models_info, timings = {}, {}, {}, {}, {}
    for name in args.models:
        description, builder = MODELS[name]
        trained, random_model, seconds = train(
            name, builder, data, x_train, y_train, args, log
        )
        timings[f"{name}/train"] = round(seconds, 1)
        accuracies[name] = {
            "trained": accuracy(trained, x_test, y_test, 256),
            "random": accuracy(random_model, x_test, y_test, 256),
        }
        log(
            f"[{name}] test accuracy: trained {accuracies[name]['trained']:.4f}, "
            f"random {accuracies[name]['random']:.4f}"
        )
        models_info[name] = {
            "description": description,
            "parameters": int(trained.count_params()),
            "layers_with_weights": [
                layer.name for layer in trained.layers if layer.trainable_weights
            ],
            "test_accuracy": accuracies[name],
            "trained_at": list(x_test.shape[1:]),
            "evaluated_at": list(mosaic_shape),
        }
        focus_results[name] = {}
        for state, model in (("trained", trained), ("random", random_model)):
            start = time.time()
            mosaic_model = at_size(model, builder, mosaic_shape)
            focus_results[name][state] = evaluate_focus(
                mosaic_model, factories, x_test, y_test, args, log, f"{name}/{state}"
            )
            timings[f"{name}/focus_{state}"] = round(time.time() - start, 1)
        start = time.time()
        cascades[name] = evaluate_cascade(
            at_size(trained, builder, mosaic_shape),
            factories,
            x_test,
            y_test,
            args,
            log,
            f"{name}/trained",
        )
        timings[f"{name}/cascade"] = round(time.time() - start, 1)

    paths = {
        "focus_trained": plot_distributions(
            focus_results,
            args.models,
            "trained",
            accuracies,
            os.path.join(args.output_dir, "focus_trained.png"),
        ),
        "focus_random": plot_distributions(
            focus_results,
            args.models,
            "random",
            accuracies,
            os.path.join(args.output_dir, "focus_random.png"),
        ),
    }
    if any(curve["methods"] for curve in cascades.values()):
        paths["randomization"] = plot_cascades(
            cascades, os.path.join(args.output_dir, "randomization.png")
        )
    timings["total"] = round(time.time() - started, 1)

    table = markdown_table(focus_results, accuracies)
    for states in focus_results.values():
        for per_method in states.values():
            for stats in per_method.values():
                del stats["scores"]
    results = {
        "paper": "Arias-Duart et al., Who Explains the Explanation? "
        "Quantitatively Assessing Feature Attribution Methods (Focus)",
        "command": " ".join(
            ["python scripts/reproduce_focus.py"]
            + list(argv if argv is not None else sys.argv[1:])
        ),
        "settings": {
            "data": data.name,
            "train_images": int(len(x_train)),
            "test_images": int(len(x_test)),
            "mosaic_shape": list(mosaic_shape),
            "num_mosaics": args.num_mosaics,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": "Adam(1e-3)",
            "seed": args.seed,
            "random_model_seed": args.seed + 1,
            "methods": args.methods,
            "method_options": {
                "SmoothGrad": {
                    "n": args.smoothgrad_samples,
                    "sigma": 0.15,
                    "base": "saliency",
                },
                "IntegratedGradients": {"steps": args.ig_steps, "baseline": 0.0},
                "LRP": {
                    "first_rule": "zB",
                    "conv_rule": "alpha1beta0",
                    "dense_rule": "epsilon",
                },
                "CAMs": "last 4-D layer (LeNet-5: pool2, VGG-small: block3_conv2)",
            },
            "empty_maps": "a map without positive relevance scores 0.5 "
            "(keras_xai.metrics.focus default); counted in empty_maps",
            "quick": args.quick,
        },
        "environment": env,
        "models": models_info,
        "focus": focus_results,
        "randomization": cascades,
        "checks": check_findings(focus_results, cascades),
        "timings_seconds": timings,
    }
    path = os.path.join(args.output_dir, "results.json")
    with open(path, "w") as file:
        json.dump(results, file, indent=1)
        file.write("\n")
    log("\n" + table + "\n")
    for check in results["checks"]:
        log(
            f"{'HOLDS ' if check['holds'] else 'FAILS '} {check['model']}: "
            f"{check['claim']} ({check['criterion']}; "
            + ", ".join(f"{k} {v:.3f}" for k, v in check["values"].items())
            + ")"
        )
    log(f"results written to {path}; plots: {', '.join(paths.values())}")
    log(f"total time {timings['total']:.0f} s")
    return results


if __name__ == "__main__":
    main()
