"""Trains one arm of a shortcut benchmark to convergence."""

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np

from keras_xai.applications.explanation_guided import (
    ExplanationGuidedClassifier,
    fit_two_phase,
)
from keras_xai.applications.impactx import IMPACTX
from keras_xai.benchmarks.shortcut.architectures import shortcut_classifier
from keras_xai.benchmarks.shortcut.stage_one_cache import StoredHistory
from keras_xai.explainers.cam import GradCAM
from keras_xai.explainers.partition_shap import PartitionSHAP
from keras_xai.training.attribution_targets import compute_attribution_targets
from keras_xai.training.resumable_early_stopping import ResumableEarlyStopping
from keras_xai.training.reweighting import reweighting_setup
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from keras_xai.utils.validation import check_positive_int

# Arms whose stages each train one model with one optimizer: a killed run
# can resume its stage from the last epoch. (`two_phase` swaps optimizers
# between phases and `consistency` keeps per-sample weights in memory.)
RESUMABLE_KINDS = ("ce", "guided", "ce_continued", "impactx")

# Model evaluations per image of the SHAP targets (IMPACTX's paper).
SHAP_TARGET_EVALS = 2000


class _Steps(NamedTuple):
    """What `train_arm` hands each arm's trainer besides the data.

    `stopping()` the early-stopping callbacks (resumable with a backup),
    `optimizer()` a fresh Adam, `first_stage()` the shared CE first stage,
    `attribution_targets(explainer, split, name)` the true-class targets of
    `split` (cached beside the backup, so they resume).
    """

    stopping: Callable
    optimizer: Callable
    first_stage: Callable
    attribution_targets: Callable


