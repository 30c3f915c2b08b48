"""`--method consistency|hnm|focal`: sample reweighting during `fit`.

The three methods share their options, check and training; `consistency`,
`hnm` and `focal` below are their entries in `keras_xai.cli.methods`.
"""

import os
import types

from keras_xai.cli.arguments import finite_float
from keras_xai.cli.methods._fitting import compile_classifier, final_loss
from keras_xai.training import (
    CAM_EXPLAINERS,
    PSI_FUNCTIONS,
    SampleWeightDataset,
    reweighting_setup,
)

HELP = {
    "consistency": "explanation-consistency reweighting (Wu et al.): weights "
    "from how much GradCAM changes under a background FGSM attack",
    "hnm": "hard-negative mining: weights from each sample's loss",
    "focal": "Keras's focal loss (gamma 2)",
}


def add_arguments(group):
    group.add_argument(
        "--epsilon", type=finite_float, default=0.1, help="FGSM step in [0, 1] pixels"
    )
    group.add_argument(
        "--every", type=int, default=1, help="epochs between reweighting rounds"
    )
    group.add_argument("--psi", default="tanh", choices=sorted(PSI_FUNCTIONS))
    group.add_argument(
        "--cam", default="gradcam", choices=sorted(CAM_EXPLAINERS), help="the CAM g(x)"
    )
    group.add_argument(
        "--floor",
        type=finite_float,
        default=0.0,
        help="minimum weight of consistent, correctly classified samples",
    )


def check(args, parser):
    if args.method == "consistency" and not args.epsilon > 0:
        parser.error(f"--epsilon must be > 0; got {args.epsilon}")
    if args.every < 1:
        parser.error(f"--every must be >= 1; got {args.every}")
    if not 0.0 <= args.floor <= 1.0:
        parser.error(f"--floor must be in [0, 1]; got {args.floor}")


def train(args, data, classifier):
    method = args.method
    dataset = SampleWeightDataset(
        data.x_train,
        data.y_train,
        batch_size=args.batch_size,
        seed=args.seed,
        num_classes=len(data.class_names) if method == "focal" else None,
    )
    if method == "consistency":
        options = {
            "epsilon": args.epsilon,
            "every": args.every,
            "psi": args.psi,
            "explainer": args.cam,
            "floor": args.floor,
            "start_epoch": 1,
            "verbose": True,
            "log_dir": os.path.join(args.output_dir, "reweighting"),
        }
    elif method == "hnm":
        options = {"every": args.every, "start_epoch": 1, "floor": args.floor}
    else:
        options = {}
    setup = reweighting_setup(method, dataset, **options)
    compile_classifier(args, classifier, loss=setup.loss)
    history = classifier.fit(
        dataset, epochs=args.epochs, callbacks=setup.callbacks, verbose=args.verbose
    )
    return classifier, final_loss(history)


def _method(name, add_method_arguments):
    """The `--method name` entry: `NAME`, `HELP`, `add_arguments`, `check`
    and `train`, as a method module defines them."""
    return types.SimpleNamespace(
        NAME=name,
        HELP=HELP[name],
        add_arguments=add_method_arguments,
        check=check,
        train=train,
    )


def _add_shared_arguments(group):
    group.title = "--method consistency, hnm and focal options"
    add_arguments(group)


def _add_no_arguments(group):
    del group  # shared options live with --method consistency


consistency = _method("consistency", _add_shared_arguments)
hnm = _method("hnm", _add_no_arguments)
focal = _method("focal", _add_no_arguments)
