"""`add_experiment_arguments`: the options reproduction experiments share."""

from keras_xai.datasets.by_name import BUILTIN_DATASETS

# The datasets every machine has (`load_default_dataset` loads them by
# name); the first is the default.
DATASETS = tuple(name for name in BUILTIN_DATASETS if name != "auto")


def add_experiment_arguments(parser, backbones=None, seeds=(0, 1, 2)):
    """Adds `--data`, `--backbones` and `--seeds` to an experiment's parser.

    `--data` chooses the dataset (`"fashion_mnist"`, the default, or
    scikit-learn's `"digits"`), `--backbones` the models to train and
    `--seeds` the seeds to repeat every run with. Pair it with
    `ResultsStore.add_arguments` for `--output-dir` and `--report-only`.

    Args:
        parser: `argparse.ArgumentParser`.
        backbones: list of str or `None`. Default of `--backbones`; `None`
            adds no `--backbones`. Defaults to `None`.
        seeds: tuple of int or `None`. Default of `--seeds`; `None` adds no
            `--seeds`. Defaults to `(0, 1, 2)`.

    Example:

    ```python
    parser = argparse.ArgumentParser()
    add_experiment_arguments(parser, backbones=["lenet5"])
    args = parser.parse_args(["--seeds", "0", "1"])
    args.data, args.backbones, args.seeds  # "fashion_mnist", ["lenet5"], [0, 1]
    ```
    """
    parser.add_argument("--data", default=DATASETS[0], choices=list(DATASETS))
    if backbones is not None:
        parser.add_argument("--backbones", nargs="+", default=list(backbones))
    if seeds is not None:
        parser.add_argument("--seeds", type=int, nargs="+", default=list(seeds))
