"""`MultitaskAttributeClassifier`: a class head and an attribute head."""

import collections

import keras
import numpy as np

from keras_xai.applications.guided_model import GuidedModel
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.backend import no_grad
from keras_xai.explainers.by_name import ExplainerCache
from keras_xai.metrics.localization import center_of_mass
from keras_xai.utils.validation import (
    check_images,
    check_number,
    check_positive_int,
    to_numpy,
)

AttributeExplanation = collections.namedtuple(
    "AttributeExplanation", ["name", "probability", "cam", "center"]
)
AttributeExplanation.__doc__ = """One attribute predicted present in one image.

Attributes:
    name: str. The attribute's name.
    probability: float. Its predicted probability (sigmoid output).
    cam: float32 numpy array `(H, W)`. The attribute's map (at input size,
        unless the explainer was asked for `upsample=False`).
    center: tuple `(row, col)` of floats. The map's centre of mass in pixel
        coordinates: `(i, j)` is the centre of pixel `(i, j)` (row 0 at the
        top), ready for `draw_labelled_arrows`.
"""


@keras.saving.register_keras_serializable(package="keras_xai")
class MultitaskAttributeClassifier(GuidedModel):
    """One backbone, a class head and an attribute head (multitask learning).

    The backbone is that of `ImageClassifier(architecture, image_shape, ...)`
    (preprocessing, convolutional features, pooling, `hidden_units`) and
    its graph stays flat, so every layer is reachable by name for CAMs. On
    top of it:

    - a class head: `Dense(num_classes)` named `"class_logits"`, then
      `Activation("softmax")`, output `"class"`;
    - an attribute head: `Dense(len(attribute_names))` named
      `"attribute_logits"`, then `Activation("sigmoid")`, output
      `"attributes"` (one independent probability per attribute);
    - optionally (`hierarchy`) a coarse-group head: `Dense(num_groups)`
      named `"group_logits"`, then softmax, output `"group"` (e.g. a bird's
      family besides its species). Its targets are derived from the class
      labels through the class → group mapping, so `fit` needs no extra
      labels.

    The heads end in separate activation layers so their logits are what
    explainers differentiate. `compile()` defaults to sparse categorical
    cross-entropy on `"class"` (and `"group"`) and binary cross-entropy on
    `"attributes"`, weighted by `attribute_weight` (and `group_weight`), so
    training is `fit(x, {"class": y, "attributes": a})` with `a` multi-hot
    `(n, num_attributes)`.

    `explain_attributes` turns the attributes predicted present into
    `(name, probability, CAM, centre of mass)` entries, the ingredients of
    the paper's labelled arrows (`keras_xai.visualization.draw_labelled_arrows`).

    Args:
        architecture: str or a keras-hub backbone. An `ImageClassifier`
            architecture. Defaults to `"lenet5"`.
        image_shape: tuple. `(height, width, channels)`. Defaults to
            `(28, 28, 1)`.
        num_classes: int. Number of classes. Defaults to `10`.
        attribute_names: list of str. One unique, non-empty name per
            attribute (at least one); the attribute head has one output per
            name, in this order. Defaults to `None`, which is an error.
        hierarchy: dict or `None`. `{"group_names": [str, ...],
            "class_to_group": [int, ...]}`: at least two coarse groups and,
            for each class in order, the index of its group. `None` means
            no group head. Defaults to `None`.
        pooling: str or `None`. As in `ImageClassifier`. Defaults to `None`.
        hidden_units: tuple of ints or `None`. As in `ImageClassifier` (the
            shared trunk below the heads). Defaults to `None`.
        dropout: float. As in `ImageClassifier`. Defaults to `0`.
        weights: `None`, `"imagenet"` or a path. Backbone weights, as in
            `ImageClassifier`. Defaults to `None`.
        attribute_weight: float. Weight of the attribute loss. Defaults to
            `1.0`.
        group_weight: float. Weight of the group loss. Defaults to `1.0`.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    model = MultitaskAttributeClassifier(
        "lenet5", (28, 28, 1), num_classes=10,
        attribute_names=["sleeves", "collar", "heel"],
    )
    model.compile()
    model.fit(x, {"class": y, "attributes": a}, epochs=5)
    for name, p, cam, (row, col) in model.explain_attributes(x[:1])[0]:
        print(f"{name}: p={p:.2f}, arrow to ({row:.1f}, {col:.1f})")
    ```

    Reference:
        Pazzani et al., "Improving Explanations of Image Classifiers:
        Ensembles and Multitask Learning", Sec. 7 (Fig. 13 and 14).
    """

    def __init__(
        self,
        architecture="lenet5",
        image_shape=(28, 28, 1),
        num_classes=10,
        attribute_names=None,
        hierarchy=None,
        pooling=None,
        hidden_units=None,
        dropout=0.0,
        weights=None,
        attribute_weight=1.0,
        group_weight=1.0,
        **kwargs,
    ):
        attribute_names = _check_attribute_names(attribute_names)
        attribute_weight = _check_weight(attribute_weight, "attribute_weight")
        group_weight = _check_weight(group_weight, "group_weight")
        # The backbone (and all argument checks of its options) come from
        # ImageClassifier; its class layers are left out of this graph.
        backbone = ImageClassifier(
            architecture,
            image_shape,
            num_classes,
            pooling=pooling,
            hidden_units=hidden_units,
            dropout=dropout,
            weights=weights,
        )
        hierarchy = _check_hierarchy(hierarchy, backbone.num_classes)

        # === Layers ===
        class_logits = keras.layers.Dense(backbone.num_classes, name="class_logits")
        attribute_logits = keras.layers.Dense(
            len(attribute_names), name="attribute_logits"
        )
        group_logits = None
        if hierarchy is not None:
            group_logits = keras.layers.Dense(
                len(hierarchy["group_names"]), name="group_logits"
            )

        # === Functional Model ===
        trunk = backbone.get_layer("logits").input
        outputs = {
            "class": keras.layers.Activation("softmax", name="class", dtype="float32")(
                class_logits(trunk)
            ),
            "attributes": keras.layers.Activation(
                "sigmoid", name="attributes", dtype="float32"
            )(attribute_logits(trunk)),
        }
        if group_logits is not None:
            outputs["group"] = keras.layers.Activation(
                "softmax", name="group", dtype="float32"
            )(group_logits(trunk))
        super().__init__(inputs=backbone.inputs[0], outputs=outputs, **kwargs)

        # === Config ===
        self.architecture = backbone.architecture
        # How `get_config` names it: the name, or a keras-hub backbone's config.
        self._architecture_config = backbone.get_config()["architecture"]
        self.image_shape = backbone.image_shape
        self.num_classes = backbone.num_classes
        self.attribute_names = attribute_names
        self.hierarchy = hierarchy
        self.pooling = backbone.pooling
        self.hidden_units = backbone.hidden_units
        self.dropout = backbone.dropout
        self.attribute_weight = attribute_weight
        self.group_weight = group_weight
        # Set past Keras's tracking: a cache of sub-models sharing this
        # model's layers, which must not become part of its saved state.
        object.__setattr__(self, "_cache", ExplainerCache())

    @property
    def num_attributes(self):
        return len(self.attribute_names)

    def compile_defaults(self, arguments):
        """CE on classes, binary CE on attributes, and their accuracies.

        `loss`: `{"class": SparseCategoricalCrossentropy, "attributes":
        BinaryCrossentropy}`, plus `"group": SparseCategoricalCrossentropy`
        with a hierarchy; `loss_weights`: `{"class": 1, "attributes":
        attribute_weight, "group": group_weight}`; `metrics`: class accuracy
        and attribute binary accuracy (and group accuracy). See
        `GuidedModel.compile_defaults`.
        """
        loss = {
            "class": keras.losses.SparseCategoricalCrossentropy(),
            "attributes": keras.losses.BinaryCrossentropy(),
        }
        loss_weights = {"class": 1.0, "attributes": self.attribute_weight}
        metrics = {
            "class": ["accuracy"],
            "attributes": [keras.metrics.BinaryAccuracy(name="accuracy")],
        }
        if self.hierarchy is not None:
            loss["group"] = keras.losses.SparseCategoricalCrossentropy()
            loss_weights["group"] = self.group_weight
            metrics["group"] = ["accuracy"]
        return {"loss": loss, "loss_weights": loss_weights, "metrics": metrics}

    def _check_targets(self, y):
        # Catches a wrong attribute width before tracing, where (after a
        # retrace with relaxed shapes) it would surface as a backend error.
        if isinstance(y, dict) and y.get("attributes") is not None:
            self._check_attribute_width(np.shape(y["attributes"]))

    def _check_attribute_width(self, shape):
        width = shape[-1] if len(shape) > 1 else -1
        if width is not None and width != self.num_attributes:
            raise ValueError(
                "Attribute targets must be multi-hot, one column per "
                f"attribute ({self.num_attributes}: {list(self.attribute_names)}). "
                f"Received targets of shape {tuple(shape)}"
            )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
        y = self._complete_targets(y)
        return super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(
            x, self._complete_targets(y), y_pred, sample_weight=sample_weight
        )

    def _complete_targets(self, y):
        """Checks the attribute targets and adds group targets if needed."""
        if not isinstance(y, dict):
            return y
        if y.get("attributes") is not None:
            self._check_attribute_width(tuple(y["attributes"].shape))
        if self.hierarchy is None or "group" in y or y.get("class") is None:
            return y
        labels = y["class"]
        if len(labels.shape) > 1 and labels.shape[-1] == self.num_classes:
            labels = keras.ops.argmax(labels, axis=-1)  # one-hot classes
        labels = keras.ops.reshape(keras.ops.cast(labels, "int32"), (-1,))
        mapping = keras.ops.convert_to_tensor(
            np.asarray(self.hierarchy["class_to_group"], dtype="int32")
        )
        return {**y, "group": keras.ops.take(mapping, labels, axis=0)}

    @property
    def attribute_logits_model(self):
        """`keras.Model` images → attribute logits (shares the weights).

        Its last layer is the linear `"attribute_logits"` Dense, so any
        explainer treats the attributes as classes and explains logits.
        """
        cache = self._cache.items
        if "attribute_logits" not in cache:
            cache["attribute_logits"] = keras.Model(
                self.inputs[0],
                self.get_layer("attribute_logits").output,
                name=f"{self.name}_attribute_logits",
            )
        return cache["attribute_logits"]

    def predict_attributes(self, images, batch_size=32):
        """Attribute probabilities `(B, num_attributes)` as float32 numpy.

        Args:
            images: array-like `(B, H, W, C)`, pixels in `[0, 1]`.
            batch_size: int. Defaults to `32`.

        Returns:
            float32 numpy array `(B, num_attributes)`.
        """
        images = check_images(images, expected_shape=self.image_shape)
        batch_size = check_positive_int(batch_size, "batch_size")
        with no_grad():
            batches = [
                to_numpy(self(images[i : i + batch_size], training=False)["attributes"])
                for i in range(0, images.shape[0], batch_size)
            ]
        return np.concatenate(batches).astype("float32")

    def explain_attributes(self, images, threshold=0.5, explainer="gradcam", **options):
        """Maps and arrow end points for the attributes predicted present.

        For every image, every attribute with probability `> threshold` is
        explained by `explainer` on the attribute logits (the attribute's
        index is the target), and the map's centre of mass (Eq. 3 of the
        paper, `keras_xai.metrics.center_of_mass`) becomes the arrow's end
        point. All (image, attribute) pairs are explained in one batched
        call.

        Args:
            images: array-like `(B, H, W, C)`, pixels in `[0, 1]`.
            threshold: float in `[0, 1)`. An attribute is present when its
                probability is above it. Defaults to `0.5`.
            explainer: an `Explainer` class, a callable `model -> explainer`
                or an explainer name (`"gradcam"`, ...). It is built on
                `attribute_logits_model`. Defaults to `"gradcam"`.
            **options: keyword arguments of the explainer's constructor,
                e.g. `layer="conv2"` (a 4-D feature map for CAM methods).

        Returns:
            A list with one list per image of `AttributeExplanation(name,
            probability, cam, center)` tuples, most probable first; `center`
            is `(row, col)` in the input's pixel coordinates (the
            normalised centre of mass times the image size, minus half a
            pixel).

        Raises:
            ValueError: on invalid images or threshold, or when the model
                (or the `layer` option) has no 4-D feature map for a CAM.

        Reference:
            Pazzani et al., "Improving Explanations of Image Classifiers:
            Ensembles and Multitask Learning", Sec. 7 and Eq. 3.
        """
        images = check_images(images, expected_shape=self.image_shape)
        threshold = _check_threshold(threshold)
        explain = self._attribute_explainer(explainer, options)
        probabilities = self.predict_attributes(images)
        rows, columns = np.nonzero(probabilities > threshold)
        results = [[] for _ in range(images.shape[0])]
        if rows.size == 0:
            return results
        maps = to_numpy(explain(images[rows], columns.astype("int32")))
        if maps.ndim != 3 or maps.shape[0] != rows.size:
            raise ValueError(
                "`explainer` must return one (h, w) map per image. Received "
                f"maps of shape {maps.shape} for {rows.size} images"
            )
        # Normalised coordinates do not depend on the map's resolution, so
        # maps at feature-map size (`upsample=False`) point to the same place.
        centers = center_of_mass(maps) * np.array(self.image_shape[:2]) - 0.5
        for k, (image, attribute) in enumerate(zip(rows, columns)):
            results[image].append(
                AttributeExplanation(
                    name=self.attribute_names[attribute],
                    probability=float(probabilities[image, attribute]),
                    cam=maps[k].astype("float32"),
                    center=(float(centers[k, 0]), float(centers[k, 1])),
                )
            )
        for entries in results:
            entries.sort(key=lambda entry: -entry.probability)
        return results

    def _attribute_explainer(self, explainer, options):
        """The explainer on the attribute logits, cached per options."""
        return self._cache.get(explainer, self.attribute_logits_model, **options)

    def get_config(self):
        return {
            "architecture": self._architecture_config,
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "attribute_names": list(self.attribute_names),
            "hierarchy": None
            if self.hierarchy is None
            else {
                "group_names": list(self.hierarchy["group_names"]),
                "class_to_group": list(self.hierarchy["class_to_group"]),
            },
            "pooling": self.pooling,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            "weights": None,
            "attribute_weight": self.attribute_weight,
            "group_weight": self.group_weight,
            "name": self.name,
            "trainable": self.trainable,
        }

    # `from_config` is `GuidedModel`'s: with no nested classifier in the
    # config, it is `cls(**config)`.

    @classmethod
    def from_architecture(
        cls, architecture, image_shape, num_classes, weights=None, **kwargs
    ):
        """The model on a fresh backbone: its own constructor, which takes
        the architecture (it builds its backbone, it wraps no classifier).

        Args:
            architecture: str. An `ImageClassifier` architecture.
            image_shape: tuple `(H, W, C)`.
            num_classes: int.
            weights: backbone weights (see `ImageClassifier`). Defaults to
                `None`.
            **kwargs: the other constructor arguments (`attribute_names`,
                ...).

        Returns:
            A `MultitaskAttributeClassifier`.
        """
        return cls(architecture, image_shape, num_classes, weights=weights, **kwargs)


