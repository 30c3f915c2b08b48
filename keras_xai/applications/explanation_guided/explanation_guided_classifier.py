"""`ExplanationGuidedClassifier`: a classifier trained to be right for the
right reasons, with segment-overlap (multi-view GradCAM) or input-gradient
guidance from object masks."""

import keras
import numpy as np
from keras import ops

from keras_xai.applications.guided_model import GuidedModel
from keras_xai.applications.nested_config import deserialize_classifier
from keras_xai.backend import replicas_in_sync
from keras_xai.explainers.cam import grad_cam_of_features, head_gradients
from keras_xai.layers.dihedral_views import (
    check_square,
    dihedral_views,
    inverse_dihedral_views,
    resolve_views,
)
from keras_xai.losses.gradcam_guidance import (
    gradcam_mask_fit,
    gradcam_region_penalty,
)
from keras_xai.losses.input_gradient_penalty import (
    check_weight,
    input_gradient_penalty,
    log_probability_input_gradients,
)
from keras_xai.losses.segment_overlap_loss import (
    check_blur_kernel_size,
    check_positive_float,
    segment_overlap_loss,
)
from keras_xai.models.model_split import logits_model, logits_tensor, model_split

GUIDANCES = ("so", "rrr", "rrr_gradcam", "cam_fit")
# Guidances computed from GradCAM (they need a feature map).
_CAM_GUIDANCES = ("so", "rrr_gradcam", "cam_fit")
CAM_MODES = ("target", "signed", "all_classes")
_TARGET_KEYS = ("label", "mask")

# classifier -> keras.Model(images -> logits); weights shared, built once.