def guidance_masks(arm, split, seed=0):
    """The `mask` target of an `ExplanationGuidedClassifier` for `arm`.

    The guided model's masks mark the region explanations *should* use:
    the object mask for `annotation="object"`, everything but the patch
    (`1 − decoy`, so the input-gradient penalty falls on Ross et al.'s `A`)
    for `annotation="decoy"`, and everything but *another* image's patch
    for `annotation="decoy_shuffled"` (the patch masks permuted over the
    images, a permutation drawn from `seed`).

    Args:
        arm: `ShortcutArm`.
        split: `ShortcutSplit`.
        seed: int. Seeds the permutation of `"decoy_shuffled"`. Defaults
            to 0.

    Returns:
        float32 array `(N, H, W)`.
    """
    if arm.annotation == "decoy":
        return 1.0 - split.decoy_masks
    if arm.annotation == "decoy_shuffled":
        order = np.random.default_rng(seed).permutation(len(split.decoy_masks))
        return 1.0 - split.decoy_masks[order]
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
    progress=None,
    stage_one=None,
    backup_dir=None,
):
    """Trains a fresh classifier as `arm` says, with early stopping.

    Early stopping watches the loss on `data.validation` (built like the
    training split, so it cannot see the shortcut) and restores the best
    epoch's weights. Guided arms train `ExplanationGuidedClassifier`
    (Adam, `learning_rate`); `consistency` trains the classifier with
    `ConsistencyReweighting` through a `SampleWeightDataset`; `impactx`
    trains the classifier with CE (stage 1), computes GradCAM targets of
    the true class and trains `IMPACTX` around it (stage 2), each stage
    early-stopped (`shuffled_targets` in the options gives each image
    another image's target); `ce_continued` trains CE twice in a row, each
    stage early-stopped (IMPACTX's control); `two_phase` trains the
    classifier with CE, then
    fine-tunes it with `fit_two_phase` (backbone frozen, then every layer).
    The CE first stage of the two-stage arms is the same training for all
    of them; with `stage_one` it is trained once per seed and shared. The
    second stage starts from the seed's random state either way, so a
    shared first stage gives the same run as one trained afresh.

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
        progress: callable or `None`. Called with one line after every
            epoch of every stage (epoch, loss, validation loss, seconds), so
            a run of many minutes shows where it is; with it, the `impactx`
            arms' attribution targets also show a progress bar (rate and
            ETA). Defaults to `None`.
        stage_one: `StageOneCache` or `None`. Where the two-stage arms
            keep and reuse their CE first stage. Defaults to `None` (each
            arm trains its own).
        backup_dir: str or `None`. Where a run of the arms that train one
            model per stage (`ce`, `guided`, `ce_continued`, `impactx`)
            keeps its last finished epoch (`BackupAndRestore` and
            `ResumableEarlyStopping`), so a run killed mid-way and started
            again resumes from that epoch; removed when a stage ends. The
            `impactx` arms keep their attribution targets beside it
            (`<backup_dir>_targets`, removed when the run ends), so a run
            killed while computing them resumes at the shard it was on.
            Defaults to `None` (a killed run starts again).

    Returns:
        A tuple `(model, info)`: the trained model (the classifier, images
        -> probabilities; `IMPACTX` for the `impactx` arm) and a dict with
        `epochs` (all stages), `best_epoch` (of the last stage),
        `train_seconds` (of all stages, a reused first stage counted at
        the time it took when it was trained; a run resumed after a kill
        counts only the time since it resumed), `seconds_per_epoch` and
        `stage_one_reused` (bool).
    """
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    patience = check_positive_int(patience, "patience")
    batch_size = check_positive_int(batch_size, "batch_size")
    train = data.clean_train if arm.clean else data.train
    keras.utils.set_random_seed(seed)
    classifier = shortcut_classifier(
        architecture, train.images.shape[1:], data.num_classes
    )
    fit_options = {
        "epochs": max_epochs,
        "batch_size": batch_size,
        "verbose": verbose,
    }

    resumable = backup_dir is not None and arm.kind in RESUMABLE_KINDS

    def stopping():
        options = {
            "monitor": "val_loss",
            "patience": patience,
            "restore_best_weights": True,
        }
        if resumable:
            callbacks = [
                keras.callbacks.BackupAndRestore(backup_dir),
                ResumableEarlyStopping(backup_dir, **options),
            ]
        else:
            callbacks = [keras.callbacks.EarlyStopping(**options)]
        if progress is not None:
            callbacks.append(_EpochProgress(progress, max_epochs))
        return callbacks

    def optimizer():
        return keras.optimizers.Adam(learning_rate)

    def first_stage():
        # The CE first stage of a two-stage arm, then the seed's random
        # state again, so what follows does not depend on whether the
        # stage was trained here or read back from `stage_one`.
        def fit():
            return _fit_cross_entropy(
                classifier, train, data, fit_options, stopping, optimizer
            )

        if stage_one is None:
            history = fit()
        else:
            name = f"seed{seed}" + ("_clean" if arm.clean else "")
            history = stage_one.fit(
                name, classifier, train.images, train.labels, fit, log=progress
            )
        keras.utils.set_random_seed(seed)
        return history

    def attribution_targets(explainer, split, name):
        return compute_attribution_targets(
            explainer,
            split.images,
            split.labels,
            os.path.join(targets_dir, name),
            verbose=progress is not None,
        )

    # True-class targets go next to the run's backup (kept until the run
    # ends, so a killed run resumes them shard by shard) or to scratch.
    with (
        tempfile.TemporaryDirectory()
        if backup_dir is None
        else contextlib.nullcontext(f"{backup_dir}_targets")
    ) as targets_dir:
        start = time.time()
        model, histories = _TRAINERS[arm.kind](
            arm,
            classifier,
            train,
            data,
            seed,
            fit_options,
            _Steps(stopping, optimizer, first_stage, attribution_targets),
        )
    if backup_dir is not None:
        shutil.rmtree(targets_dir, ignore_errors=True)
    seconds = (
        time.time()
        - start
        + sum(
            history.seconds
            for history in histories
            if isinstance(history, StoredHistory)
        )
    )
    epochs = sum(len(history.history["loss"]) for history in histories)
    losses = np.asarray(histories[-1].history["val_loss"], dtype="float64")
    return model, {
        "epochs": epochs,
        "best_epoch": int(np.argmin(losses)) + 1,
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
        "stage_one_reused": any(
            isinstance(history, StoredHistory) for history in histories
        ),
    }


class _EpochProgress(keras.callbacks.Callback):
    """Reports each finished epoch as one line to `write`."""

    def __init__(self, write, max_epochs):
        super().__init__()
        self.write = write
        self.max_epochs = max_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        values = " ".join(
            f"{name} {logs[name]:.4f}" for name in ("loss", "val_loss") if name in logs
        )
        self.write(
            f"  epoch {epoch + 1}/{self.max_epochs}: {values} "
            f"({time.time() - self.start:.0f} s)"
        )


def _validation(data):
    return data.validation.images, data.validation.labels


