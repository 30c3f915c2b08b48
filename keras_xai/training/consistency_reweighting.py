"""Explanation-consistency sample reweighting.

A training sample whose explanation survives an adversarial perturbation of
its background is "explanation-consistent" and gets a low weight; one whose
explanation changes (or whose prediction flips) gets a high weight. For
every sample `x` with label `y`, with `g` a CAM scaled to [0, 1]:

    h  = ε · sign(∇x CE(f(x), y))                     (FGSM)
    x̂  = clip(x + h ∘ (1 − g(x)), 0, 1)               (background only)
    D  = ψ(‖g(x̂) − g(x)‖²)                            (g at the image's size)
    v  = D if f(x̂) = f(x), 1 if the prediction flips, 1 if f(x) ≠ y.

The adversarial images only measure consistency; they are never trained on.
"""

import dataclasses
import os

import numpy as np
from keras import ops

from keras_xai.backend import compile_function, no_grad, value_and_grad
from keras_xai.explainers.by_name import EXPLAINERS, cam_explainer_names
from keras_xai.explainers.cam import CAMExplainer, select_scores, upsample_maps
from keras_xai.training.psi import PSI_FUNCTIONS, check_psi
from keras_xai.training.reweighting_callback import (
    ReweightingCallback,
    apply_floor,
    check_floor,
    run_batches,
)
from keras_xai.utils.validation import (
    check_images,
    check_labels,
    check_model,
    check_number,
    check_positive_int,
)
from keras_xai.visualization.consistency_figures import save_consistency_examples

# The CAMs of the explainer registry: `g(x)` must be a [0, 1] map.
CAM_EXPLAINERS = {name: EXPLAINERS[name] for name in cam_explainer_names()}

# Where D compares the two heatmaps: upsampled to the image (the paper's
# g(f(x)) shares the image's size) or at the CAM's own resolution.
DISTANCE_SIZES = ("image", "native")

# A map whose range is below this fraction of its peak is constant up to
# rounding; scaling it to [0, 1] would blow rounding noise up to full range.
_RELATIVE_RANGE_TOLERANCE = 1e-5
_MASK_ONE_TOLERANCE = 1e-6

# The options of the pass that `ConsistencyReweighting` keeps and hands on
# to the `ExplanationConsistency` it builds (see `check_pass_options`).
_PASS_OPTIONS = ("epsilon", "psi", "floor", "batch_size", "distance_size")


def normalize_heatmaps(maps):
    """Min-max scales each `(h, w)` map of a batch to [0, 1] (keras ops).

    Constant maps (range below 1e-5 of the peak, all-zero CAMs included)
    become all zeros. Min-max is the usual CAM normalisation (the paper's
    heatmaps come "with normalization and ReLU ... ranging from 0 to 1"),
    so `g(x)` is a mask whose peak is exactly 1.

    Args:
        maps: float tensor `(B, h, w)`, non-negative (after the CAM's ReLU).

    Returns:
        float32 tensor `(B, h, w)` in [0, 1].
    """
    maps = ops.cast(maps, "float32")
    low = ops.min(maps, axis=(1, 2), keepdims=True)
    high = ops.max(maps, axis=(1, 2), keepdims=True)
    span = high - low
    peak = ops.maximum(ops.abs(high), ops.abs(low))
    varying = span > _RELATIVE_RANGE_TOLERANCE * peak
    scaled = (maps - low) / ops.where(varying, span, 1.0)
    return ops.where(varying, scaled, 0.0)


