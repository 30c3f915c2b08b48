"""`keras-xai export`: a SavedModel serving the class (and the explanation)."""

from keras_xai.cli.run_directory import load_run
from keras_xai.export import export_saved_model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="export a TensorFlow SavedModel",
        description="Export a trained model as a TensorFlow SavedModel whose "
        "`serve` endpoint returns the class probabilities and, for IMPACTX and "
        "ABN, the explanation map. It reloads with plain TensorFlow: "
        "tf.saved_model.load(DIR).serve(images).",
    )
    parser.add_argument(
        "--model", required=True, help="a `keras-xai train` output dir or .keras file"
    )
    parser.add_argument("--output", required=True, help="SavedModel directory")
    parser.set_defaults(run=run, parser=parser)
    return parser


def run(args):
    model, _ = load_run(args.model)
    export_saved_model(model, args.output)
    print(f"SavedModel written to {args.output}")
    return 0
