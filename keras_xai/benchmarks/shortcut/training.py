"""Trains one arm of a shortcut benchmark to convergence."""

import time

import keras
import numpy as np

from keras_xai.applications.explanation_guided import ExplanationGuidedClassifier
from keras_xai.benchmarks.shortcut.architectures import shortcut_classifier
from keras_xai.training.reweighting import reweighting_setup
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from keras_xai.utils.validation import check_positive_int


def guidance_masks(arm, split):
    """The `mask` target of an `ExplanationGuidedClassifier` for `arm`.

    The guided model's masks mark the region explanations *should* use:
    the object mask for `annotation="object"`, everything but the patch
    (`1 − decoy`, so the input-gradient penalty falls on Ross et al.'s `A`)
    for `annotation="decoy"`.

    Args:
        arm: `ShortcutArm`.
        split: `ShortcutSplit`.

    Returns:
        float32 array `(N, H, W)`.
    """
    if arm.annotation == "decoy":
        return 1.0 - split.decoy_masks
    return split.object_masks


def train_arm(
    arm,
    data,
    architecture,
    seed,
    max_epochs=30,
    patience=3,
    batch_size=64,
    learning_rate=1e-3,
    verbose=0,
):
    """Trains a fresh classifier as `arm` says, with early stopping.

    Early stopping watches the loss on `data.validation` (built like the
    training split, so it cannot see the shortcut) and restores the best
    epoch's weights. Guided arms train `ExplanationGuidedClassifier`
    (Adam, `learning_rate`); `consistency` trains the classifier with
    `ConsistencyReweighting` through a `SampleWeightDataset`.

    Args:
        arm: `ShortcutArm`.
        data: `ShortcutBenchmarkData`.
        architecture: str. One of `SHORTCUT_ARCHITECTURES`.
        seed: int. Seeds weights, shuffling and dropout.
        max_epochs: int >= 1. Defaults to 30.
        patience: int >= 1. Epochs without improvement before stopping.
            Defaults to 3.
        batch_size: int >= 1. Defaults to 64.
        learning_rate: float. Adam's learning rate. Defaults to 1e-3.
        verbose: int. Keras `fit` verbosity. Defaults to 0.

    Returns:
        A tuple `(classifier, info)`: the trained classifier (images ->
        probabilities) and a dict with `epochs`, `best_epoch`,
        `train_seconds` and `seconds_per_epoch`.
    """
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    patience = check_positive_int(patience, "patience")
    batch_size = check_positive_int(batch_size, "batch_size")
    train = data.clean_train if arm.clean else data.train
    keras.utils.set_random_seed(seed)
    classifier = shortcut_classifier(
        architecture, train.images.shape[1:], data.num_classes
    )
    stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    validation = (data.validation.images, data.validation.labels)
    optimizer = keras.optimizers.Adam(learning_rate)
    start = time.time()
    if arm.kind == "consistency":
        dataset = SampleWeightDataset(
            train.images, train.labels, batch_size=batch_size, seed=seed
        )
        setup = reweighting_setup("consistency", dataset, **arm.options)
        classifier.compile(optimizer=optimizer, loss=setup.loss, metrics=["accuracy"])
        history = classifier.fit(
            dataset,
            epochs=max_epochs,
            validation_data=validation,
            callbacks=[*setup.callbacks, stopping],
            verbose=verbose,
        )
    else:
        options = dict(arm.options)
        if arm.kind == "ce":
            options = {"beta": 1.0, "guidance": "rrr"}
        model = ExplanationGuidedClassifier(classifier, **options)
        model.compile(optimizer=optimizer)
        history = model.fit(
            train.images,
            {"label": train.labels, "mask": guidance_masks(arm, train)},
            epochs=max_epochs,
            batch_size=batch_size,
            validation_data=validation,
            callbacks=[stopping],
            verbose=verbose,
        )
    seconds = time.time() - start
    epochs = len(history.history["loss"])
    losses = np.asarray(history.history["val_loss"], dtype="float64")
    return classifier, {
        "epochs": epochs,
        "best_epoch": int(np.argmin(losses)) + 1,
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
    }
