"""The segment-overlap paper's two-phase fine-tuning schedule."""

import collections

import keras

from keras_xai.applications.explanation_guided.explanation_guided_classifier import (
    ExplanationGuidedClassifier,
)
from keras_xai.models.model_split import default_feature_layer
from keras_xai.utils.validation import check_number, check_positive_int

TwoPhaseHistory = collections.namedtuple("TwoPhaseHistory", ["phase1", "phase2"])


def backbone_layer_names(classifier):
    """Names of the layers with weights up to the last 4-D feature map.

    The convolutional backbone: what phase 1 freezes by default (the dense
    layers after the pooling stay trainable).
    """
    last = default_feature_layer(classifier)
    names = []
    for layer in classifier.layers:
        if layer.weights:
            names.append(layer.name)
        if layer.name == last:
            return names
    return names  # pragma: no cover - `last` is one of the layers


def fit_two_phase(
    model,
    x=None,
    y=None,
    phase1_epochs=1,
    phase2_epochs=1,
    phase1_lr=1e-3,
    phase2_lr=3e-4,
    backbone_layers=None,
    metrics="auto",
    **fit_kwargs,
):
    """Fine-tunes in two phases: frozen backbone, then every layer.

    Phase 1 freezes `backbone_layers` and trains the rest with Adam at
    `phase1_lr`; phase 2 unfreezes them (back to their own `trainable`
    flags) and trains all layers with Adam at `phase2_lr` (the paper: 1e-3,
    then 3e-4). The model is recompiled at
    each phase (its loss is its own; `metrics` are passed to `compile`).
    Epochs are numbered continuously, so phase 2 starts at epoch
    `phase1_epochs`. Layers' `trainable` flags are restored even if
    training is interrupted.

    Args:
        model: `ExplanationGuidedClassifier`.
        x: training inputs, as for `fit` (arrays, a `tf.data.Dataset`, a
            `keras.utils.PyDataset`, ...).
        y: targets, as for `fit` (e.g. `{"label": y, "mask": masks}`), or
            `None` when `x` yields them.
        phase1_epochs: int >= 0. Defaults to 1.
        phase2_epochs: int >= 0. Defaults to 1.
        phase1_lr: float. Learning rate of phase 1. Defaults to 1e-3.
        phase2_lr: float. Learning rate of phase 2. Defaults to 3e-4.
        backbone_layers: list of layer names of `model.classifier` to freeze
            in phase 1, or `None` (every layer with weights up to the last
            4-D feature map, see `backbone_layer_names`).
        metrics: compile metrics. Defaults to `"auto"` (accuracy).
        **fit_kwargs: forwarded to both `fit` calls (`batch_size`,
            `validation_data`, `callbacks`, `verbose`, ...).

    Returns:
        `TwoPhaseHistory(phase1, phase2)`: the two `History` objects
        (`None` for a phase with 0 epochs).

    Example:

    ```python
    model = ExplanationGuidedClassifier(ImageClassifier("resnet50",
        (224, 224, 3), 37, weights="imagenet"))
    histories = fit_two_phase(model, x, {"label": y, "mask": masks},
        phase1_epochs=5, phase2_epochs=20, batch_size=32)
    ```

    Reference:
        "Employing Explanations for Effective Image Classification" §IV-B.
    """
    if not isinstance(model, ExplanationGuidedClassifier):
        raise ValueError(
            "`model` must be an ExplanationGuidedClassifier. "
            f"Received: {type(model).__name__}"
        )
    phase1_epochs = check_positive_int(phase1_epochs, "phase1_epochs", minimum=0)
    phase2_epochs = check_positive_int(phase2_epochs, "phase2_epochs", minimum=0)
    for value, name in ((phase1_lr, "phase1_lr"), (phase2_lr, "phase2_lr")):
        check_number(value, name, low=0.0, low_inclusive=False)
    for key in ("epochs", "initial_epoch"):
        if key in fit_kwargs:
            raise ValueError(
                f"`{key}` is set by fit_two_phase from phase1_epochs and "
                f"phase2_epochs. Received: {key}={fit_kwargs[key]!r}"
            )
    classifier = model.classifier
    if backbone_layers is None:
        backbone_layers = backbone_layer_names(classifier)
    if isinstance(backbone_layers, str):
        backbone_layers = [backbone_layers]
    known = {layer.name: layer for layer in classifier.layers}
    unknown = [name for name in backbone_layers if name not in known]
    if unknown:
        raise ValueError(
            f"`backbone_layers` must name layers of {classifier.name!r}. "
            f"Received unknown names {unknown}; layers: {sorted(known)}"
        )
    frozen = [known[name] for name in backbone_layers]

    phase1 = phase2 = None
    flags = [layer.trainable for layer in frozen]
    try:
        if phase1_epochs:
            for layer in frozen:
                layer.trainable = False
            model.compile(optimizer=keras.optimizers.Adam(phase1_lr), metrics=metrics)
            phase1 = model.fit(x, y, epochs=phase1_epochs, **fit_kwargs)
    finally:
        for layer, flag in zip(frozen, flags):
            layer.trainable = flag
    if phase2_epochs:
        model.compile(optimizer=keras.optimizers.Adam(phase2_lr), metrics=metrics)
        phase2 = model.fit(
            x,
            y,
            epochs=phase1_epochs + phase2_epochs,
            initial_epoch=phase1_epochs,
            **fit_kwargs,
        )
    return TwoPhaseHistory(phase1, phase2)
