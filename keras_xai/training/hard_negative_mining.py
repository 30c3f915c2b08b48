"""Hard negative mining: sample weights from each sample's current loss.

The baseline the explanation-consistency paper compares against (its
ref. [22], Shrivastava et al., online hard example mining): hard samples,
those with a high loss under the current model, get high weights. The
paper only says HNM "assigns higher weights" to hard samples and that its
Eq. (5) `Σ v_i L_i` "coincides" with HNM; keras_xai makes that a weight in
[0, 1] like the consistency weight `v`:

- default: `w_i = L_i / max_j L_j`, the cross-entropy normalised by the
  largest one in the training set (monotone in the loss, the hardest
  sample gets 1);
- `psi="tanh"` (or another `ψ` of the consistency rule): `w_i = ψ(L_i)`,
  the explanation-consistency weight with the loss as the hardness
  score. `L / max L` is set by the single worst sample of the training set
  (often a mislabelled image), so most samples get weights near 0 and a
  few of the hardest carry much of the total weight; `ψ(L)` saturates
  instead (measured in `applications/explanation_consistency/`);
- `fraction=q`: OHEM's selection, `w_i = 1` for the `q·N` samples with the
  highest loss and 0 for the others.

Both then go through `floor + (1 − floor)·w`.
"""

import dataclasses

import numpy as np
from keras import ops

from keras_xai.backend import compile_function, no_grad
from keras_xai.explainers.cam import select_scores
from keras_xai.models.model_split import logits_model
from keras_xai.training.psi import PSI_FUNCTIONS, check_psi
from keras_xai.training.reweighting_callback import (
    ReweightingCallback,
    apply_floor,
    check_floor,
    run_batches,
)
from keras_xai.utils.validation import (
    check_labels,
    check_model,
    check_number,
    check_positive_int,
)


@dataclasses.dataclass
class HardNegativeResult:
    """Weights and per-sample details of one hard-negative-mining pass.

    Attributes:
        weights: float32 `(N,)` in [floor, 1].
        losses: float32 `(N,)`. Cross-entropy of each sample.
        misclassified: bool `(N,)`. The predicted class differs from `y`.
        predictions: int32 `(N,)`. Predicted classes.
    """

    weights: np.ndarray
    losses: np.ndarray
    misclassified: np.ndarray
    predictions: np.ndarray

    def arrays(self):
        """The per-sample arrays, as a dict (for `np.savez`)."""
        return dataclasses.asdict(self)


def check_fraction(fraction):
    """Validates `fraction`: `None` or a number in (0, 1]."""
    if fraction is None:
        return None
    return check_number(fraction, "fraction", 0.0, 1.0, low_inclusive=False)


def check_hardness_rule(fraction, psi):
    """Validates `fraction` and `psi`, of which at most one may be set."""
    fraction = check_fraction(fraction)
    if psi is not None:
        psi = check_psi(psi)
        if fraction is not None:
            raise ValueError(
                "Pass at most one of `fraction` and `psi` (two weighting "
                f"rules). Received: fraction={fraction}, psi={psi!r}"
            )
    return fraction, psi


def loss_weights(losses, fraction=None, floor=0.0, psi=None):
    """Hard-negative-mining weights from per-sample losses (numpy).

    Args:
        losses: float array `(N,)`, non-negative.
        fraction: float in (0, 1] or `None`. `None`: `L / max(L)` (or
            `ψ(L)` with `psi`); a number: 1 for the `ceil(fraction·N)`
            highest losses (ties broken by index), 0 for the rest. Defaults
            to `None`.
        floor: float in [0, 1]. Minimum weight. Defaults to `0.0`.
        psi: str or `None`. `"tanh"`, `"softsign"` or `"arctan"`: weights
            `ψ(L)`. Defaults to `None` (`L / max(L)`).

    Returns:
        float32 array `(N,)` in [floor, 1].
    """
    losses = np.asarray(losses, "float64")
    fraction, psi = check_hardness_rule(fraction, psi)
    floor = check_floor(floor)
    if psi is not None:
        weights = PSI_FUNCTIONS[psi](losses)
    elif fraction is None:
        peak = losses.max(initial=0.0)
        weights = losses / peak if peak > 0 else np.zeros_like(losses)
    else:
        count = int(np.ceil(fraction * len(losses)))
        hardest = np.argsort(-losses, kind="stable")[:count]
        weights = np.zeros_like(losses)
        weights[hardest] = 1.0
    return apply_floor(weights, floor)


