"""`--method consistency`: see `keras_xai.cli.methods.reweighting`."""

from keras_xai.cli.methods import reweighting

NAME = "consistency"
HELP = reweighting.HELP[NAME]
train = reweighting.train
check = reweighting.check


def add_arguments(group):
    group.title = "--method consistency, hnm and focal options"
    reweighting.add_arguments(group)
