"""Two-stage and single-stage IMPACTX training in one call each."""

import collections
import os
import tempfile

import keras

from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.impactx.impactx import IMPACTX
from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import GradCAM
from keras_xai.training.attribution_targets import (
    compute_attribution_targets,
    scale_maps,
)
from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.target_refresh import TargetRefresh
from keras_xai.utils.validation import check_images, check_labels, check_positive_int

TrainingResult = collections.namedtuple(
    "TrainingResult",
    ["model", "classifier", "stage1_history", "stage2_history", "targets"],
)

_CLASSIFIER_KEYS = ("architecture", "image_shape", "num_classes", "weights")


def _classifier_and_options(source, impactx_options):
    """A stage-1 classifier and IMPACTX options from a preset or a model."""
    options = dict(impactx_options or {})
    if isinstance(source, str):
        if source not in IMPACTX.presets:
            raise ValueError(
                f"Unknown IMPACTX preset {source!r}. "
                f"Valid names: {', '.join(sorted(IMPACTX.presets))}"
            )
        config = dict(IMPACTX.presets[source]["config"])
        classifier_config = {k: config.pop(k) for k in _CLASSIFIER_KEYS if k in config}
        return ImageClassifier(**classifier_config), {**config, **options}
    if isinstance(source, ImageClassifier):
        return source, options
    raise ValueError(
        "`classifier` must be an IMPACTX preset name or an ImageClassifier. "
        f"Received: {type(source).__name__}"
    )


def _explainer(explainer, classifier):
    built = (explainer or GradCAM)(classifier)
    if not isinstance(built, Explainer):
        raise ValueError(
            "`explainer` must be an Explainer class or a callable "
            f"model -> Explainer. Received: {explainer!r}"
        )
    return built


