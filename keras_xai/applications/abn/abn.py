"""`ABN`: Attention Branch Network, a classifier gated by its own CAM."""

import keras

from keras_xai.applications.guided_model import GuidedModel, is_auto
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.preset_io import PresetMixin
from keras_xai.layers.attention_branch import AttentionBranch
from keras_xai.models.model_split import (
    default_feature_layer,
    layer_output,
    model_split,
)
from keras_xai.utils.validation import check_positive_int

_LABEL_KEYS = ("class", "attention_class")
_OUTPUT_KEYS = ("class", "explanation", "attention_class")


@keras.saving.register_keras_serializable(package="keras_xai")
class ABN(PresetMixin, GuidedModel):
    """Attention Branch Network: attention from a CAM gates the classifier.

    Built from an `ImageClassifier` `A` cut at a 4-D feature layer:
    - feature extractor: `A` up to `feature_layer`, giving the map `F`;
    - attention branch (`AttentionBranch`): convolutions, a `K`-channel
      class map whose global average gives the attention-branch logits,
      and from it a one-channel sigmoid attention map `M`;
    - perception branch: the rest of `A` (pooling, dense layers, logits)
      applied to `F·M + F`, so `M` emphasises features without zeroing any.

    ABN owns a copy of `classifier` (same configuration); the classifier
    passed in is never modified. The copy, `model.classifier`, shares its
    weights with the ABN: it is the trained network without the attention
    gate. The copy starts from random weights (ABN trains end to end from
    scratch, as in the paper) unless `init_from_classifier` says otherwise;
    by default the weights are copied only when `classifier` was built with
    pretrained backbone weights (`weights="imagenet"` or a file), so those
    are never dropped silently.

    Outputs `{"class": softmax(perception logits), "explanation": M
    upsampled bilinearly to (H, W) (float32, in [0, 1]), "attention_class":
    softmax(attention logits)}`. `compile()` defaults to the paper's loss
    `CE(attention branch) + CE(perception branch)`; `fit(x, y)` takes plain
    integer labels, used for both branches.

    Args:
        classifier: `keras_xai.applications.ImageClassifier`. The network
            to split into feature extractor and perception branch (its
            configuration, and its weights with `init_from_classifier`).
        filters: tuple of ints. Convolution filters of the attention branch
            before its class map. Defaults to `(64,)`.
        kernel_size: int. Kernel side of those convolutions. Defaults to 3.
        feature_layer: str or `None`. Name of the classifier layer whose
            output the attention branch reads and gates; the layers after it
            form the perception branch. Defaults to `None` (the last layer
            with a 4-D output, see `default_feature_layer`).
        init_from_classifier: bool or `None`. Start from `classifier`'s
            weights instead of a fresh initialisation. Defaults to `None`:
            `True` when `classifier` has pretrained backbone weights, else
            `False`.
        synchronized_batch_norm: bool. The attention branch's
            BatchNormalization statistics over the global batch under a
            `tf.distribute` strategy, so several replicas train like one
            device (see `AttentionBranch`). The classifier's own layers are
            unchanged. Defaults to `False`.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    model = keras_xai.applications.ABN.from_preset("lenet5_fashion_mnist")
    model.compile()
    model.fit(x, y, epochs=5)   # integer labels, both branches
    outputs = model.predict(x_test)  # {"class", "explanation", "attention_class"}
    ```

    Reference:
        Fukui, Hirakawa, Yamashita, Fujiyoshi, "Attention Branch Network:
        Learning of Attention Mechanism for Visual Explanation", CVPR 2019.
    """

    def __init__(
        self,
        classifier,
        filters=(64,),
        kernel_size=3,
        feature_layer=None,
        init_from_classifier=None,
        synchronized_batch_norm=False,
        **kwargs,
    ):
        if not isinstance(classifier, ImageClassifier):
            raise ValueError(
                "`classifier` must be a keras_xai.applications.ImageClassifier. "
                f"Received: {type(classifier).__name__}"
            )
        if feature_layer is not None and not isinstance(feature_layer, str):
            raise ValueError(
                "`feature_layer` must be a layer name or None. "
                f"Received: feature_layer={feature_layer!r}"
            )
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        image_shape = tuple(classifier.image_shape)

        if init_from_classifier is None:
            init_from_classifier = classifier.weights_source is not None

        # === Layers ===
        # The branch comes first: it validates `filters` before the
        # (possibly large) classifier copy is built.
        attention_branch = AttentionBranch(
            classifier.num_classes,
            filters=filters,
            kernel_size=kernel_size,
            synchronized_batch_norm=synchronized_batch_norm,
            name="attention_branch",
        )
        network = ImageClassifier.from_config(classifier.get_config())
        if init_from_classifier:
            network.set_weights(classifier.get_weights())
        feature_layer = feature_layer or default_feature_layer(network)
        # `model_split` checks that the layer is 4-D and that no skip
        # connection crosses it, so the perception branch is a function of
        # the gated features alone.
        split = model_split(network, feature_layer)
        extractor = keras.Model(
            network.input,
            layer_output(network.get_layer(feature_layer)),
            name="feature_extractor",
        )
        perception = keras.Model(
            split.head.inputs[0], split.head.outputs[0], name="perception_branch"
        )

        # === Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        features = extractor(inputs)
        attention_logits, attention = attention_branch(features)
        gated = keras.layers.Multiply(name="attention_gate")([features, attention])
        gated = keras.layers.Add(name="attention_residual")([gated, features])
        probabilities = keras.layers.Activation(
            "softmax", name="class", dtype="float32"
        )(perception(gated))
        explanation = keras.layers.Resizing(
            *image_shape[:2],
            interpolation="bilinear",
            name="attention_upsample",
            dtype="float32",
        )(attention)
        explanation = keras.layers.Reshape(
            image_shape[:2], name="explanation", dtype="float32"
        )(explanation)
        attention_probabilities = keras.layers.Activation(
            "softmax", name="attention_class", dtype="float32"
        )(attention_logits)
        super().__init__(
            inputs=inputs,
            outputs={
                "class": probabilities,
                "explanation": explanation,
                "attention_class": attention_probabilities,
            },
            **kwargs,
        )

        # === Config ===
        self.classifier = network
        self.filters = attention_branch.filters
        self.kernel_size = kernel_size
        self.feature_layer = feature_layer
        self.init_from_classifier = bool(init_from_classifier)
        self.synchronized_batch_norm = synchronized_batch_norm
        self.image_shape = image_shape
        self.num_classes = classifier.num_classes

    config_arguments = (
        "filters",
        "kernel_size",
        "feature_layer",
        "init_from_classifier",
        "synchronized_batch_norm",
    )

    def compile_defaults(self, arguments):
        """ABN's loss `CE(attention) + CE(perception)` and class accuracy.

        `loss`: `SparseCategoricalCrossentropy` on `"class"` and on
        `"attention_class"`; `loss_weights`: both 1 (the paper's plain sum)
        with the default loss, none with a custom one; `metrics`:
        `{"class": ["accuracy"]}`. See `GuidedModel.compile_defaults`.
        """
        custom_loss = not is_auto(arguments.get("loss", "auto"))
        return {
            "loss": {
                "class": keras.losses.SparseCategoricalCrossentropy(),
                "attention_class": keras.losses.SparseCategoricalCrossentropy(),
            },
            "loss_weights": None
            if custom_loss
            else {"class": 1.0, "attention_class": 1.0},
            "metrics": {"class": ["accuracy"]},
        }

    def _check_targets(self, y):
        # Labels given as arrays are checked before `fit`/`evaluate` start.
        values = list(y.values()) if isinstance(y, dict) else [y]
        if y is not None and all(hasattr(v, "shape") for v in values):
            self._branch_labels(y)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
        labels = self._branch_labels(y)
        if isinstance(self.loss, dict) and isinstance(y_pred, dict):
            # Keras matches labels to outputs by structure, so both are cut
            # to the outputs that have a loss (a custom loss may cover only
            # "class").
            keys = [key for key in y_pred if self.loss.get(key) is not None]
            labels = {key: labels[key] for key in keys if key in labels}
            y_pred = {key: y_pred[key] for key in labels}
        return super().compute_loss(
            x=x,
            y=labels,
            y_pred=y_pred,
            sample_weight=sample_weight,
            **kwargs,
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Keras passes the labels as given to `fit`; expand them as in
        # `compute_loss`, and score only the outputs that have labels (the
        # attention map has none).
        labels = self._branch_labels(y)
        predictions = {key: y_pred[key] for key in labels}
        return super().compute_metrics(
            x, labels, predictions, sample_weight=sample_weight
        )

    def _branch_labels(self, y):
        """`y` (labels or a dict) as `{"class": y, "attention_class": y}`."""
        if y is None:
            raise ValueError(
                "ABN is trained with class labels: call fit(x, y) with one "
                "integer label per image. Received: y=None"
            )
        if isinstance(y, dict):
            unknown = sorted(set(y) - set(_OUTPUT_KEYS))
            if unknown or "class" not in y:
                raise ValueError(
                    'ABN labels must be an array or a dict with key "class" '
                    '(and optionally "attention_class", which defaults to the '
                    f'"class" labels). Received keys: {sorted(y)}'
                )
            has_loss = isinstance(self.loss, dict) and self.loss.get("explanation")
            if "explanation" in y and not has_loss:
                # Without a loss the targets would be silently ignored.
                raise ValueError(
                    "ABN learns its attention map from the class labels alone; "
                    'explanation targets need a loss for "explanation" in '
                    'compile(loss=...). Received labels for "explanation"'
                )
            labels = dict(y)
            labels.setdefault("attention_class", labels["class"])
        else:
            labels = {"class": y, "attention_class": y}
        for key in _LABEL_KEYS:
            try:
                shape = tuple(labels[key].shape)
            except ValueError:
                # A TensorFlow graph retraced with relaxed shapes has labels
                # of unknown rank; arrays were already checked by `fit`.
                continue
            if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
                raise ValueError(
                    "ABN expects integer class labels, one per image, of shape "
                    "(batch,) or (batch, 1) (for one-hot labels pass "
                    f"argmax(y, axis=-1)). Received: y[{key!r}] of shape {shape}"
                )
        return labels
