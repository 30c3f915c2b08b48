"""Reproduces the IMPACTX comparison (Apicella et al., §4–5) on Fashion-MNIST.

For each seed, on a seeded training subset and the whole test split:
- `A`: LeNet-5 trained `--stage1-epochs` (IMPACTX's stage 1), and the same
  model trained `--stage2-epochs` more (the baseline, so IMPACTX is not
  credited for extra epochs);
- IMPACTX with GradCAM targets and with PartitionSHAP targets (the paper's
  `R`; `--shap-evals` evaluations per image), both computed on `A` for the
  true class and trained `--stage2-epochs` with `λ = 1`;
- ABN trained `stage1 + stage2` epochs;
then MoRF curves / AOPC on the first `--eval-images` test images of each
self-explaining model's own maps vs PartitionSHAP maps computed on that same
model. Seed 0 also runs the λ sweep (GradCAM targets) and writes the
example figure (image, SHAP target, IMPACTX's own map, post-hoc SHAP on
IMPACTX, ABN's attention).

Everything is resumable: trained models, attribution targets and finished
measurements are kept under `--output-dir`; rerun the same command after an
interruption and it continues.

    python scripts/reproduce_impactx.py --output-dir applications/impactx
    python scripts/reproduce_impactx.py --quick --output-dir /tmp/impactx_quick
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_xai.applications import ABN, IMPACTX, ImageClassifier
from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers import GradCAM, PartitionSHAP
from keras_xai.metrics import aopc, morf_curve
from keras_xai.training import compute_attribution_targets
from keras_xai.utils.results_store import ResultsStore
from keras_xai.visualization import (
    plot_perturbation_curves,
    plot_sweep,
    save_image_grid,
)

LAMBDAS = (0.2, 0.6, 1.0, 1.4)


# Arguments that only add runs: left out of the results' fingerprint.
ADDS_RUNS_ONLY = ("seeds", "lambdas")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_experiment_arguments(parser)
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--stage1-epochs", type=int, default=5)
    parser.add_argument("--stage2-epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--shap-evals", type=int, default=200)
    parser.add_argument("--eval-images", type=int, default=200)
    parser.add_argument("--patch-size", type=int, default=4)
    parser.add_argument("--lambdas", type=float, nargs="*", default=list(LAMBDAS))
    ResultsStore.add_arguments(parser, "applications/impactx")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny settings to check the script end to end (not results)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.seeds = 128, [0]
        args.stage1_epochs = args.stage2_epochs = 1
        args.shap_evals, args.eval_images, args.lambdas = 20, 8, [0.2]
    for name in ("train_size", "stage1_epochs", "stage2_epochs", "eval_images"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def accuracy(model, data):
    outputs = model.predict(data.x_test, batch_size=512, verbose=0)
    probabilities = outputs["class"] if isinstance(outputs, dict) else outputs
    return float(np.mean(np.argmax(probabilities, -1) == data.y_test))


def trained(path, build, train):
    """Loads the model at `path`, or builds, trains and saves it there."""
    if os.path.isfile(path):
        return keras.saving.load_model(path, safe_mode=True)
    model = build()
    start = time.time()
    train(model)
    print(f"  trained {os.path.basename(path)} in {time.time() - start:.0f} s")
    model.save(path)
    return model


def classifier_fit(model, x, y, epochs, args):
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=args.batch_size, verbose=0)


def stage1_and_baseline(seed, x, y, data, args, folder):
    shape, classes = x.shape[1:], len(data.class_names)

    def build():
        keras.utils.set_random_seed(seed)
        return ImageClassifier("lenet5", shape, classes)

    stage1 = trained(
        os.path.join(folder, "stage1.keras"),
        build,
        lambda m: classifier_fit(m, x, y, args.stage1_epochs, args),
    )

    def longer():
        model = ImageClassifier.from_config(stage1.get_config())
        model.set_weights(stage1.get_weights())
        return model

    baseline = trained(
        os.path.join(folder, "baseline.keras"),
        longer,
        lambda m: classifier_fit(m, x, y, args.stage2_epochs, args),
    )
    return stage1, baseline


def targets_for(name, stage1, x, y, args, folder):
    if name == "gradcam":
        explainer = GradCAM(stage1)
    else:
        explainer = PartitionSHAP(stage1, max_evals=args.shap_evals, seed=0)
    return compute_attribution_targets(
        explainer, x, y, os.path.join(folder, f"targets_{name}"), verbose=True
    )


def impactx_model(stage1, x, y, targets, weight, args, path, seed):
    def build():
        keras.utils.set_random_seed(seed)
        classifier = ImageClassifier.from_config(stage1.get_config())
        classifier.set_weights(stage1.get_weights())
        return IMPACTX(classifier, explanation_weight=weight, decoder_filters=(32, 16))

    def train(model):
        model.compile()
        model.fit(
            x,
            {"class": y, "explanation": targets},
            epochs=args.stage2_epochs,
            batch_size=args.batch_size,
            verbose=0,
        )

    return trained(path, build, train)


def abn_model(seed, x, y, data, args, path):
    def build():
        keras.utils.set_random_seed(seed)
        return ABN(ImageClassifier("lenet5", x.shape[1:], len(data.class_names)))

    def train(model):
        model.compile()
        model.fit(
            x,
            y,
            epochs=args.stage1_epochs + args.stage2_epochs,
            batch_size=args.batch_size,
            verbose=0,
        )

    return trained(path, build, train)


def class_output(model):
    return keras.Model(model.inputs[0], model.output["class"])


def faithfulness(model, images, args):
    """MoRF curves of the model's own maps and of SHAP on the same model."""
    outputs = model.predict(images, batch_size=256, verbose=0)
    targets = np.argmax(outputs["class"], -1).astype("int32")
    classifier = class_output(model)
    shap_maps = PartitionSHAP(classifier, max_evals=args.shap_evals, seed=0)(
        images, targets
    )
    curves = {
        "own": morf_curve(
            classifier, images, outputs["explanation"], targets, args.patch_size
        ),
        "shap": morf_curve(classifier, images, shap_maps, targets, args.patch_size),
    }
    return curves, outputs["explanation"], shap_maps


