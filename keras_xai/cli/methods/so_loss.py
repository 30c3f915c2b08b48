"""`--method so-loss`: segment-overlap loss (or RRR) guidance with object masks."""

import keras

from keras_xai.applications import ExplanationGuidedClassifier
from keras_xai.applications.explanation_guided import CAM_MODES, GUIDANCES
from keras_xai.cli.arguments import finite_float
from keras_xai.cli.data import CommandError
from keras_xai.cli.methods._fitting import final_loss, fit
from keras_xai.datasets import object_masks

NAME = "so-loss"
HELP = (
    "segment-overlap loss: β·CE + (1 − β)·(1 − cos) of multi-view GradCAM vs "
    "blurred object masks (masks: the object's pixels of Fashion-MNIST/digits)"
)


def add_arguments(group):
    group.add_argument(
        "--beta", type=finite_float, default=0.5, help="weight of CE in [0, 1]"
    )
    group.add_argument("--views", type=int, default=8, help="dihedral views, 1..8")
    group.add_argument(
        "--blur",
        default="auto",
        help="Gaussian blur kernel of the mask: 'auto' (side/10, odd), an odd "
        "int, or 'none'",
    )
    group.add_argument("--cam-mode", default="target", choices=CAM_MODES)
    group.add_argument(
        "--guidance",
        default="so",
        choices=GUIDANCES,
        help="'rrr': Ross et al.'s input-gradient penalty outside the object; "
        "'rrr_gradcam': a GradCAM penalty outside it; 'cam_fit': GradCAM fitted "
        "to the object mask (instead of L_SO)",
    )


def check(args, parser):
    if not 0.0 <= args.beta <= 1.0:
        parser.error(f"--beta must be in [0, 1]; got {args.beta}")
    if not 1 <= args.views <= 8:
        parser.error(f"--views must be between 1 and 8; got {args.views}")
    if args.blur not in ("auto", "none"):
        try:
            int(args.blur)
        except ValueError:
            parser.error(
                f"--blur must be 'auto', 'none' or an odd int; got {args.blur}"
            )


def train(args, data, classifier):
    if data.name not in ("fashion_mnist", "digits"):
        raise CommandError(
            "--method so-loss needs object masks; they are derived for "
            f"fashion_mnist and digits (black backgrounds), not for {data.name}"
        )
    blur = {"auto": "auto", "none": None}
    blur = blur[args.blur] if args.blur in blur else int(args.blur)
    model = ExplanationGuidedClassifier(
        classifier,
        beta=args.beta,
        views=args.views,
        blur_kernel_size=blur,
        cam_mode=args.cam_mode,
        guidance=args.guidance,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    y = {"label": data.y_train, "mask": object_masks(data.x_train)}
    history = fit(args, model, data.x_train, y)
    # The saved run is the classifier itself: same predictions, and the
    # explain/evaluate/export commands treat it like any classifier.
    return classifier, final_loss(history)
