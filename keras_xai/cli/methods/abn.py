"""`--method abn`: the Attention Branch Network baseline."""

import keras

from keras_xai.cli.methods._fitting import final_loss, fit

NAME = "abn"
HELP = "Attention Branch Network (Fukui et al. 2019), IMPACTX's comparison"


def add_arguments(group):
    del group  # trained like the baseline; its options are the common ones


def train(args, data, classifier):
    from keras_xai.applications.abn import ABN

    model = ABN(classifier)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    return model, final_loss(fit(args, model, data.x_train, data.y_train))