def _check_names(names, argument):
    """`names` as a list, checked to be unique non-empty strings.

    Could move to `keras_xai.utils.validation` if another module needs it.

    Args:
        names: The value received; must be a list or tuple of str.
        argument: str. How the error messages name it.

    Returns:
        A list of str.
    """
    if not isinstance(names, (list, tuple)):
        raise ValueError(
            f"`{argument}` must be a list of names (str). "
            f"Received: {argument}={names!r}"
        )
    names = list(names)
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise ValueError(
            f"`{argument}` must be non-empty strings. Received: {argument}={names!r}"
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"`{argument}` must be unique. Received duplicates {duplicates} "
            f"in {argument}={names!r}"
        )
    return names


def _check_attribute_names(names):
    names = _check_names(names, "attribute_names")
    if not names:
        raise ValueError(
            "`attribute_names` must name at least one attribute, one per "
            "output of the attribute head. Received: attribute_names=[]"
        )
    return names


def _check_hierarchy(hierarchy, num_classes):
    if hierarchy is None:
        return None
    if not isinstance(hierarchy, dict) or set(hierarchy) != {
        "group_names",
        "class_to_group",
    }:
        raise ValueError(
            '`hierarchy` must be a dict {"group_names": [...], '
            f'"class_to_group": [...]}}. Received: hierarchy={hierarchy!r}'
        )
    groups = _check_names(hierarchy["group_names"], 'hierarchy["group_names"]')
    if len(groups) < 2:
        raise ValueError(
            '`hierarchy["group_names"]` must name at least two groups. '
            f'Received: hierarchy["group_names"]={groups!r}'
        )
    mapping = hierarchy["class_to_group"]
    if (
        not isinstance(mapping, (list, tuple))
        or len(mapping) != num_classes
        or not all(
            isinstance(g, (int, np.integer))
            and not isinstance(g, bool)
            and 0 <= g < len(groups)
            for g in mapping
        )
    ):
        raise ValueError(
            '`hierarchy["class_to_group"]` must give, for each of the '
            f"{num_classes} classes, a group index in [0, {len(groups)}). "
            f"Received: {mapping!r}"
        )
    return {"group_names": groups, "class_to_group": [int(g) for g in mapping]}


def _check_weight(value, name):
    return check_number(value, name, low=0.0)


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(
        threshold, (int, float, np.number)
    ):
        raise ValueError(
            f"`threshold` must be a number in [0, 1). Received: threshold={threshold!r}"
        )
    if not 0.0 <= float(threshold) < 1.0:
        raise ValueError(
            f"`threshold` must be in [0, 1). Received: threshold={threshold}"
        )
    return float(threshold)
