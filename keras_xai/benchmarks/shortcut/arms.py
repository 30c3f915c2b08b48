"""The arms of a shortcut benchmark: what is trained, on what, with which
guidance."""

import collections

from keras_xai.losses.input_gradient_penalty import check_weight

ARM_KINDS = ("ce", "ce_continued", "guided", "two_phase", "consistency", "impactx")
ANNOTATIONS = ("decoy", "decoy_shuffled", "object")

ShortcutArm = collections.namedtuple(
    "ShortcutArm", ["name", "kind", "options", "annotation", "clean"]
)
ShortcutArm.__doc__ = """One way of training a classifier in a shortcut benchmark.

Fields:
    name: str. The arm's name (with `@λ` for a swept weight).
    kind: str. `"ce"` (plain cross-entropy), `"ce_continued"` (CE, then
        CE again from the best weights, each early-stopped), `"guided"`
        (`ExplanationGuidedClassifier` with `options`), `"two_phase"`
        (the CE floor's training, then the guided model fine-tuned with the
        segment-overlap paper's two-phase schedule: `options` for the model
        plus `phase1_epochs`), `"consistency"`
        (explanation-consistency reweighting with `options`) or
        `"impactx"` (IMPACTX on GradCAM targets of a CE-trained stage 1,
        `options` for `IMPACTX` plus `shuffled_targets`).
    options: dict. Keyword arguments of the model or reweighting callback.
    annotation: str or `None`. Which region the guidance is given:
        `"decoy"`, the irrelevant patch (Ross et al.'s annotation `A`),
        `"decoy_shuffled"`, another training image's patch (the control:
        the same amount of annotation, mostly in the wrong place), or
        `"object"`, the relevant object mask (the segment-overlap loss).
    clean: bool. Trained on the images without a patch (the ceiling).
"""


def _arm(kind, annotation=None, clean=False, **options):
    """An `_ARMS` entry `(kind, options, annotation, clean)`."""
    return kind, options, annotation, clean


# name -> (kind, options, annotation, clean). Guided arms mix CE and the
# guidance as β·CE + (1 − β)·λ·G with β = 0.5, so G's weight against a
# per-image CE is λ: Ross et al.'s objective has CE and λ₁·penalty summed
# over the same images, hence rrr_weight = λ₁ / 255² for [0, 1] inputs.
_ARMS = {
    "ceiling": _arm("ce", clean=True),
    "floor": _arm("ce"),
    "rrr_decoy": _arm("guided", "decoy", guidance="rrr", beta=0.5),
    "rrr_decoy_shuffled": _arm("guided", "decoy_shuffled", guidance="rrr", beta=0.5),
    "rrr_background": _arm("guided", "object", guidance="rrr", beta=0.5),
    "rrr_gradcam_decoy": _arm("guided", "decoy", guidance="rrr_gradcam", beta=0.5),
    "cam_fit": _arm("guided", "object", guidance="cam_fit", beta=0.5),
    "so_1view": _arm("guided", "object", views=1, beta=0.5),
    "so_1view_noblur": _arm(
        "guided", "object", views=1, beta=0.5, blur_kernel_size=None
    ),
    # The segment-overlap term weighted 9× CE instead of 1×.
    "so_1view_strong": _arm("guided", "object", views=1, beta=0.1),
    # GradCAM of LeNet-5's 8×8 conv2 map instead of the 4×4 pool2 map.
    "so_1view_conv2": _arm(
        "guided", "object", views=1, beta=0.5, feature_layer="conv2"
    ),
    "so_8views": _arm("guided", "object", views=8, beta=0.5),
    # The paper's use: fine-tune a trained (here: shortcut-trained) model,
    # backbone frozen for up to 10 epochs, then every layer.
    "so_1view_two_phase": _arm(
        "two_phase", "object", views=1, beta=0.5, phase1_epochs=10
    ),
    "so_1view_signed": _arm("guided", "object", views=1, beta=0.5, cam_mode="signed"),
    "so_1view_all_classes": _arm(
        "guided", "object", views=1, beta=0.5, cam_mode="all_classes"
    ),
    # D between heatmaps at the image's size (the paper), or at the CAM's.
    "consistency": _arm("consistency", every=2, start_epoch=1, distance_size="image"),
    "consistency_native": _arm(
        "consistency", every=2, start_epoch=1, distance_size="native"
    ),
    "impactx": _arm("impactx", explanation_weight=1.0),
    # IMPACTX on the paper's targets: PartitionSHAP, 2,000 evaluations.
    "impactx_shap": _arm("impactx", explanation_weight=1.0, targets="shap"),
    # IMPACTX's controls: no explanation loss (λ = 0), each image trained
    # towards another image's target, and the CE model trained on instead.
    "impactx_no_target": _arm("impactx", explanation_weight=0.0),
    "impactx_shuffled": _arm("impactx", explanation_weight=1.0, shuffled_targets=True),
    "floor_continued": _arm("ce_continued"),
}
ARM_NAMES = tuple(_ARMS)
# Arms whose guidance strength is swept as `name@λ`.
WEIGHTED_ARMS = (
    "rrr_decoy",
    "rrr_decoy_shuffled",
    "rrr_background",
    "rrr_gradcam_decoy",
)
# The default weight of each (Ross et al.'s λ1 = 1,000 for the input
# gradients; the GradCAM penalty is at most the patch area, 16 pixels).
_DEFAULT_WEIGHTS = {"rrr_gradcam_decoy": 1.0}
# Arms that need a convolutional feature map (GradCAM).
CAM_ARMS = tuple(
    name
    for name, (kind, options, _, _) in _ARMS.items()
    if kind in ("consistency", "impactx")
    or (kind in ("guided", "two_phase") and options.get("guidance") != "rrr")
)