def summary(values):
    values = np.asarray(values, "float64")
    return {"mean": float(values.mean()), "std": float(values.std()), "n": len(values)}


def measure(store, args):
    """Trains and measures, per seed, the models `store` lacks.

    Each model's MoRF curves go to `cache/seed<seed>/morf_<model>.npz`,
    where `report` reads them.
    """
    keras.utils.set_random_seed(0)
    data = load_default_dataset(args.data)
    test_images = data.x_test[: args.eval_images]
    for seed in args.seeds:
        folder = os.path.join(args.output_dir, "cache", f"seed{seed}")
        os.makedirs(folder, exist_ok=True)
        rows = np.random.default_rng(seed).permutation(len(data.x_train))
        x, y = (
            data.x_train[rows[: args.train_size]],
            data.y_train[rows[: args.train_size]],
        )
        print(f"seed {seed}: {len(x)} training images")
        stage1, baseline = stage1_and_baseline(seed, x, y, data, args, folder)
        for key, model in (("stage1", stage1), ("baseline", baseline)):
            if store.get(f"{key}/{seed}") is None:
                store.put(f"{key}/{seed}", {"accuracy": accuracy(model, data)})
        models = {}
        for name in ("gradcam", "shap"):
            path = os.path.join(folder, f"impactx_{name}.keras")
            targets = (
                None
                if os.path.isfile(path)
                else targets_for(name, stage1, x, y, args, folder)
            )
            models[f"impactx_{name}"] = impactx_model(
                stage1, x, y, targets, 1.0, args, path, seed
            )
        models["abn"] = abn_model(
            seed, x, y, data, args, os.path.join(folder, "abn.keras")
        )
        for name, model in models.items():
            key = f"{name}/{seed}"
            if store.get(key) is None:
                print(f"  measuring {name}")
                curves, _, _ = faithfulness(model, test_images, args)
                np.savez(os.path.join(folder, f"morf_{name}.npz"), **curves)
                store.put(
                    key,
                    {
                        "accuracy": accuracy(model, data),
                        "aopc_own": float(aopc(curves["own"]).mean()),
                        "aopc_shap_on_model": float(aopc(curves["shap"]).mean()),
                    },
                )
        if seed == args.seeds[0]:
            lambda_sweep(stage1, x, y, data, args, folder, store, seed)
            example_figure(stage1, models, data, args, folder)


def lambda_sweep(stage1, x, y, data, args, folder, store, seed):
    targets = None
    for weight in args.lambdas:
        key = f"lambda_sweep/{weight}"
        if store.get(key) is not None:
            continue
        name = "impactx_gradcam" if weight == 1.0 else f"impactx_gradcam_lambda{weight}"
        path = os.path.join(folder, f"{name}.keras")
        if targets is None and not os.path.isfile(path):
            targets = targets_for("gradcam", stage1, x, y, args, folder)
        model = impactx_model(stage1, x, y, targets, weight, args, path, seed)
        store.put(key, {"accuracy": accuracy(model, data), "seed": seed})


