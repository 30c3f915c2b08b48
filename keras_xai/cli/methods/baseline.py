"""`--method baseline`: the classifier trained with cross-entropy alone."""

import keras

NAME = "baseline"
HELP = "the classifier alone, trained with cross-entropy"


def add_arguments(group):
    del group  # the common options (--epochs, --learning-rate, ...) suffice


def train(args, data, classifier):
    classifier.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = classifier.fit(
        data.x_train,
        data.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    return classifier, {"final_loss": float(history.history["loss"][-1])}