def ross_lambda_to_rrr_weight(ross_lambda, beta=0.5):
    """Ross et al.'s `λ₁` on 0-255 pixels as `rrr_weight` on [0, 1] pixels.

    A gradient with respect to pixels scaled by 1/255 is 255 times larger,
    its square 255² times; Ross et al. add `λ₁·penalty` to an unweighted
    CE, `ExplanationGuidedClassifier` mixes `β·CE + (1 − β)·λ·penalty`.

    Args:
        ross_lambda: float >= 0. Ross et al.'s `λ₁` (1,000 in Decoy MNIST).
        beta: float in (0, 1]. The guided model's `β`. Defaults to 0.5.

    Returns:
        float: `λ₁ · β / (1 − β) / 255²`.
    """
    ross_lambda = check_weight(ross_lambda, "ross_lambda")
    if not 0.0 < beta < 1.0:
        raise ValueError(f"`beta` must be in (0, 1). Received: beta={beta}")
    return ross_lambda * beta / (1.0 - beta) / 255.0**2


def shortcut_arm(name):
    """The `ShortcutArm` called `name`, e.g. `"floor"` or `"rrr_decoy@0.03"`.

    `@λ` sets the `rrr_weight` of the penalty arms (`WEIGHTED_ARMS`);
    without it the input-gradient arms use 0.0154 (Ross et al.'s λ₁ =
    1,000 on [0, 1] pixels, see `ross_lambda_to_rrr_weight`) and the
    GradCAM penalty 1.

    Args:
        name: str. `ARM_NAMES` entry, optionally `@` and a number >= 0.

    Returns:
        A `ShortcutArm`.

    Raises:
        ValueError: on an unknown arm, a weight on an arm that takes none,
            or a weight that is not a number >= 0.
    """
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a string. Received: {name!r}")
    base, _, weight = name.partition("@")
    if base not in _ARMS:
        raise ValueError(
            f"Unknown shortcut arm {base!r}: expected one of {ARM_NAMES}, "
            "optionally followed by @weight for "
            f"{WEIGHTED_ARMS}. Received: {name!r}"
        )
    kind, options, annotation, clean = _ARMS[base]
    options = dict(options)
    if base in WEIGHTED_ARMS:
        if weight:
            try:
                value = float(weight)
            except ValueError:
                raise ValueError(
                    f"The weight after '@' must be a number >= 0. Received: {name!r}"
                ) from None
        else:
            value = _DEFAULT_WEIGHTS.get(base, ross_lambda_to_rrr_weight(1000.0))
        options["rrr_weight"] = check_weight(value, "rrr_weight")
        name = f"{base}@{options['rrr_weight']:g}"
    elif weight:
        raise ValueError(
            f"Arm {base!r} takes no '@weight' (only {WEIGHTED_ARMS} do). "
            f"Received: {name!r}"
        )
    return ShortcutArm(name, kind, options, annotation, clean)
