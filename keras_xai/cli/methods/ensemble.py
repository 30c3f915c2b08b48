"""`--method ensemble`: an `ExplanationEnsemble` of classifiers."""

import keras

from keras_xai.applications import ExplanationEnsemble
from keras_xai.applications.ensemble import STRATEGIES
from keras_xai.cli.methods._fitting import fit

NAME = "ensemble"
HELP = "an ensemble whose explanation is the mean of its members' maps"


def add_arguments(group):
    group.add_argument("--members", type=int, default=5, help="N >= 2 (default 5)")
    group.add_argument(
        "--strategy",
        default="random_heads",
        choices=STRATEGIES,
        help="how members differ (default random_heads)",
    )


def check(args, parser):
    if args.members < 2:
        parser.error(f"--members must be >= 2; got {args.members}")


def train(args, data, classifier):
    model = ExplanationEnsemble(
        classifier, num_members=args.members, strategy=args.strategy, seed=args.seed
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    fit(args, model, data.x_train, data.y_train)
    return model, {}