def fit_two_stage(
    classifier,
    x,
    y,
    explainer=None,
    cache_dir=None,
    stage1_epochs=5,
    stage2_epochs=5,
    batch_size=64,
    validation_split=0.0,
    stage1_optimizer=None,
    stage2_optimizer="auto",
    callbacks=None,
    stage1_callbacks=None,
    impactx_options=None,
    shard_size=1024,
    verbose=1,
):
    """Stage 1, attribution targets, stage 2 — IMPACTX's two-stage training.

    1. Trains the classifier `A` with cross-entropy.
    2. Explains every training image for its true class with `explainer`
       on `A` (cached in `cache_dir`: resumable, see
       `compute_attribution_targets`).
    3. Builds IMPACTX around `A` (`M` frozen, `LEP` initialised from `A`)
       and trains it with `CE + λ·MSE` on `{"class": y, "explanation": r}`.

    Args:
        classifier: an `ImageClassifier` (stage-1 model) or an IMPACTX preset
            name (a fresh classifier of that configuration).
        x: array `(N, H, W, C)` in `[0, 1]`.
        y: int array `(N,)`.
        explainer: `Explainer` class or callable `model -> Explainer`, the
            method `R`. Defaults to `GradCAM` (the paper uses
            `PartitionSHAP` with `max_evals=2000`; pass
            `lambda m: PartitionSHAP(m, max_evals=2000)`).
        cache_dir: str or `None`. Attribution cache; `None` uses a temporary
            directory (not resumable). Defaults to `None`.
        stage1_epochs: int. Defaults to 5.
        stage2_epochs: int. Defaults to 5.
        batch_size: int. Defaults to 64.
        validation_split: float. Forwarded to both `fit` calls. Defaults to 0.
        stage1_optimizer: optimizer for stage 1. Defaults to Adam(1e-3).
        stage2_optimizer: optimizer for stage 2. Defaults to `"auto"`.
        callbacks: list of Keras callbacks for stage 2.
        stage1_callbacks: list of Keras callbacks for stage 1.
        impactx_options: dict of `IMPACTX` arguments (e.g.
            `explanation_weight`).
        shard_size: int. Images per cache shard. Defaults to 1024.
        verbose: int. Keras verbosity (0 also hides the progress bar).

    Returns:
        `TrainingResult(model, classifier, stage1_history, stage2_history,
        targets)`.

    Example:

    ```python
    result = fit_two_stage("lenet5_fashion_mnist", x, y, cache_dir="cache")
    outputs = result.model.predict(x_test)
    ```
    """
    classifier, options = _classifier_and_options(classifier, impactx_options)
    x = check_images(x, "x", expected_shape=classifier.image_shape)
    y = check_labels(y, classifier.num_classes, name="y", length=len(x))
    stage1_epochs = check_positive_int(stage1_epochs, "stage1_epochs")
    stage2_epochs = check_positive_int(stage2_epochs, "stage2_epochs")

    classifier.compile(
        optimizer=stage1_optimizer or keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stage1 = classifier.fit(
        x,
        y,
        epochs=stage1_epochs,
        batch_size=batch_size,
        validation_split=validation_split,
        callbacks=stage1_callbacks,
        verbose=verbose,
    )
    with tempfile.TemporaryDirectory() as scratch:
        targets = compute_attribution_targets(
            _explainer(explainer, classifier),
            x,
            y,
            cache_dir or os.path.join(scratch, "targets"),
            shard_size=shard_size,
            verbose=bool(verbose),
        )
    model = IMPACTX(classifier, **options)
    model.compile(optimizer=stage2_optimizer)
    stage2 = model.fit(
        x,
        {"class": y, "explanation": targets},
        epochs=stage2_epochs,
        batch_size=batch_size,
        validation_split=validation_split,
        callbacks=callbacks,
        verbose=verbose,
    )
    return TrainingResult(model, classifier, stage1, stage2, targets)


def fit_single_stage(
    classifier,
    x,
    y,
    explainer=None,
    epochs=10,
    refresh_every=1,
    batch_size=64,
    optimizer="auto",
    callbacks=None,
    impactx_options=None,
    seed=0,
    verbose=1,
):
    """Single-stage IMPACTX: all modules train together; targets refresh.

    Targets are computed with `explainer` on the inner classifier `A` before
    training and recomputed every `refresh_every` epochs (`TargetRefresh`),
    so they follow the classifier as it learns.

    Args:
        classifier: an `ImageClassifier` or an IMPACTX preset name.
        x: array `(N, H, W, C)` in `[0, 1]`.
        y: int array `(N,)`.
        explainer: `Explainer` class or callable `model -> Explainer`.
            Defaults to `GradCAM`.
        epochs: int. Defaults to 10.
        refresh_every: int. Epochs between target refreshes. Defaults to 1.
        batch_size: int. Defaults to 64.
        optimizer: optimizer. Defaults to `"auto"`.
        callbacks: list of extra Keras callbacks.
        impactx_options: dict of `IMPACTX` arguments.
        seed: int. Shuffling seed. Defaults to 0.
        verbose: int. Keras verbosity.

    Returns:
        `TrainingResult(model, classifier, None, history, targets)` with the
        last targets used.
    """
    classifier, options = _classifier_and_options(classifier, impactx_options)
    x = check_images(x, "x", expected_shape=classifier.image_shape)
    y = check_labels(y, classifier.num_classes, name="y", length=len(x))
    model = IMPACTX(classifier, **{**options, "freeze_classifier": False})

    def factory(impactx):
        return _explainer(explainer, impactx.classifier)

    initial = factory(model)(x, targets=y)
    data = ExplanationTargetsDataset(
        x, y, scale_maps(initial), batch_size=batch_size, seed=seed
    )
    refresh = TargetRefresh(data, factory, every=refresh_every)
    model.compile(optimizer=optimizer)
    history = model.fit(
        data, epochs=epochs, callbacks=[refresh, *(callbacks or [])], verbose=verbose
    )
    return TrainingResult(model, classifier, None, history, data.targets)