@dataclasses.dataclass
class ConsistencyResult:
    """Weights and per-sample details of one explanation-consistency pass.

    Attributes:
        weights: float32 `(N,)` in [floor, 1]. The training weights `v`.
        distances: float32 `(N,)` in [0, 1). `D = ψ(‖g(x̂) − g(x)‖²)`.
        squared_differences: float32 `(N,)`. `‖g(x̂) − g(x)‖²` before `ψ`.
        flipped: bool `(N,)`. The prediction on `x̂` differs from that on `x`.
        misclassified: bool `(N,)`. The prediction on `x` differs from `y`.
        predictions: int32 `(N,)`. Predicted classes of `x`.
        perturbed_predictions: int32 `(N,)`. Predicted classes of `x̂`.
        perturbed: float32 `(N, H, W, C)` or `None`. The images `x̂` (only
            with `return_examples=True`).
        masks: float32 `(N, H, W)` or `None`. `g(x)` upsampled to the input
            size, the mask of Eq. (1).
        heatmaps: float32 `(N, h, w)` or `None`. `g(x)` at the CAM's size.
        perturbed_heatmaps: float32 `(N, h, w)` or `None`. `g(x̂)`.
    """

    weights: np.ndarray
    distances: np.ndarray
    squared_differences: np.ndarray
    flipped: np.ndarray
    misclassified: np.ndarray
    predictions: np.ndarray
    perturbed_predictions: np.ndarray
    perturbed: np.ndarray = None
    masks: np.ndarray = None
    heatmaps: np.ndarray = None
    perturbed_heatmaps: np.ndarray = None

    @property
    def consistency(self):
        """The paper's `E` (Eq. 2): `1 − D`, or 0 where the prediction flips."""
        return np.where(self.flipped, 0.0, 1.0 - self.distances).astype("float32")

    def arrays(self):
        """The per-sample arrays that are set, as a dict (for `np.savez`)."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }


def check_epsilon(epsilon):
    """Validates the FGSM step `epsilon`, a finite number > 0."""
    return check_number(epsilon, "epsilon", low=0.0, low_inclusive=False)


def check_distance_size(distance_size):
    """Validates where `D` is computed: `"image"` or `"native"`."""
    if not isinstance(distance_size, str) or distance_size not in DISTANCE_SIZES:
        raise ValueError(
            f"`distance_size` must be one of {DISTANCE_SIZES}. "
            f"Received: distance_size={distance_size!r}"
        )
    return distance_size


def check_pass_options(epsilon, psi, floor, batch_size, distance_size):
    """Validates the options of an explanation-consistency pass.

    The options `ExplanationConsistency` and `ConsistencyReweighting` share,
    checked in one place.

    Args:
        epsilon: float. FGSM step, > 0.
        psi: str. `"tanh"`, `"softsign"` or `"arctan"`.
        floor: float in [0, 1]. Minimum weight.
        batch_size: int. Images per compiled call, >= 1.
        distance_size: str. `"image"` or `"native"`.

    Returns:
        A dict of the validated options, keyed by argument name.
    """
    return {
        "epsilon": check_epsilon(epsilon),
        "psi": check_psi(psi),
        "floor": check_floor(floor),
        "batch_size": check_positive_int(batch_size, "batch_size"),
        "distance_size": check_distance_size(distance_size),
    }


def check_cam_explainer(explainer):
    """Validates a CAM given by name, class or instance (before a model)."""
    if isinstance(explainer, str):
        if explainer.lower() not in CAM_EXPLAINERS:
            raise ValueError(
                "`explainer` must be a CAM method: one of "
                f"{sorted(CAM_EXPLAINERS)}, a CAMExplainer subclass or instance. "
                f"Received: explainer={explainer!r}"
            )
        return explainer.lower()
    if isinstance(explainer, CAMExplainer) or (
        isinstance(explainer, type) and issubclass(explainer, CAMExplainer)
    ):
        return explainer
    raise ValueError(
        "`explainer` must be a CAM method (the heatmap masks the image, so it "
        f"must be a [0, 1] map): one of {sorted(CAM_EXPLAINERS)}, a "
        f"CAMExplainer subclass or instance. Received: explainer={explainer!r}"
    )


def weights_from_differences(
    squared_differences, flipped, misclassified, psi="tanh", floor=0.0
):
    """The last step of the pass: `v` from `‖g(x̂) − g(x)‖²` and the flags.

    `D = ψ(squared_differences)`; `v = floor + (1 − floor)·D` where the
    sample is correctly classified and its prediction did not flip, 1
    elsewhere. Useful to re-derive weights with another `psi` or `floor`
    from a saved pass (`weights_epoch_XXXX.npz`) without recomputing it.

    Args:
        squared_differences: float array `(N,)`, non-negative.
        flipped: bool array `(N,)`.
        misclassified: bool array `(N,)`.
        psi: str. `"tanh"`, `"softsign"` or `"arctan"`. Defaults to
            `"tanh"`.
        floor: float in [0, 1]. Defaults to `0.0`.

    Returns:
        Tuple `(weights, distances)` of float32 arrays `(N,)`.
    """
    psi = check_psi(psi)
    floor = check_floor(floor)
    squared = np.asarray(squared_differences, "float64")
    flipped = np.asarray(flipped, bool)
    misclassified = np.asarray(misclassified, bool)
    if not (
        squared.ndim == 1 and flipped.shape == misclassified.shape == squared.shape
    ):
        raise ValueError(
            "`squared_differences`, `flipped` and `misclassified` must be 1-D "
            f"and of one length. Received shapes {squared.shape}, "
            f"{flipped.shape}, {misclassified.shape}"
        )
    distances = PSI_FUNCTIONS[psi](squared)
    weights = np.where(flipped | misclassified, 1.0, apply_floor(distances, floor))
    return weights.astype("float32"), distances.astype("float32")


def _build_cam(model, explainer):
    explainer = check_cam_explainer(explainer)
    if isinstance(explainer, CAMExplainer):
        if explainer.model is not model:
            raise ValueError(
                "`explainer` must explain the model being reweighted; it was "
                f"built on {explainer.model.name!r}, not {model.name!r}"
            )
        return explainer
    if isinstance(explainer, str):
        explainer = CAM_EXPLAINERS[explainer]
    return explainer(model, upsample=False)


class ExplanationConsistency:
    """Computes explanation-consistency weights, compiled once per instance.

    The per-batch computation (prediction, FGSM gradient, CAM of `x`, the
    masked perturbation, prediction and CAM of `x̂`) is one function
    compiled with `keras_xai.backend.compile_function`; it reads the model's
    current weights at every call, so one instance serves a whole training
    run. `consistency_weights` is the one-call form.

    The paper's heatmap `g(f(x))` has the image's size: the CAM (after its
    ReLU) is min-max scaled per image to [0, 1] (constant maps become 0)
    and upsampled bilinearly to the input size (values stay in [0, 1], so
    where `g = 1` the pixel is untouched). Both the mask `1 − g` and `D`
    use it. `distance_size="native"` computes `D` on the CAMs at their own
    resolution instead (4×4 for LeNet-5: squared distances about
    `H·W / (h·w)` times smaller, so `ψ` leaves most consistent samples
    near weight 0).

    Decisions the paper leaves open:
    - The CAMs of `x` and `x̂` explain the true class `y`: for every sample
      whose weight depends on `D` (correct, prediction unchanged) it is the
      predicted class of both images.
    - `sign(0) = +1`, as in the paper; `x̂` is clipped to the [0, 1] pixel
      range, so images must be in [0, 1].
    - `floor`: `v = floor + (1 − floor)·D` for consistent correct samples.
      A model whose heatmaps never change gets `ψ(0) = 0` for them, i.e.
      zero weight; a floor keeps them in training.

    Args:
        model: `keras.Model`. A functional classifier (logits reachable, see
            `keras_xai.applications.logits_tensor`) on [0, 1] images.
        explainer: str, `CAMExplainer` subclass or instance. The CAM `g`:
            `"gradcam"`, `"xgradcam"`, `"eigencam"`, `"gradcam++"`,
            `"ablationcam"` or `"scorecam"`; an instance must be built on
            `model` (its `upsample` setting is ignored). Defaults to
            `"gradcam"`.
        epsilon: float. FGSM step in [0, 1] pixel units. Defaults to `0.1`.
        psi: str. `"tanh"`, `"softsign"` or `"arctan"`. Defaults to
            `"tanh"`.
        floor: float in [0, 1]. Minimum weight of consistent, correctly
            classified samples. Defaults to `0.0` (the paper).
        batch_size: int. Images per compiled call. Defaults to 128.
        distance_size: str. `"image"` (the paper: `D` between heatmaps
            upsampled to the image) or `"native"` (between the CAMs at
            their own resolution). Defaults to `"image"`.

    Example:

    ```python
    consistency = ExplanationConsistency(model, explainer="xgradcam")
    result = consistency(x_train, y_train)
    result.weights, result.flipped.mean()
    ```

    Reference:
        Wu et al., "Improving Network Interpretability via Explanation
        Consistency Evaluation", IEEE Transactions on Multimedia 2024.
    """

    def __init__(
        self,
        model,
        explainer="gradcam",
        epsilon=0.1,
        psi="tanh",
        floor=0.0,
        batch_size=128,
        distance_size="image",
    ):
        self.model = check_model(model)
        options = check_pass_options(epsilon, psi, floor, batch_size, distance_size)
        for name, value in options.items():
            setattr(self, name, value)
        self.cam = _build_cam(model, explainer)
        self._functions = {}

    def batch(self, images, labels, return_examples=False):
        """The per-batch computation on backend tensors (traceable).

        Args:
            images: float32 tensor `(b, H, W, C)` in [0, 1].
            labels: int32 tensor `(b,)`.
            return_examples: bool. Also return `x̂`, the mask and the CAMs.

        Returns:
            Tuple `(predictions, perturbed_predictions, squared_differences)`,
            then `(perturbed, masks, heatmaps, perturbed_heatmaps)` when
            `return_examples`.
        """
        logits_model = self.cam.logits_model

        def loss_and_logits(x):
            # Column 0: the cross-entropy (its gradient is FGSM's); the rest:
            # the logits, behind stop_gradient so they add nothing to it.
            # One forward pass serves the prediction and the attack.
            logits = ops.cast(logits_model(x, training=False), "float32")
            loss = ops.logsumexp(logits, axis=-1) - select_scores(logits, labels)
            return ops.concatenate([loss[:, None], ops.stop_gradient(logits)], 1)

        values, gradients = value_and_grad(loss_and_logits, images)
        predictions = ops.cast(ops.argmax(values[:, 1:], axis=-1), "int32")
        direction = ops.where(gradients >= 0, 1.0, -1.0)
        heatmaps = normalize_heatmaps(ops.relu(self.cam.feature_maps(images, labels)))
        masks = ops.clip(upsample_maps(heatmaps, tuple(images.shape[1:3])), 0.0, 1.0)
        # Resize kernels differ by rounding across backends (JAX gives
        # 0.99999994 where TF gives 1): snap so the peak is never perturbed.
        masks = ops.where(masks >= 1.0 - _MASK_ONE_TOLERANCE, 1.0, masks)
        step = self.epsilon * ops.cast(direction, images.dtype)
        perturbed = ops.clip(
            images + step * (1.0 - ops.expand_dims(masks, -1)), 0.0, 1.0
        )
        perturbed_logits = ops.cast(logits_model(perturbed, training=False), "float32")
        perturbed_predictions = ops.cast(ops.argmax(perturbed_logits, axis=-1), "int32")
        perturbed_heatmaps = normalize_heatmaps(
            ops.relu(self.cam.feature_maps(perturbed, labels))
        )
        if self.distance_size == "image":
            perturbed_masks = ops.clip(
                upsample_maps(perturbed_heatmaps, tuple(images.shape[1:3])), 0.0, 1.0
            )
            difference = perturbed_masks - masks
        else:
            difference = perturbed_heatmaps - heatmaps
        squared = ops.sum(ops.square(difference), axis=(1, 2))
        outputs = (predictions, perturbed_predictions, squared)
        if return_examples:
            outputs += (perturbed, masks, heatmaps, perturbed_heatmaps)
        return outputs

    def __call__(self, images, labels, return_examples=False, verbose=False):
        """Explanation-consistency weights of `images` with true `labels`.

        Args:
            images: array `(N, H, W, C)` in [0, 1].
            labels: int array `(N,)`. True classes.
            return_examples: bool. Keep `x̂`, the masks and both CAMs in the
                result (memory: one more copy of the images). Defaults to
                `False`.
            verbose: bool. Show a progress bar. Defaults to `False`.

        Returns:
            A `ConsistencyResult`.
        """
        images = check_images(images, expected_shape=self.model.inputs[0].shape[1:])
        low, high = float(images.min()), float(images.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                "`images` must have values in [0, 1] (x̂ is clipped to that "
                f"range). Received values in [{low}, {high}]"
            )
        labels = check_labels(
            labels, self.cam.num_classes, name="labels", length=len(images)
        )
        examples = bool(return_examples)
        if examples not in self._functions:
            self._functions[examples] = compile_function(
                lambda x, y: self.batch(x, y, examples), self.model.variables
            )
        with no_grad():
            outputs = run_batches(
                self._functions[examples],
                (images, labels),
                self.batch_size,
                verbose=verbose,
                desc="explanation consistency",
            )
        predictions, perturbed_predictions, squared = outputs[:3]
        flipped = perturbed_predictions != predictions
        misclassified = predictions != labels
        weights, distances = weights_from_differences(
            squared, flipped, misclassified, psi=self.psi, floor=self.floor
        )
        extras = {}
        if examples:
            names = ("perturbed", "masks", "heatmaps", "perturbed_heatmaps")
            extras = {n: a.astype("float32") for n, a in zip(names, outputs[3:])}
        return ConsistencyResult(
            weights=weights,
            distances=distances,
            squared_differences=squared.astype("float32"),
            flipped=flipped,
            misclassified=misclassified,
            predictions=predictions.astype("int32"),
            perturbed_predictions=perturbed_predictions.astype("int32"),
            **extras,
        )


def consistency_weights(
    model,
    images,
    labels,
    explainer="gradcam",
    epsilon=0.1,
    psi="tanh",
    floor=0.0,
    batch_size=128,
    return_examples=False,
    verbose=False,
    distance_size="image",
):
    """Explanation-consistency weights of a training set, in one call.

    See `ExplanationConsistency` for the computation and its decisions; build
    one of those to reuse the compiled function across calls.

    Args:
        model: `keras.Model`. A functional classifier on [0, 1] images.
        images: array `(N, H, W, C)` in [0, 1].
        labels: int array `(N,)`. True classes.
        explainer: str, `CAMExplainer` subclass or instance. Defaults to
            `"gradcam"`.
        epsilon: float. FGSM step. Defaults to `0.1`.
        psi: str. `"tanh"`, `"softsign"` or `"arctan"`. Defaults to `"tanh"`.
        floor: float in [0, 1]. Minimum weight of consistent correct
            samples. Defaults to `0.0`.
        batch_size: int. Defaults to 128.
        return_examples: bool. Keep `x̂`, masks and CAMs. Defaults to
            `False`.
        verbose: bool. Progress bar. Defaults to `False`.
        distance_size: str. `"image"` or `"native"`, see
            `ExplanationConsistency`. Defaults to `"image"`.

    Returns:
        A `ConsistencyResult` (`weights`, `distances`, `flipped`,
        `misclassified`, ...).

    Example:

    ```python
    result = consistency_weights(model, x_train, y_train, epsilon=0.1)
    model.fit(x_train, y_train, sample_weight=result.weights)
    ```

    Reference:
        As `ExplanationConsistency`.
    """
    consistency = ExplanationConsistency(
        model,
        explainer=explainer,
        epsilon=epsilon,
        psi=psi,
        floor=floor,
        batch_size=batch_size,
        distance_size=distance_size,
    )
    return consistency(images, labels, return_examples=return_examples, verbose=verbose)


class ConsistencyReweighting(ReweightingCallback):
    """Reweights training samples by explanation consistency during `fit`.

    At the beginning of epochs `start_epoch`, `start_epoch + every`, ... it
    computes `consistency_weights` of the whole training set (`dataset.x`,
    `dataset.y`) with the current model and hands them to the dataset, so
    the following epochs minimise `Σ v_i CE_i` (Eq. 5). The paper's
    Algorithm 1 trains one round with all weights 1 first: `start_epoch=1`.
    The compiled pass is built once per `fit` and follows the weights.

    Per round it keeps `epochs`, `history` (the weights) and `results`
    (`ConsistencyResult`s); with `log_dir` it also writes
    `weights_epoch_XXXX.npz`, `weight_histograms.png` and
    `consistency_examples_epoch_XXXX.png` (the paper's Fig. 4: the
    `num_examples` most and least consistent correctly classified samples
    with their CAMs and perturbed images). `XXXX` is the 1-based epoch
    trained on those weights.

    Args:
        dataset: `SampleWeightDataset`. The data `fit` reads; `dataset.y`
            must be integer class indices.
        explainer, epsilon, psi, floor, batch_size, distance_size: the
            pass's options, see `ExplanationConsistency` (same defaults).
        every, start_epoch, verbose, log_dir: the schedule and diagnostics,
            see `ReweightingCallback`.
        num_examples: int. Most and least consistent examples drawn per
            round in `log_dir`. Defaults to 4.

    Example:

    ```python
    data = SampleWeightDataset(x_train, y_train, batch_size=100, seed=0)
    reweighting = ConsistencyReweighting(data, explainer="xgradcam", every=4)
    model.fit(data, epochs=40, callbacks=[reweighting])
    ```

    Reference:
        As `ExplanationConsistency`.
    """

    def __init__(
        self,
        dataset,
        explainer="gradcam",
        epsilon=0.1,
        every=1,
        psi="tanh",
        floor=0.0,
        start_epoch=0,
        batch_size=128,
        verbose=False,
        log_dir=None,
        num_examples=4,
        distance_size="image",
    ):
        super().__init__(
            dataset,
            every=every,
            start_epoch=start_epoch,
            verbose=verbose,
            log_dir=log_dir,
        )
        self.explainer = check_cam_explainer(explainer)
        options = check_pass_options(epsilon, psi, floor, batch_size, distance_size)
        for name, value in options.items():
            setattr(self, name, value)
        self.num_examples = check_positive_int(num_examples, "num_examples")
        self._consistency = None

    def on_train_begin(self, logs=None):
        if self._consistency is None or self._consistency.model is not self.model:
            self._consistency = ExplanationConsistency(
                self.model,
                explainer=self.explainer,
                **{name: getattr(self, name) for name in _PASS_OPTIONS},
            )

    def compute_weights(self):
        if self._consistency is None:  # called outside `fit`
            self.on_train_begin()
        return self._consistency(self.dataset.x, self.dataset.y, verbose=self.verbose)

    def summary(self, result):
        correct = ~result.misclassified
        return (
            f"{super().summary(result)}; misclassified "
            f"{int(result.misclassified.sum())}, flipped by the perturbation "
            f"{int((result.flipped & correct).sum())} of {int(correct.sum())} "
            "correct"
        )

    def write_diagnostics(self, epoch, result):
        super().write_diagnostics(epoch, result)
        correct = np.flatnonzero(~result.misclassified)
        if not len(correct):
            return
        # The most and least consistent correct samples, recomputed with
        # their images (the pass is deterministic, so the numbers agree).
        order = correct[np.argsort(result.consistency[correct], kind="stable")]
        k = self.num_examples
        chosen = np.unique(np.concatenate([order[:k], order[-k:]]))
        examples = self._consistency(
            self.dataset.x[chosen], self.dataset.y[chosen], return_examples=True
        )
        save_consistency_examples(
            self.dataset.x[chosen],
            examples.heatmaps,
            examples.perturbed,
            examples.perturbed_heatmaps,
            examples.consistency,
            os.path.join(
                self.log_dir, f"consistency_examples_epoch_{epoch + 1:04d}.png"
            ),
            k=k,
        )