def example_figure(stage1, models, data, args, folder):
    count = 6
    images, labels = data.x_test[:count], data.y_test[:count]
    impactx = models["impactx_shap"]
    outputs = impactx.predict(images, verbose=0)
    predicted = np.argmax(outputs["class"], -1).astype("int32")
    shap_target = PartitionSHAP(stage1, max_evals=args.shap_evals, seed=0)(
        images, labels
    )
    shap_impactx = PartitionSHAP(
        class_output(impactx), max_evals=args.shap_evals, seed=0
    )(images, predicted)
    abn = models["abn"].predict(images, verbose=0)["explanation"]
    names = data.class_names
    save_image_grid(
        [
            list(row)
            for row in zip(
                images, shap_target, outputs["explanation"], shap_impactx, abn
            )
        ],
        os.path.join(args.output_dir, "example_explanations.png"),
        titles=[
            "image",
            "SHAP on A (target r)",
            "IMPACTX own map",
            "SHAP on IMPACTX",
            "ABN attention",
        ],
        row_labels=[
            f"true: {names[t]}\nIMPACTX: {names[p]}" for t, p in zip(labels, predicted)
        ],
    )


def saved_curves(store, args):
    """The stored MoRF curves, `{"<model>:<own|shap>": [per seed]}`."""
    all_curves = {}
    for seed in args.seeds:
        folder = os.path.join(args.output_dir, "cache", f"seed{seed}")
        for name in ("impactx_gradcam", "impactx_shap", "abn"):
            path = os.path.join(folder, f"morf_{name}.npz")
            if store.get(f"{name}/{seed}") is not None and os.path.isfile(path):
                saved = np.load(path)
                for which in ("own", "shap"):
                    all_curves.setdefault(f"{name}:{which}", []).append(saved[which])
    return all_curves


def report(store, args):
    os.makedirs(args.output_dir, exist_ok=True)
    all_curves = saved_curves(store, args)
    runs = store.runs
    by_method = {}
    for key, value in runs.items():
        name, _, seed = key.rpartition("/")
        if name != "lambda_sweep":
            by_method.setdefault(name, []).append(value)
    table = {}
    print("\n| model | test accuracy (mean ± std) | seeds | AOPC own map | AOPC SHAP |")
    print("|---|---|---|---|---|")
    for name in ("stage1", "baseline", "impactx_gradcam", "impactx_shap", "abn"):
        values = by_method.get(name, [])
        if not values:
            continue
        row = {"accuracy": summary([v["accuracy"] for v in values])}
        for field in ("aopc_own", "aopc_shap_on_model"):
            if field in values[0]:
                row[field] = summary([v[field] for v in values])
        table[name] = row
        own = row.get("aopc_own")
        shap = row.get("aopc_shap_on_model")
        print(
            f"| {name} | {row['accuracy']['mean']:.4f} ± {row['accuracy']['std']:.4f}"
            f" | {row['accuracy']['n']} | "
            + (f"{own['mean']:.4f} ± {own['std']:.4f}" if own else "–")
            + " | "
            + (f"{shap['mean']:.4f} ± {shap['std']:.4f}" if shap else "–")
            + " |"
        )
    store.finish(table=table)
    if all_curves:
        plot_perturbation_curves(
            {k: np.concatenate(v) for k, v in all_curves.items()},
            os.path.join(args.output_dir, "morf_curves.png"),
            title=f"MoRF, {args.eval_images} test images x {len(args.seeds)} seeds",
            figsize=(6.5, 4.5),
        )
    sweep = sorted(
        (float(k.split("/")[1]), v["accuracy"])
        for k, v in runs.items()
        if k.startswith("lambda_sweep/")
    )
    if sweep:
        plot_sweep(
            [p[0] for p in sweep],
            {"IMPACTX (GradCAM targets)": [p[1] for p in sweep]},
            os.path.join(args.output_dir, "lambda_sweep.png"),
            xlabel="λ (weight of the explanation MSE)",
            ylabel="test accuracy (higher is better)",
            title=f"λ sweep, seed {args.seeds[0]}",
        )


def main(argv=None):
    return ResultsStore.run_experiment(
        parse_args(argv), measure, report, ignore=ADDS_RUNS_ONLY
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
