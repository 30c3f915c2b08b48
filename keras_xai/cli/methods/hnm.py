"""`--method hnm`: see `keras_xai.cli.methods.reweighting`."""

from keras_xai.cli.methods import reweighting

NAME = "hnm"
HELP = reweighting.HELP[NAME]
train = reweighting.train
check = reweighting.check


def add_arguments(group):
    del group  # shared options live with --method consistency
