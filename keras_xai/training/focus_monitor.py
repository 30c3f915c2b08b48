"""`FocusMonitor`: the Focus of chosen explainers, measured during `fit`."""

import functools

import keras
import numpy as np

from keras_xai.explainers.by_name import build_explainer, explainer_factory
from keras_xai.metrics.focus import focus_evaluation
from keras_xai.utils.validation import (
    check_images,
    check_labels,
    check_positive_int,
)


def mosaic_copy(model, mosaic_shape):
    """The model rebuilt for mosaic-sized inputs, with the same weights.

    Works for models whose config names their input shape `image_shape`
    (every keras_xai model, e.g. an `ImageClassifier` with `pooling="avg"`).

    Args:
        model: `keras.Model`. The classifier being trained.
        mosaic_shape: tuple `(2H, 2W, C)`.

    Returns:
        A new `keras.Model` of the same class.
    """
    config = model.get_config()
    if "image_shape" not in config:
        raise ValueError(
            "`FocusMonitor` rebuilds the model at the mosaic size from its "
            "config, which has no `image_shape` entry for "
            f"{type(model).__name__}. Pass `mosaic_model=`, a function "
            "`model -> model for (2H, 2W, C) inputs with the same weights`."
        )
    copy = type(model).from_config({**config, "image_shape": tuple(mosaic_shape)})
    copy.set_weights(model.get_weights())
    return copy


class FocusMonitor(keras.callbacks.Callback):
    """Measures Focus (2×2 mosaics) of explainers after training epochs.

    Focus (Arias-Duart et al.) is the share of an explanation's positive
    relevance that falls on the mosaic's images of the explained class. The
    paper argues it tracks how well the model has learnt; this callback
    measures it as the model trains, so the claim can be checked against
    accuracy: before training (epoch 0) and after every `every`-th epoch the
    model is rebuilt at the mosaic size with its current weights, each
    explainer explains the same `num_mosaics` mosaics of `images`, and the
    median Focus goes into the epoch's logs as `focus_<name>` (so `History`,
    `CSVLogger` and `EarlyStopping` see it), with `focus_accuracy`, the
    model's accuracy on `images`. `history` keeps the per-epoch records.

    Args:
        images: array `(N, H, W, C)` in [0, 1]. Held-out images (never the
            training images) the mosaics are built from.
        labels: int array `(N,)`. Their classes.
        explainers: dict `{name: explainer}` or a sequence of registry names.
            An explainer is a registry name (`"gradcam"`, `"lrp"`,
            `"saliency"`, ...), an explainer class, or a factory
            `model -> callable(images, targets) -> maps`. Defaults to
            `("gradcam",)`.
        num_mosaics: int. Mosaics per measurement. Defaults to 200.
        every: int. Epochs between measurements. Defaults to 1.
        seed: int. Seed of the mosaic layout (the same mosaics every
            epoch). Defaults to 0.
        mosaic_model: callable `(model, mosaic_shape) -> model` or `None`
            (`mosaic_copy`: rebuilt from the config). Defaults to `None`.
        batch_size: int. Batch of the accuracy pass. Defaults to 256.

    Attributes:
        history: list of dicts, one per measurement: `epoch` (0 before
            training), `accuracy`, and per explainer `median`, `mean` and
            `scores` (the Focus of each mosaic).

    Example:

    ```python
    model = ImageClassifier("vgg_small", (28, 28, 1), 10, pooling="avg")
    monitor = FocusMonitor(x_test[:2000], y_test[:2000], ["gradcam", "lrp"])
    history = model.fit(x_train, y_train, epochs=10, callbacks=[monitor])
    history.history["focus_gradcam"]  # median Focus after each epoch
    ```

    Reference: A. Arias-Duart, F. Parés, D. Garcia-Gasulla, "Who Explains
    the Explanation? Quantitatively Assessing Feature Attribution
    Methods", 2021.
    """

    def __init__(
        self,
        images,
        labels,
        explainers=("gradcam",),
        num_mosaics=200,
        every=1,
        seed=0,
        mosaic_model=None,
        batch_size=256,
    ):
        super().__init__()
        self.images = check_images(images)
        # Checked against the model's classes when Focus is first measured.
        self.labels = check_labels(
            labels, np.iinfo(np.int32).max, length=len(self.images)
        )
        self.explainers = _check_explainers(explainers)
        self.num_mosaics = check_positive_int(num_mosaics, "num_mosaics")
        self.every = check_positive_int(every, "every")
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if mosaic_model is not None and not callable(mosaic_model):
            raise ValueError(
                "`mosaic_model` must be a callable `(model, mosaic_shape) -> "
                f"model` or None. Received: {type(mosaic_model).__name__}"
            )
        self.mosaic_model = mosaic_model or mosaic_copy
        self.history = []

    @property
    def mosaic_shape(self):
        height, width, channels = self.images.shape[1:]
        return (2 * height, 2 * width, channels)

    def measure(self, epoch):
        """Measures Focus and accuracy now; returns (and keeps) the record.

        Args:
            epoch: int. The number of epochs trained so far.

        Returns:
            The record appended to `history`.
        """
        probabilities = self.model.predict(
            self.images, batch_size=self.batch_size, verbose=0
        )
        if isinstance(probabilities, dict):
            probabilities = probabilities["class"]
        predictions = np.argmax(np.asarray(probabilities), axis=-1)
        record = {
            "epoch": int(epoch),
            "accuracy": float(np.mean(predictions == self.labels)),
        }
        mosaic_model = self.mosaic_model(self.model, self.mosaic_shape)
        for name, explainer in self.explainers.items():
            scores = focus_evaluation(
                mosaic_model,
                explainer,
                self.images,
                self.labels,
                self.num_mosaics,
                seed=self.seed,
            )["scores"]
            record[name] = {
                "median": float(np.median(scores)),
                "mean": float(np.mean(scores)),
                "scores": [float(score) for score in scores],
            }
        self.history.append(record)
        return record

    def on_train_begin(self, logs=None):
        if not self.history or self.history[-1]["epoch"] != 0:
            self.measure(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        record = self.measure(epoch + 1)
        if logs is not None:
            logs["focus_accuracy"] = record["accuracy"]
            for name in self.explainers:
                logs[f"focus_{name}"] = record[name]["median"]


def _check_explainers(explainers):
    """`{name: factory model -> explainer}` from names, classes or factories."""
    if isinstance(explainers, str):
        explainers = (explainers,)
    if isinstance(explainers, dict):
        items = list(explainers.items())
    elif isinstance(explainers, (list, tuple)):
        items = []
        for explainer in explainers:
            if not isinstance(explainer, str):
                raise ValueError(
                    "`explainers` given as a list must hold registry names; "
                    "name other explainers with a dict {name: explainer}. "
                    f"Received: {explainer!r}"
                )
            items.append((explainer, explainer))
    else:
        raise ValueError(
            "`explainers` must be a dict {name: explainer} or a list of "
            f"registry names. Received: {type(explainers).__name__}"
        )
    if not items:
        raise ValueError("`explainers` must name at least one explainer.")
    factories = {}
    for name, explainer in items:
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"`explainers` keys must be non-empty str. Received: {name!r}"
            )
        if not isinstance(explainer, str) and not callable(explainer):
            raise ValueError(
                f"`explainers[{name!r}]` must be a registry name, an explainer "
                f"class or a factory. Received: {type(explainer).__name__}"
            )
        # Unknown names are refused now, not after the first epoch.
        factory = explainer_factory(explainer)
        factories[name] = functools.partial(build_explainer, factory)
    return factories