class PerSampleLoss:
    """Per-sample cross-entropy and predictions, compiled once per instance.

    Args:
        model: `keras.Model`. A functional classifier (logits reachable, see
            `keras_xai.applications.logits_tensor`).
        batch_size: int. Samples per compiled call. Defaults to 256.
    """

    def __init__(self, model, batch_size=256):
        self.model = check_model(model)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.logits_model = logits_model(model)
        self._function = None

    @property
    def num_classes(self):
        return int(self.logits_model.outputs[0].shape[-1])

    def batch(self, inputs, labels):
        logits = ops.cast(self.logits_model(inputs, training=False), "float32")
        losses = ops.logsumexp(logits, axis=-1) - select_scores(logits, labels)
        return losses, ops.cast(ops.argmax(logits, axis=-1), "int32")

    def __call__(self, inputs, labels, verbose=False):
        """Returns `(losses, predictions)` as numpy arrays `(N,)`."""
        inputs = np.asarray(inputs, "float32")
        labels = check_labels(
            labels, self.num_classes, name="labels", length=len(inputs)
        )
        if self._function is None:
            self._function = compile_function(self.batch, self.model.variables)
        with no_grad():
            losses, predictions = run_batches(
                self._function,
                (inputs, labels),
                self.batch_size,
                verbose=verbose,
                desc="per-sample loss",
            )
        # Rounding can make the loss of a saturated sample slightly negative.
        return np.maximum(losses, 0.0), predictions


def hard_negative_weights(
    model,
    inputs,
    labels,
    fraction=None,
    floor=0.0,
    batch_size=256,
    verbose=False,
    psi=None,
):
    """Hard-negative-mining weights of a training set, in one call.

    Args:
        model: `keras.Model`. A functional classifier.
        inputs: array `(N, ...)`. The training inputs.
        labels: int array `(N,)`. True classes.
        fraction: float in (0, 1] or `None`. See `loss_weights`. Defaults to
            `None` (normalised loss).
        floor: float in [0, 1]. Minimum weight. Defaults to `0.0`.
        batch_size: int. Defaults to 256.
        verbose: bool. Progress bar. Defaults to `False`.
        psi: str or `None`. Weights `ψ(L)`, see `loss_weights`. Defaults
            to `None`.

    Returns:
        A `HardNegativeResult`.

    Example:

    ```python
    result = hard_negative_weights(model, x_train, y_train)
    ```

    Reference:
        Shrivastava et al., "Training Region-based Object Detectors with
        Online Hard Example Mining", CVPR 2016.
    """
    fraction, psi = check_hardness_rule(fraction, psi)
    floor = check_floor(floor)
    return _result(
        PerSampleLoss(model, batch_size),
        inputs,
        labels,
        (fraction, floor, psi),
        verbose,
    )


def _result(per_sample_loss, inputs, labels, rule, verbose):
    """`rule`: `(fraction, floor, psi)` of `loss_weights`."""
    losses, predictions = per_sample_loss(inputs, labels, verbose=verbose)
    return HardNegativeResult(
        weights=loss_weights(losses, *rule),
        losses=losses.astype("float32"),
        misclassified=predictions != np.asarray(labels),
        predictions=predictions.astype("int32"),
    )


class HardNegativeMining(ReweightingCallback):
    """Reweights training samples by their current loss during `fit`.

    The hard-negative-mining baseline of explanation-consistency reweighting,
    with the same schedule (`every`, `start_epoch`), memory (`epochs`,
    `history`, `results`) and `log_dir` diagnostics (`weights_epoch_XXXX.npz`,
    `weight_histograms.png`). Weights: `L / max L`, with `psi` `ψ(L)`, or,
    with `fraction`, the hardest fraction at 1 (see the module docstring).

    Args:
        dataset: `SampleWeightDataset`. The data `fit` reads; `dataset.y`
            must be integer class indices.
        every, start_epoch, verbose, log_dir: the schedule and diagnostics,
            see `ReweightingCallback`.
        fraction: float in (0, 1] or `None`. OHEM-style selection of the
            hardest fraction. Defaults to `None` (normalised loss).
        floor: float in [0, 1]. Minimum weight. Defaults to `0.0`.
        batch_size: int. Samples per compiled call. Defaults to 256.
        psi: str or `None`. `"tanh"`, `"softsign"` or `"arctan"`: weights
            `ψ(L)`. Defaults to `None` (`L / max L`).

    Example:

    ```python
    data = SampleWeightDataset(x_train, y_train, batch_size=100)
    model.fit(data, epochs=40, callbacks=[HardNegativeMining(data, every=4)])
    ```

    Reference:
        Shrivastava et al., "Training Region-based Object Detectors with
        Online Hard Example Mining", CVPR 2016.
    """

    def __init__(
        self,
        dataset,
        every=1,
        fraction=None,
        floor=0.0,
        start_epoch=0,
        batch_size=256,
        verbose=False,
        log_dir=None,
        psi=None,
    ):
        super().__init__(
            dataset,
            every=every,
            start_epoch=start_epoch,
            verbose=verbose,
            log_dir=log_dir,
        )
        self.fraction, self.psi = check_hardness_rule(fraction, psi)
        self.floor = check_floor(floor)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self._per_sample_loss = None

    def on_train_begin(self, logs=None):
        if (
            self._per_sample_loss is None
            or self._per_sample_loss.model is not self.model
        ):
            self._per_sample_loss = PerSampleLoss(self.model, self.batch_size)

    def compute_weights(self):
        if self._per_sample_loss is None:  # called outside `fit`
            self.on_train_begin()
        return _result(
            self._per_sample_loss,
            self.dataset.x,
            self.dataset.y,
            (self.fraction, self.floor, self.psi),
            self.verbose,
        )
