"""`--method baseline`: the classifier trained with cross-entropy alone."""

from keras_xai.cli.methods._fitting import compile_classifier, final_loss, fit

NAME = "baseline"
HELP = "the classifier alone, trained with cross-entropy"


def add_arguments(group):
    del group  # the common options (--epochs, --learning-rate, ...) suffice


def train(args, data, classifier):
    compile_classifier(args, classifier)
    history = fit(args, classifier, data.x_train, data.y_train)
    return classifier, final_loss(history)
