"""One entry point for the sample-reweighting methods and their baselines."""

import collections
import inspect

import keras

from keras_xai.training.consistency_reweighting import ConsistencyReweighting
from keras_xai.training.hard_negative_mining import HardNegativeMining
from keras_xai.training.sample_weight_dataset import SampleWeightDataset

REWEIGHTING_METHODS = ("consistency", "hnm", "focal", "none")

ReweightingSetup = collections.namedtuple("ReweightingSetup", ["loss", "callbacks"])

_FOCAL_OPTIONS = ("alpha", "gamma")


def reweighting_setup(method, dataset, from_logits=False, **options):
    """The loss and callbacks that train with a reweighting method.

    - `"consistency"`: cross-entropy + `ConsistencyReweighting(dataset,
      **options)`.
    - `"hnm"`: cross-entropy + `HardNegativeMining(dataset, **options)`.
    - `"focal"`: `keras.losses.CategoricalFocalCrossentropy(alpha, gamma)`
      (the focal-loss baseline reweights inside the loss; no callback).
      Keras's focal loss takes one-hot labels, so the dataset must yield
      them: `SampleWeightDataset(..., num_classes=K)`.
    - `"none"`: plain cross-entropy.

    The cross-entropy is sparse or categorical to match the dataset's
    labels (`dataset.num_classes`). Options a method does not take raise
    `ValueError`.

    Args:
        method: str. One of `REWEIGHTING_METHODS`.
        dataset: `SampleWeightDataset`. The data `fit` will read.
        from_logits: bool. Whether the model outputs logits. Defaults to
            `False` (a softmax output, as `ImageClassifier`).
        **options: the callback's options (`every`, `epsilon`, `explainer`,
            ...) or, for `"focal"`, `alpha` (default 0.25) and `gamma`
            (default 2.0).

    Returns:
        A `ReweightingSetup(loss, callbacks)`.

    Example:

    ```python
    data = SampleWeightDataset(x_train, y_train, batch_size=100, seed=0)
    setup = reweighting_setup("consistency", data, every=4, epsilon=0.1)
    model.compile("adam", loss=setup.loss, metrics=["accuracy"])
    model.fit(data, epochs=40, callbacks=setup.callbacks)
    ```
    """
    if method not in REWEIGHTING_METHODS:
        raise ValueError(
            f"`method` must be one of {REWEIGHTING_METHODS}. Received: "
            f"method={method!r}"
        )
    if not isinstance(dataset, SampleWeightDataset):
        raise ValueError(
            "`dataset` must be a keras_xai SampleWeightDataset. Received: "
            f"{type(dataset).__name__}"
        )
    one_hot = dataset.num_classes is not None
    if method == "focal":
        unknown = sorted(set(options) - set(_FOCAL_OPTIONS))
        if unknown:
            raise ValueError(
                f"`focal` takes the options {_FOCAL_OPTIONS}. Received: {unknown}"
            )
        if not one_hot:
            raise ValueError(
                "The focal loss (keras.losses.CategoricalFocalCrossentropy) "
                "needs one-hot labels: build the dataset with "
                "SampleWeightDataset(..., num_classes=K). Received a dataset "
                "with num_classes=None"
            )
        loss = keras.losses.CategoricalFocalCrossentropy(
            alpha=options.get("alpha", 0.25),
            gamma=options.get("gamma", 2.0),
            from_logits=from_logits,
        )
        return ReweightingSetup(loss, [])
    if one_hot:
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    if method == "none":
        if options:
            raise ValueError(f"`none` takes no options. Received: {sorted(options)}")
        return ReweightingSetup(loss, [])
    callback = {"consistency": ConsistencyReweighting, "hnm": HardNegativeMining}[
        method
    ]
    accepted = set(inspect.signature(callback).parameters) - {"dataset"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(
            f"`{method}` takes the options {sorted(accepted)}. Received: {unknown}"
        )
    return ReweightingSetup(loss, [callback(dataset, **options)])