def _fit_guided(arm, classifier, train, data, seed, fit_options, steps):
    options = dict(arm.options)
    if arm.kind == "ce":
        options = {"beta": 1.0, "guidance": "rrr"}
    model = ExplanationGuidedClassifier(classifier, **options)
    model.compile(optimizer=steps.optimizer())
    history = model.fit(
        train.images,
        {"label": train.labels, "mask": guidance_masks(arm, train, seed)},
        validation_data=_validation(data),
        callbacks=steps.stopping(),
        **fit_options,
    )
    return classifier, [history]


def _fit_cross_entropy(classifier, train, data, fit_options, stopping, optimizer):
    """The floor's training: plain CE, early-stopped (a stage of other arms)."""
    classifier.compile(
        optimizer=optimizer(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return classifier.fit(
        train.images,
        train.labels,
        validation_data=_validation(data),
        callbacks=stopping(),
        **fit_options,
    )


def _fit_two_phase(arm, classifier, train, data, seed, fit_options, steps):
    # The floor's training (CE, early-stopped), then the guided model
    # fine-tuned: backbone frozen (Adam 1e-3) for at most `phase1_epochs`,
    # then every layer (Adam 3e-4), each phase early-stopped.
    stage1 = steps.first_stage()
    options = dict(arm.options)
    fit_options = dict(fit_options)
    phase1_epochs = min(options.pop("phase1_epochs"), fit_options["epochs"])
    model = ExplanationGuidedClassifier(classifier, **options)
    phases = fit_two_phase(
        model,
        train.images,
        {"label": train.labels, "mask": guidance_masks(arm, train, seed)},
        phase1_epochs=phase1_epochs,
        phase2_epochs=fit_options.pop("epochs"),
        validation_data=_validation(data),
        callbacks=steps.stopping(),
        **fit_options,
    )
    return classifier, [stage1, phases.phase1, phases.phase2]


def _fit_consistency(arm, classifier, train, data, seed, fit_options, steps):
    fit_options = dict(fit_options)
    dataset = SampleWeightDataset(
        train.images,
        train.labels,
        batch_size=fit_options.pop("batch_size"),
        seed=seed,
    )
    setup = reweighting_setup("consistency", dataset, **arm.options)
    classifier.compile(
        optimizer=steps.optimizer(), loss=setup.loss, metrics=["accuracy"]
    )
    history = classifier.fit(
        dataset,
        validation_data=_validation(data),
        callbacks=[*setup.callbacks, *steps.stopping()],
        **fit_options,
    )
    return classifier, [history]


def _fit_impactx(arm, classifier, train, data, seed, fit_options, steps):
    # Stage 1: the CE classifier (the floor's training), then attribution
    # targets of the true class (GradCAM, or PartitionSHAP with the paper's
    # 2,000 evaluations) for the training and validation images, then
    # IMPACTX (M frozen) on CE + λ·MSE, both stages early-stopped.
    stage1 = steps.first_stage()
    options = dict(arm.options)
    if options.pop("targets", "gradcam") == "shap":
        explainer = PartitionSHAP(classifier, max_evals=SHAP_TARGET_EVALS)
    else:
        explainer = GradCAM(classifier)
    targets = steps.attribution_targets(explainer, train, "train")
    validation_targets = steps.attribution_targets(
        explainer, data.validation, "validation"
    )
    if options.pop("shuffled_targets", False):
        # The control: each image gets another training image's target.
        rng = np.random.default_rng(seed)
        targets = targets[rng.permutation(len(targets))]
        validation_targets = validation_targets[
            rng.permutation(len(validation_targets))
        ]
    model = IMPACTX(classifier, **options)
    model.compile(optimizer=steps.optimizer())
    stage2 = model.fit(
        train.images,
        {"class": train.labels, "explanation": targets},
        validation_data=(
            data.validation.images,
            {"class": data.validation.labels, "explanation": validation_targets},
        ),
        callbacks=steps.stopping(),
        **fit_options,
    )
    return model, [stage1, stage2]


def _fit_continued(arm, classifier, train, data, seed, fit_options, steps):
    # The floor's training, then CE again from its best weights with a fresh
    # optimizer and early stopping: the model trained on as long as a
    # two-stage method's second stage could train it.
    stage1 = steps.first_stage()
    stage2 = _fit_cross_entropy(
        classifier, train, data, fit_options, steps.stopping, steps.optimizer
    )
    return classifier, [stage1, stage2]


_TRAINERS = {
    "ce": _fit_guided,
    "ce_continued": _fit_continued,
    "guided": _fit_guided,
    "two_phase": _fit_two_phase,
    "consistency": _fit_consistency,
    "impactx": _fit_impactx,
}
