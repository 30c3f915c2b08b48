import argparse

import pytest

from keras_xai.benchmarks.experiment_arguments import add_experiment_arguments


def test_defaults_and_choices():
    parser = argparse.ArgumentParser()
    add_experiment_arguments(parser, backbones=["lenet5", "vgg_small"])
    args = parser.parse_args([])
    assert vars(args) == {
        "data": "fashion_mnist",
        "backbones": ["lenet5", "vgg_small"],
        "seeds": [0, 1, 2],
    }
    args = parser.parse_args(["--data", "digits", "--seeds", "3", "--backbones", "a"])
    assert (args.data, args.seeds, args.backbones) == ("digits", [3], ["a"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "mnist"])


def test_options_left_out():
    parser = argparse.ArgumentParser()
    add_experiment_arguments(parser, seeds=None)
    assert vars(parser.parse_args([])) == {"data": "fashion_mnist"}