@keras.saving.register_keras_serializable(package="keras_xai")
class ExplanationGuidedClassifier(GuidedModel):
    """A classifier whose loss also asks its explanations to sit on the object.

    Wraps any functional classifier that ends with a softmax (e.g.
    `ImageClassifier`). Calling the model returns the classifier's
    probabilities, so `predict`, `evaluate` metrics and export behave like
    the classifier's; training adds a guidance term computed from object
    masks that travel with the labels, `y = {"label": (B,) ints,
    "mask": (B, H, W) floats}`:

    `L = β·CE + (1 − β)·G`

    - `guidance="so"` (default; the segment-overlap loss): `G = L_SO = 1 −
      cos(PooledGC, M*)`. The chosen dihedral views of the batch go through
      the network as one batch of `V·B` images; GradCAM at `feature_layer`
      for the true class (differentiable, so the term reaches the weights),
      each view's map mapped back by the inverse transform, soft maximum
      over views, cosine against the Gaussian-blurred mask (see
      `keras_xai.losses.segment_overlap_loss`). The CE term uses the
      identity view's logits from the same pass (when the identity is one
      of the views; otherwise the model's ordinary forward pass).
    - `guidance="rrr"` (Ross et al.'s baseline): `G = λ·Σ ((1 − mask)·
      ∂ Σ_k log p_k / ∂x)²`, `λ = rrr_weight`.
    - `guidance="rrr_gradcam"` (RRR-G): `G = λ·Σ ((1 − mask)·ĉ)²`, with
      `ĉ` the true class's GradCAM at `feature_layer` scaled to a
      per-image maximum of 1 and resized to the image
      (`keras_xai.losses.gradcam_region_penalty`), `λ = rrr_weight`.
    - `guidance="cam_fit"`: `G = mean (ĉ − mask)²`, the GradCAM fitted to
      the mask in the spirit of HINT
      (`keras_xai.losses.gradcam_mask_fit`).
    The mask marks where explanations *may* lie: an object mask, or
    everything but an annotated irrelevant region (`1 − A`).

    Images whose mask is all zeros carry no annotation: they contribute CE
    only, and `G` is averaged over the images that have a mask (so a batch
    without any mask gives exactly `β·CE`). `y` may also be plain labels
    (no masks at all, e.g. for `evaluate` on unannotated data). `β = 1`
    skips the guidance computation; `β = 0` trains on `G` alone. The two
    terms are logged as `ce_loss` and `guidance_loss` (the latter before
    the `1 − β` factor, over annotated images).

    CAM variants (`cam_mode`, SPEC §5.2 weak points):
    - `"target"`: `ReLU(Σ_k α_k A_k)` for the true class (the paper).
    - `"signed"`: no ReLU. Negative evidence stays in the map; since the
      mask is non-negative, the cosine then penalises negative evidence
      inside the object and evidence of either sign outside it.
    - `"all_classes"`: the root-mean-square over all K classes of the
      signed per-class GradCAMs, `sqrt(mean_c CAM_c² + ε²)`. A confounder
      used to *lower* other classes' logits shows up as (negative)
      evidence in their maps, which the target map alone hides; the
      magnitude of every class's evidence, of either sign, is asked to
      stay inside the mask. One pooled map (not one cosine per class) so
      classes with large evidence dominate over near-empty, noisy maps;
      RMS rather than the mean of `|CAM_c|` because it is smooth where a
      class map crosses zero (measured: finite differences then agree
      with the gradient). Costs one gradient of the head for `K·V·B`
      feature maps (still one batch), i.e. K× the feature-map memory of
      `"target"`.
    An earlier `feature_layer` (smaller receptive field) addresses the
    other weak point: a CAM at a deep layer sits on the object yet reads
    pixels outside it.

    Args:
        classifier: functional `keras.Model` ending in a softmax (a final
            `Activation("softmax")` whose input is the logits), e.g.
            `keras_xai.applications.ImageClassifier`.
        beta: float in `[0, 1]`. Weight of the CE term. Defaults to 0.5
            (the paper's best).
        views: int in `[1, 8]` (the first `views` of
            `keras_xai.layers.DIHEDRAL_VIEWS`) or a tuple of view names.
            Views 5-8 swap height and width and need square images.
            Defaults to 8. Used by `guidance="so"`.
        temperature: float > 0. Soft-maximum temperature over views, on
            CAMs scaled to a per-image maximum of 1. Defaults to 10.
        blur_kernel_size: `"auto"` (odd, ≈ side/10), an odd int, or `None`
            (no blur). Defaults to `"auto"`.
        feature_layer: str or `None`. Layer whose output GradCAM explains.
            Defaults to `None` (the last layer with a 4-D output).
        cam_mode: str. `"target"`, `"signed"` or `"all_classes"`. Defaults
            to `"target"`.
        guidance: str. `"so"` (segment overlap), `"rrr"` (input-gradient
            penalty), `"rrr_gradcam"` (GradCAM penalty) or `"cam_fit"`
            (GradCAM fitted to the mask). Defaults to `"so"`.
        rrr_weight: float >= 0. `λ` of `guidance="rrr"` and
            `"rrr_gradcam"`. Defaults to 10:
            on LeNet-5 / Fashion-MNIST with object masks, the penalty `R`
            is ~2e-3 at initialisation and ~90 after 3 epochs of plain CE
            (CE ≈ 0.6), so at λ = 10 leaning on background pixels dominates
            the loss while the early epochs train on CE. On [0, 1] pixels
            Ross et al.'s λ₁ (0-255 pixels) is `λ₁ / 255²` with β = 0.5:
            their λ₁ = 1000 is 0.0154, which removed the decoy shortcut in
            the shortcut benchmark (`applications/shortcut_benchmark`);
            `keras_xai.benchmarks.shortcut.ross_lambda_to_rrr_weight`
            converts.
        epsilon: float > 0. Added inside the cosine's norms. Defaults to
            1e-7.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    classifier = keras_xai.applications.ImageClassifier("lenet5", (28, 28, 1))
    model = ExplanationGuidedClassifier(classifier, beta=0.5, views=8)
    model.compile()
    model.fit(x, {"label": y, "mask": masks}, epochs=5, batch_size=32)
    probabilities = model.predict(x_test)
    ```

    Reference:
        "Employing Explanations for Effective Image Classification"
        (segment overlap loss); Ross, Hughes and Doshi-Velez, "Right for the
        Right Reasons", IJCAI 2017.
    """

    def __init__(
        self,
        classifier,
        beta=0.5,
        views=8,
        temperature=10.0,
        blur_kernel_size="auto",
        feature_layer=None,
        cam_mode="target",
        guidance="so",
        rrr_weight=10.0,
        epsilon=1e-7,
        **kwargs,
    ):
        if not isinstance(classifier, keras.Model):
            raise ValueError(
                "`classifier` must be a functional keras.Model ending in a "
                f"softmax. Received: {type(classifier).__name__}"
            )
        logits = logits_tensor(classifier)  # validates functional + 1 output
        if logits is classifier.outputs[0]:
            raise ValueError(
                "`classifier` must end with a softmax (a final "
                'keras.layers.Activation("softmax") after the logits), so that '
                "calling the model gives probabilities. Received a classifier "
                f"whose output layer is {classifier.layers[-1].name!r}"
            )
        image_shape = tuple(classifier.inputs[0].shape[1:])
        if len(image_shape) != 3 or None in image_shape[:2]:
            raise ValueError(
                "`classifier` must take images of a fixed size (H, W, C). "
                f"Received a classifier with input shape {image_shape}"
            )
        if isinstance(beta, bool) or not isinstance(beta, (int, float, np.number)):
            raise ValueError(
                f"`beta` must be a number in [0, 1]. Received: beta={beta!r}"
            )
        if not 0.0 <= float(beta) <= 1.0:
            raise ValueError(f"`beta` must be in [0, 1]. Received: beta={beta}")
        view_names = resolve_views(views)
        if guidance not in GUIDANCES:
            raise ValueError(
                f"`guidance` must be one of {GUIDANCES}. "
                f"Received: guidance={guidance!r}"
            )
        if cam_mode not in CAM_MODES:
            raise ValueError(
                f"`cam_mode` must be one of {CAM_MODES}. "
                f"Received: cam_mode={cam_mode!r}"
            )
        temperature = check_positive_float(temperature, "temperature")
        epsilon = check_positive_float(epsilon, "epsilon")
        blur_kernel_size = check_blur_kernel_size(blur_kernel_size)
        rrr_weight = check_weight(rrr_weight, "rrr_weight")
        if guidance in _CAM_GUIDANCES:
            if guidance == "so":
                check_square((None, *image_shape), view_names, name="images")
            try:
                split = model_split(classifier, feature_layer)
            except ValueError as error:
                raise ValueError(
                    "`classifier` gives no feature map for "
                    f"guidance={guidance!r}: {error}. Pass `feature_layer`, or "
                    "use guidance='rrr'"
                ) from None
            if guidance == "so":
                features_shape = tuple(split.head.inputs[0].shape)
                check_square(features_shape, view_names, name="feature map")

        # === Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        outputs = classifier(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.classifier = classifier
        self.beta = float(beta)
        self.views = int(views) if isinstance(views, int) else view_names
        self.temperature = temperature
        self.blur_kernel_size = blur_kernel_size
        self.feature_layer = feature_layer
        self.cam_mode = cam_mode
        self.guidance = guidance
        self.rrr_weight = rrr_weight
        self.epsilon = epsilon
        self.view_names = view_names
        self.image_shape = image_shape
        self.num_classes = int(logits.shape[-1])

        # === Metrics (the two loss terms, logged by fit/evaluate) ===
        self.ce_loss_tracker = keras.metrics.Mean(name="ce_loss")
        self.guidance_loss_tracker = keras.metrics.Mean(name="guidance_loss")

    def compile(self, optimizer="auto", metrics="auto", **kwargs):
        """Compiles with Adam(1e-3) and accuracy unless told otherwise.

        The loss is the model's own (`β·CE + (1 − β)·G`): a `loss` argument
        is rejected.

        Args:
            optimizer: `"auto"` (Adam, learning rate 1e-3) or any Keras
                optimizer.
            metrics: `"auto"` (`["accuracy"]`) or Keras metrics, computed
                on the labels `y["label"]` and the probabilities.
            **kwargs: forwarded to `keras.Model.compile`.
        """
        if kwargs.pop("loss", None) is not None:
            raise ValueError(
                "ExplanationGuidedClassifier computes its own loss "
                "(beta·CE + (1 − beta)·guidance); do not pass `loss` to compile()"
            )
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def compile_defaults(self, arguments):
        """Accuracy on the labels (the loss is the model's own)."""
        return {"metrics": ["accuracy"]}

    # --- Loss -------------------------------------------------------------

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        labels, masks = self._targets(y)
        if sample_weight is None:
            weights = ops.ones_like(labels, dtype="float32")
        else:
            weights = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        batch = ops.cast(ops.shape(labels)[0], "float32")

        logits, per_image = None, None
        if self.beta < 1.0 and masks is not None:
            logits, per_image = self._guidance(x, labels, masks, training)
        if logits is not None:
            ce = keras.losses.sparse_categorical_crossentropy(
                labels, logits, from_logits=True
            )
        else:
            ce = keras.losses.sparse_categorical_crossentropy(
                labels, ops.cast(y_pred, "float32")
            )
        ce = ops.sum(weights * ce) / batch
        total = self.beta * ce
        self.ce_loss_tracker.update_state(ops.stop_gradient(ce), sample_weight=batch)
        if per_image is not None:
            annotated = ops.cast(ops.max(masks, axis=(1, 2)) > 0.0, "float32")
            count = ops.sum(annotated)
            guidance = ops.sum(weights * annotated * per_image) / ops.maximum(
                count, 1.0
            )
            total = total + (1.0 - self.beta) * guidance
            self.guidance_loss_tracker.update_state(
                ops.stop_gradient(guidance), sample_weight=count
            )
        for loss in self.losses:  # regularisers and `add_loss` terms
            total = total + ops.cast(ops.sum(loss), "float32")
        # Under tf.distribute each replica averages its share of the batch
        # and the gradients are summed: scale as Keras's own losses do.
        replicas = replicas_in_sync()
        if replicas > 1:
            total = total / float(replicas)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Compiled metrics see the labels only (the masks feed the loss).
        # Validating here too makes bad targets fail in Keras's symbolic
        # build, before JAX's `fit` moves the variables into its state (an
        # error inside the train step would leave them detached).
        labels, _ = self._targets(y)
        return super().compute_metrics(x, labels, y_pred, sample_weight)

    def guidance_loss(self, images, labels, masks, training=False):
        """Per-image guidance term `G` (`L_SO`, or `λ·R` for `"rrr"`).

        Differentiable with respect to the weights on every backend. Unlike
        the training loss, images with all-zero masks are not left out
        (their `L_SO` is 1, their penalty the full gradient energy).

        Args:
            images: float tensor `(B, H, W, C)`.
            labels: int tensor `(B,)`: the class whose explanation is
                guided.
            masks: float tensor `(B, H, W)` (object = 1).
            training: bool. Forward-pass mode. Defaults to `False`.

        Returns:
            float32 tensor `(B,)`.
        """
        labels, masks = self._targets({"label": labels, "mask": masks})
        return self._guidance(images, labels, masks, training)[1]

    def _guidance(self, images, labels, masks, training):
        """`(identity-view logits or None, per-image G)`."""
        images = ops.convert_to_tensor(images)
        if self.guidance == "rrr":
            to_logits = logits_model(self.classifier)
            _, gradients = log_probability_input_gradients(
                lambda t: to_logits(t, training=False), images
            )
            return None, input_gradient_penalty(gradients, masks, self.rrr_weight)

        split = model_split(self.classifier, self.feature_layer)
        if self.guidance != "so":
            features, logits = split.features_and_logits(images, training=training)
            cams = grad_cam_of_features(split, ops.cast(features, "float32"), labels)
            if self.guidance == "rrr_gradcam":
                per_image = gradcam_region_penalty(
                    cams, masks, self.rrr_weight, self.epsilon
                )
            else:
                per_image = gradcam_mask_fit(cams, masks, self.epsilon)
            return ops.cast(logits, "float32"), per_image
        names = self.view_names
        # All views in one batch: one forward pass and one backward pass.
        features, logits = split.features_and_logits(
            dihedral_views(images, names), training=training
        )
        maps = self._class_activation_maps(
            split, ops.cast(features, "float32"), ops.tile(labels, (len(names),))
        )
        cams = inverse_dihedral_views(maps, names)
        per_image = segment_overlap_loss(
            cams,
            masks,
            temperature=self.temperature,
            blur_kernel_size=self.blur_kernel_size,
            epsilon=self.epsilon,
        )
        identity_logits = None
        if "identity" in names:
            per_view = ops.reshape(
                ops.cast(logits, "float32"), (len(names), -1, self.num_classes)
            )
            identity_logits = per_view[names.index("identity")]
        return identity_logits, per_image

    def _class_activation_maps(self, split, features, targets):
        """GradCAM maps `(N, h, w)` of `features` `(N, h, w, C)` per `cam_mode`."""
        if self.cam_mode != "all_classes":
            return grad_cam_of_features(
                split, features, targets, relu=self.cam_mode == "target"
            )

        # Every class at once: the head sees K copies of the feature maps
        # (class-major) and one gradient call gives all K·N channel weights.
        classes = self.num_classes
        copies = ops.tile(features, (classes, 1, 1, 1))
        class_targets = ops.reshape(
            ops.arange(classes, dtype="int32")[:, None]
            + ops.zeros_like(targets, dtype="int32")[None, :],
            (-1,),
        )
        gradients = head_gradients(split, copies, class_targets)[1]
        weights = ops.reshape(
            ops.mean(gradients, axis=(1, 2)), (classes, -1, features.shape[-1])
        )
        maps = ops.einsum("nhwc,knc->knhw", features, weights)
        # Root-mean-square over classes: the magnitude of every class's
        # evidence, either sign, and smooth where a class map crosses zero
        # (|·| has a kink there at many pixels at once).
        # (ε² keeps the floor negligible; the slope stays within [-1, 1].)
        return ops.sqrt(ops.mean(ops.square(maps), axis=0) + self.epsilon**2)

    def _targets(self, y):
        """Validated `(labels (B,) int32, masks (B, H, W) float32 or None)`."""
        if isinstance(y, dict):
            unknown = sorted(set(y) - set(_TARGET_KEYS))
            if "label" not in y or unknown:
                raise self._target_error(
                    "`y` must be labels or a dict with keys 'label' and "
                    f"(optionally) 'mask'. Received keys: {sorted(y)}"
                )
            labels, masks = y["label"], y.get("mask")
        else:
            labels, masks = y, None
        if labels is None:
            raise self._target_error("`y` must hold the class labels. Received: y=None")
        labels = ops.convert_to_tensor(labels)
        if len(labels.shape) == 2 and labels.shape[-1] == 1:
            labels = labels[:, 0]
        if len(labels.shape) != 1:
            raise self._target_error(
                "`y['label']` must be one class index per image, shape (B,). "
                f"Received shape {tuple(labels.shape)}"
            )
        labels = ops.cast(labels, "int32")
        if masks is None:
            return labels, None
        masks = ops.cast(ops.convert_to_tensor(masks), "float32")
        if len(masks.shape) == 4 and masks.shape[-1] == 1:
            masks = masks[..., 0]
        expected = tuple(self.image_shape[:2])
        if len(masks.shape) != 3 or tuple(masks.shape[1:]) != expected:
            raise self._target_error(
                "`y['mask']` must be one (H, W) mask per image matching the "
                f"images' (H, W) = {expected}. Received masks of shape "
                f"{tuple(masks.shape)}"
            )
        return labels, masks

    def _target_error(self, message):
        # A trace that fails here leaves TensorFlow's cached train function
        # unusable for the next `fit` ("creating variables on a non-first
        # call"); dropping it makes the next call trace afresh.
        self.train_function = None
        self.test_function = None
        return ValueError(message)

    # --- Config -----------------------------------------------------------

    config_arguments = (
        "beta",
        "views",
        "temperature",
        "blur_kernel_size",
        "feature_layer",
        "cam_mode",
        "guidance",
        "rrr_weight",
        "epsilon",
    )

    @classmethod
    def from_config(cls, config):
        config = deserialize_classifier(config)
        if isinstance(config.get("views"), list):
            config["views"] = tuple(config["views"])
        return cls(**config)
