"""`--method impactx`: two-stage IMPACTX (stage-1 classifier, targets, IMPACTX)."""

import os

import keras

from keras_xai.applications.impactx import IMPACTX
from keras_xai.cli.arguments import finite_float
from keras_xai.cli.methods._fitting import compile_classifier, final_loss, fit
from keras_xai.explainers.by_name import get_explainer
from keras_xai.training import (
    compute_attribution_targets,
    compute_attribution_targets_on_ray,
)
from keras_xai.training.ray_targets import check_ray_address

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
    group.add_argument(
        "--ray-address",
        default=None,
        help="compute the attribution targets as Ray tasks on this cluster "
        "('auto', 'host:port' or 'ray://host:port'; needs keras-xai[ray]); "
        "the same resumable cache as without it (default: in this process)",
    )


def check(args, parser):
    if args.explanation_weight < 0:
        parser.error(f"--lambda must be >= 0; got {args.explanation_weight}")
    if args.shap_evals < 10:
        parser.error(f"--shap-evals must be >= 10; got {args.shap_evals}")
    if args.stage1_epochs is not None and args.stage1_epochs < 1:
        parser.error(f"--stage1-epochs must be >= 1; got {args.stage1_epochs}")
    if args.ray_address is not None:
        try:
            check_ray_address(args.ray_address)
        except ValueError as error:
            parser.error(f"--ray-address: {error}")


def explainer_spec(args):
    """The targets' explainer class and its options."""
    if args.targets == "shap":
        return get_explainer("shap"), {"max_evals": args.shap_evals, "seed": args.seed}
    return get_explainer(args.targets), {}


def make_explainer(args, classifier):
    cls, options = explainer_spec(args)
    return cls(classifier, **options)


def attribution_targets(args, data, classifier):
    """The stage-1 targets, in this process or (`--ray-address`) on Ray."""
    cache_dir = os.path.join(args.output_dir, f"targets_{args.targets}")
    if args.ray_address is None:
        return compute_attribution_targets(
            make_explainer(args, classifier),
            data.x_train,
            data.y_train,
            cache_dir,
            verbose=True,
        )
    cls, options = explainer_spec(args)
    return compute_attribution_targets_on_ray(
        classifier,
        cls,
        data.x_train,
        data.y_train,
        cache_dir,
        explainer_options=options,
        address=args.ray_address,
    )


def train(args, data, classifier):
    compile_classifier(args, classifier)
    stage1_epochs = args.stage1_epochs or args.epochs
    print(f"stage 1: classifier, {stage1_epochs} epochs")
    fit(args, classifier, data.x_train, data.y_train, epochs=stage1_epochs)
    stage1_accuracy = classifier.evaluate(
        data.x_test, data.y_test, batch_size=256, verbose=0, return_dict=True
    )["accuracy"]
    print(f"stage 1 test accuracy: {stage1_accuracy:.4f}")
    print(f"attribution targets: {args.targets} (cached, resumable)")
    targets = attribution_targets(args, data, classifier)
    model = IMPACTX(
        classifier,
        latent_dim=args.latent_dim,
        explanation_weight=args.explanation_weight,
        decoder_filters=(32, 16) if data.x_train.shape[1] <= 28 else (64, 32, 16),
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    print(f"stage 2: IMPACTX, {args.epochs} epochs, λ = {args.explanation_weight}")
    y = {"class": data.y_train, "explanation": targets}
    history = fit(args, model, data.x_train, y)
    return model, {
        "stage1_test_accuracy": float(stage1_accuracy),
        **final_loss(history),
    }
