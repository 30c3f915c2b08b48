"""`keras-xai train`: train a model with a method and save the run."""

import time

import keras
import numpy as np

from keras_xai.applications import ImageClassifier
from keras_xai.applications.backbones import ARCHITECTURES
from keras_xai.applications.impactx.impactx_presets import backbone_presets
from keras_xai.cli import data as data_module
from keras_xai.cli.arguments import add_command_parser, check_output_dir, finite_float
from keras_xai.cli.methods import METHODS
from keras_xai.cli.run_directory import save_run
from keras_xai.models.class_model import predict_outputs

HELP = "train a model with a method and save it"

DESCRIPTION = """Train a classifier with an explanation method and save the run.

Writes OUTPUT_DIR/model.keras (load it with keras.saving.load_model after
`import keras_xai`) and OUTPUT_DIR/run.json (options, test accuracy, time).
Then `keras-xai explain|evaluate|export --model OUTPUT_DIR`."""

EPILOG = """examples:
  keras-xai train --method baseline --data fashion_mnist --epochs 3 --output-dir runs/a
  keras-xai train --method impactx --targets shap --shap-evals 500 --train-size 2000 \\
      --output-dir runs/impactx_shap
  keras-xai train --method abn --data cifar10 --preset lenet5_cifar10 \\
      --output-dir runs/abn_cifar10   (CIFAR-10 downloaded once into ~/.keras)"""


def add_parser(subparsers):
    parser = add_command_parser(subparsers, "train", HELP, DESCRIPTION, EPILOG)
    common = parser.add_argument_group("common options")
    common.add_argument(
        "--method",
        required=True,
        choices=sorted(METHODS),
        help="; ".join(f"{name}: {m.HELP}" for name, m in sorted(METHODS.items())),
    )
    common.add_argument(
        "--data",
        default="auto",
        choices=data_module.DATASETS,
        help="dataset (default auto: Fashion-MNIST if installed, else digits)",
    )
    common.add_argument(
        "--data-dir",
        help="the dataset's directory (default: CIFAR and STL-10 are "
        "downloaded once into the Keras cache)",
    )
    common.add_argument(
        "--architecture",
        default="lenet5",
        choices=sorted(ARCHITECTURES),
        help="backbone, built for the data's image size (default lenet5)",
    )
    common.add_argument(
        "--preset",
        help="a preset name instead of --architecture, e.g. lenet5_cifar10 "
        f"(one of: {', '.join(sorted(backbone_presets))})",
    )
    common.add_argument("--epochs", type=int, default=3, help="(default 3)")
    common.add_argument("--batch-size", type=int, default=128, help="(default 128)")
    common.add_argument(
        "--learning-rate", type=finite_float, default=1e-3, help="Adam (default 1e-3)"
    )
    common.add_argument(
        "--train-size", type=int, help="random subset of the training split"
    )
    common.add_argument("--test-size", type=int, help="first N test images")
    common.add_argument("--seed", type=int, default=0, help="(default 0)")
    common.add_argument(
        "--output-dir", required=True, help="where model.keras and run.json go"
    )
    common.add_argument(
        "--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras verbosity"
    )
    for name, method in sorted(METHODS.items()):
        method.add_arguments(parser.add_argument_group(f"--method {name} options"))
    parser.set_defaults(run=run, parser=parser)
    return parser


def check(args):
    parser = args.parser
    for flag in ("epochs", "batch_size"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be > 0; got {args.learning_rate}")
    method = METHODS[args.method]
    if hasattr(method, "check"):
        method.check(args, parser)


def build_classifier(args, data):
    image_shape = tuple(data.x_train.shape[1:])
    num_classes = len(data.class_names)
    architecture = args.architecture
    if args.preset is not None:
        if args.preset not in backbone_presets:
            args.parser.error(
                f"--preset must be one of {sorted(backbone_presets)}; got "
                f"{args.preset!r}"
            )
        config = backbone_presets[args.preset]["config"]
        if tuple(config["image_shape"]) != image_shape or (
            config["num_classes"] != num_classes
        ):
            args.parser.error(
                f"--preset {args.preset} is for {tuple(config['image_shape'])} "
                f"images and {config['num_classes']} classes, but --data "
                f"{data.name} has {image_shape} images and {num_classes} classes"
            )
        architecture = config["architecture"]
    return ImageClassifier(architecture, image_shape, num_classes)


def run(args):
    check(args)
    check_output_dir(args.output_dir)
    keras.utils.set_random_seed(args.seed)
    data = data_module.load(
        args.data, args.data_dir, args.train_size, args.test_size, args.seed
    )
    print(
        f"data: {data.name}, {len(data.x_train)} training and {len(data.x_test)} "
        f"test images of shape {data.x_train.shape[1:]}"
    )
    classifier = build_classifier(args, data)
    start = time.time()
    model, details = METHODS[args.method].train(args, data, classifier)
    seconds = time.time() - start
    probabilities, _ = predict_outputs(model, data.x_test)
    accuracy = float(np.mean(np.argmax(probabilities, -1) == data.y_test))
    print(f"test accuracy ({args.method}, {len(data.x_test)} images): {accuracy:.4f}")
    options = {
        key: value
        for key, value in vars(args).items()
        if key not in ("run", "parser", "command")
    }
    record = {
        "method": args.method,
        "data": data.name,
        "class_names": list(data.class_names),
        "options": options,
        "test_accuracy": accuracy,
        "train_seconds": seconds,
        **details,
    }
    save_run(args.output_dir, model, record)
    print(f"saved {args.output_dir}/model.keras and run.json ({seconds:.1f} s)")
    return 0
