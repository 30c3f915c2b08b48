"""`--method impactx`: two-stage IMPACTX (stage-1 classifier, targets, IMPACTX)."""

import os

import keras

from keras_xai.applications.impactx import IMPACTX
from keras_xai.cli.arguments import finite_float
from keras_xai.explainers.by_name import get_explainer
from keras_xai.training import compute_attribution_targets

NAME = "impactx"
HELP = "two-stage IMPACTX: the classifier, its explanations as targets, IMPACTX"
TARGETS = ("gradcam", "shap", "xgradcam", "integrated_gradients", "lrp")


def add_arguments(group):
    group.add_argument(
        "--targets",
        default="gradcam",
        choices=TARGETS,
        help="attribution method R whose maps (true class, stage-1 model) "
        "IMPACTX learns; 'shap' is the paper's PartitionSHAP (default: gradcam)",
    )
    group.add_argument(
        "--shap-evals",
        type=int,
        default=2000,
        help="model evaluations per image for --targets shap (paper: 2000)",
    )
    group.add_argument(
        "--lambda",
        dest="explanation_weight",
        type=finite_float,
        default=1.0,
        help="weight λ of the explanation MSE term (paper grid 0.2 ... 1.4; "
        "default 1.0)",
    )
    group.add_argument(
        "--stage1-epochs",
        type=int,
        default=None,
        help="epochs of the stage-1 classifier (default: --epochs)",
    )
    group.add_argument(
        "--latent-dim", type=int, default=512, help="size of z (paper: 512)"
    )


def check(args, parser):
    if args.explanation_weight < 0:
        parser.error(f"--lambda must be >= 0; got {args.explanation_weight}")
    if args.shap_evals < 10:
        parser.error(f"--shap-evals must be >= 10; got {args.shap_evals}")
    if args.stage1_epochs is not None and args.stage1_epochs < 1:
        parser.error(f"--stage1-epochs must be >= 1; got {args.stage1_epochs}")


def make_explainer(args, classifier):
    cls = get_explainer(args.targets)
    if args.targets == "shap":
        return cls(classifier, max_evals=args.shap_evals, seed=args.seed)
    return cls(classifier)


def train(args, data, classifier):
    classifier.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stage1_epochs = args.stage1_epochs or args.epochs
    print(f"stage 1: classifier, {stage1_epochs} epochs")
    classifier.fit(
        data.x_train,
        data.y_train,
        epochs=stage1_epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    stage1_accuracy = classifier.evaluate(
        data.x_test, data.y_test, batch_size=256, verbose=0, return_dict=True
    )["accuracy"]
    print(f"stage 1 test accuracy: {stage1_accuracy:.4f}")
    print(f"attribution targets: {args.targets} (cached, resumable)")
    targets = compute_attribution_targets(
        make_explainer(args, classifier),
        data.x_train,
        data.y_train,
        os.path.join(args.output_dir, f"targets_{args.targets}"),
        verbose=True,
    )
    model = IMPACTX(
        classifier,
        latent_dim=args.latent_dim,
        explanation_weight=args.explanation_weight,
        decoder_filters=(32, 16) if data.x_train.shape[1] <= 28 else (64, 32, 16),
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    print(f"stage 2: IMPACTX, {args.epochs} epochs, λ = {args.explanation_weight}")
    history = model.fit(
        data.x_train,
        {"class": data.y_train, "explanation": targets},
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    return model, {
        "stage1_test_accuracy": float(stage1_accuracy),
        "final_loss": float(history.history["loss"][-1]),
    }
