"""Post-hoc attribution maps of a trained model, for explain and evaluate."""

from keras_xai.explainers import PartitionSHAP
from keras_xai.explainers.by_name import EXPLAINERS, cam_explainer_names, get_explainer
from keras_xai.models.class_model import class_model
from keras_xai.models.model_split import default_feature_layer

CHOICES = tuple(sorted(EXPLAINERS))
# CAMs need a top-level 4-D layer; a default CAM is replaced by the
# model-agnostic PartitionSHAP on models without one.
CAM_METHODS = cam_explainer_names()
FALLBACK_METHOD = PartitionSHAP.name


def add_arguments(parser, default=("gradcam",)):
    parser.add_argument(
        "--post-hoc",
        nargs="*",
        choices=CHOICES,
        metavar="METHOD",
        help="post-hoc explainers computed on the model, shown beside its own "
        f"explanation (default: {' '.join(default)}, with '{FALLBACK_METHOD}' "
        "instead of CAM methods for models whose feature maps sit in nested "
        f"sub-models, such as IMPACTX; any of {', '.join(CHOICES)})",
    )
    parser.set_defaults(post_hoc_default=tuple(default))
    parser.add_argument(
        "--shap-evals",
        type=int,
        default=500,
        help=f"model evaluations per image for '{FALLBACK_METHOD}' (paper: 2000; "
        "default 500)",
    )


def methods(args, model):
    """The `--post-hoc` methods, or the defaults that apply to `model`."""
    if args.post_hoc is not None:
        return list(args.post_hoc)
    chosen = []
    for method in args.post_hoc_default:
        if method in CAM_METHODS and not has_feature_map(model):
            method = FALLBACK_METHOD
        if method not in chosen:
            chosen.append(method)
    return chosen


def has_feature_map(model):
    """Whether `model`'s class output has a top-level 4-D layer for CAMs."""
    try:
        default_feature_layer(class_model(model))
    except ValueError:
        return False
    return True


def post_hoc_maps(model, method, images, targets, shap_evals=500, seed=0):
    """Maps of `method` computed on `model`'s class output.

    Args:
        model: `keras.Model`, a classifier or a self-explaining model.
        method: str. A name of `keras_xai.explainers.by_name.EXPLAINERS`.
        images: float32 array `(N, H, W, C)`.
        targets: int array `(N,)`.
        shap_evals: int. `max_evals` of PartitionSHAP (`"shap"`).
        seed: int.

    Returns:
        float32 array `(N, H, W)`.
    """
    cls = get_explainer(method)
    classifier = class_model(model)
    if issubclass(cls, PartitionSHAP):
        explainer = cls(classifier, max_evals=shap_evals, seed=seed, verbose=True)
    else:
        explainer = cls(classifier)
    return explainer(images, targets=targets)
