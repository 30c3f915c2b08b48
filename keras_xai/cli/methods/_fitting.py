"""Compiling and fitting as the method modules all do it, from the common
options (`--learning-rate`, `--epochs`, `--batch-size`, `--verbose`)."""

import keras


def compile_classifier(args, classifier, loss="sparse_categorical_crossentropy"):
    """Compiles `classifier` with Adam at `--learning-rate`, `loss` and accuracy."""
    classifier.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss=loss,
        metrics=["accuracy"],
    )


def fit(args, model, x, y, epochs=None):
    """Fits `model` on `(x, y)` with `--batch-size` and `--verbose`.

    Args:
        args: the parsed `keras-xai train` options.
        model: keras.Model. Compiled.
        x, y: the training inputs and targets, as `model.fit` takes them.
        epochs: int or `None`. `None`: `--epochs`.

    Returns:
        The `keras.callbacks.History` of the fit.
    """
    return model.fit(
        x,
        y,
        epochs=args.epochs if epochs is None else epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )


def final_loss(history):
    """`{"final_loss": ...}`: the last epoch's training loss, for `run.json`."""
    return {"final_loss": float(history.history["loss"][-1])}
