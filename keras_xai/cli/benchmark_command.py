"""`keras-xai benchmark shortcut`: does explanation-guided training remove a
decoy shortcut?"""

import json
import os

from keras_xai.benchmarks.shortcut.arms import ARM_NAMES, WEIGHTED_ARMS
from keras_xai.cli import data as data_module
from keras_xai.cli.arguments import add_command_parser, check_output_dir, finite_float
from keras_xai.utils.validation import check_positive_int

HELP = "decoy-patch shortcut benchmark (Ross et al.'s Decoy MNIST and variants)"

DESCRIPTION = """Train arms (CE floor, clean ceiling, input-gradient penalties,
the segment-overlap loss, consistency reweighting) on a decoy dataset, to
convergence with early stopping on a validation split carved from the
training data, and measure each on three test splits: random-class patches
(Ross et al.'s protocol), far-class patches, no patch.

Finished runs are kept in OUTPUT_DIR/results.json: rerun the same command to
resume after an interruption, or with more seeds/arms to extend it. The
summary (means, sample stds over seeds, gap shares, paired bootstrap CIs
against the floor, the λ picked on validation) goes to
OUTPUT_DIR/summary.json and, with plots, OUTPUT_DIR/*.png."""

EPILOG = f"""arms: {", ".join(ARM_NAMES)}.
{", ".join(WEIGHTED_ARMS)} take @λ, the input-gradient weight on [0, 1] pixels
(Ross et al.'s λ1 = 1000 on 0-255 pixels is 0.0154 here) or the GradCAM
penalty's weight.

examples:
  keras-xai benchmark shortcut --variant ross --architecture mlp \\
      --arms ceiling floor rrr_decoy@0.0154 --seeds 0 1 2 --output-dir runs/ross_mlp
  keras-xai benchmark shortcut --variant anywhere --architecture lenet5 \\
      --arms ceiling floor rrr_decoy so_1view consistency --output-dir runs/any_lenet"""

DEFAULT_ARMS = ("ceiling", "floor", "rrr_decoy", "rrr_background")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "benchmark",
        help="measure whether explanation-guided training removes a shortcut",
        description="Benchmarks of explanation-guided training.",
    )
    benchmarks = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    benchmarks.required = True
    shortcut = add_command_parser(benchmarks, "shortcut", HELP, DESCRIPTION, EPILOG)
    shortcut.add_argument(
        "--variant",
        default="ross",
        help="ross (default), margin, anywhere, or clean (no patch: every arm "
        "on the plain images, e.g. IMPACTX against its controls)",
    )
    shortcut.add_argument(
        "--architecture", default="lenet5", help="mlp, lenet5 (default) or vgg_small"
    )
    shortcut.add_argument("--arms", nargs="+", default=list(DEFAULT_ARMS))
    shortcut.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    shortcut.add_argument(
        "--data",
        default="fashion_mnist",
        choices=data_module.BUILTIN,
        help="dataset (default fashion_mnist)",
    )
    shortcut.add_argument("--data-dir", help="Fashion-MNIST directory")
    shortcut.add_argument("--max-epochs", type=int, default=30)
    shortcut.add_argument("--patience", type=int, default=3)
    shortcut.add_argument("--batch-size", type=int, default=64)
    shortcut.add_argument("--learning-rate", type=finite_float, default=1e-3)
    shortcut.add_argument("--validation-size", type=int, default=6000)
    shortcut.add_argument("--train-size", type=int, default=None)
    shortcut.add_argument("--test-size", type=int, default=None)
    shortcut.add_argument("--patch-size", type=int, default=4)
    shortcut.add_argument("--pad", type=int, default=4)
    shortcut.add_argument(
        "--faithfulness-images",
        type=int,
        default=0,
        help="test images on which each run's maps are compared by MoRF AOPC "
        "(own map, PartitionSHAP, random; default 0: skipped)",
    )
    shortcut.add_argument("--output-dir", required=True)
    shortcut.add_argument(
        "--report-only",
        action="store_true",
        help="summarise the stored runs without training",
    )
    shortcut.set_defaults(run=run_shortcut)
    return parser


def run_shortcut(args):
    """Runs (or resumes) the shortcut benchmark and writes its summary."""
    # Imported here so `keras-xai --help` starts without loading a backend.
    from keras_xai.benchmarks.shortcut import (
        SHORTCUT_ARCHITECTURES,
        ShortcutBenchmark,
        shortcut_arm,
        shortcut_benchmark_data,
    )
    from keras_xai.benchmarks.shortcut.report import write_examples, write_report
    from keras_xai.datasets.shortcut import SHORTCUT_VARIANTS

    # Bad names fail before any data is loaded.
    if args.variant not in SHORTCUT_VARIANTS:
        raise ValueError(
            f"`variant` must be one of {SHORTCUT_VARIANTS}. Received: {args.variant!r}"
        )
    if args.architecture not in SHORTCUT_ARCHITECTURES:
        raise ValueError(
            f"`architecture` must be one of {SHORTCUT_ARCHITECTURES}. "
            f"Received: {args.architecture!r}"
        )
    for name in args.arms:
        shortcut_arm(name)
    check_positive_int(args.faithfulness_images, "faithfulness_images", minimum=0)
    check_output_dir(args.output_dir)
    data = data_module.load(args.data, args.data_dir)
    benchmark_data = shortcut_benchmark_data(
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
        variant=args.variant,
        num_classes=len(data.class_names),
        validation_size=args.validation_size,
        train_size=args.train_size,
        test_size=args.test_size,
        patch_size=args.patch_size,
        pad=args.pad,
    )
    benchmark = ShortcutBenchmark(
        benchmark_data,
        args.architecture,
        args.output_dir,
        max_epochs=args.max_epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        settings={"data": data.name},
        faithfulness_images=args.faithfulness_images,
    )
    write_examples(benchmark_data, os.path.join(args.output_dir, "examples.png"))
    if not args.report_only:
        benchmark.run(args.arms, args.seeds, log=lambda line: print(line, flush=True))
    summary = benchmark.summary()
    with open(os.path.join(args.output_dir, "summary.json"), "w") as file:
        json.dump(summary, file, indent=1)
    print(write_report(summary, args.output_dir))
    return 0
