"""Splitting a classifier into (feature map, logits) for CAMs and losses."""

import weakref

import keras

_SPLITS = weakref.WeakKeyDictionary()
_LOGITS_MODELS = weakref.WeakKeyDictionary()


class ModelSplit:
    """A classifier cut at a 4-D feature map.

    Attributes:
        model: the original `keras.Model`.
        layer_name: str. The layer whose output is the feature map `A`.
        features_and_logits: `keras.Model` mapping images to `[A, logits]`
            in one forward pass.
        head: `keras.Model` mapping `A` to logits (shares the weights), so
            `logits` is a function of `A` on every backend (JAX included).
        logits_model: `keras.Model` mapping images to logits.
    """

    def __init__(self, model, layer_name, features_and_logits, head, logits_model):
        self.model = model
        self.layer_name = layer_name
        self.features_and_logits = features_and_logits
        self.head = head
        self.logits_model = logits_model

    def __call__(self, images, training=False):
        """Returns `(A, logits)` for `images`."""
        return self.features_and_logits(images, training=training)


def logits_tensor(model):
    """Returns the Keras tensor of a single-output model's logits.

    A final `Activation("softmax")` or `Softmax` layer is skipped; a model
    whose output is not a softmax is taken to output logits already.

    Args:
        model: a functional `keras.Model` with one output.

    Returns:
        A Keras tensor.
    """
    _check_functional(model)
    if len(model.outputs) != 1:
        raise ValueError(
            "`model` must have a single output to split into logits. Received "
            f"a model with {len(model.outputs)} outputs"
        )
    last = model.outputs[0]._keras_history.operation
    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation)
        and getattr(last.activation, "__name__", "") == "softmax"
    ):
        return last.input
    activation = getattr(last, "activation", None)
    if getattr(activation, "__name__", "") in ("softmax", "sigmoid"):
        raise ValueError(
            f"The output layer {last.name!r} applies {activation.__name__} "
            "internally, so logits are not reachable. End the model with a "
            'linear layer followed by keras.layers.Activation("softmax").'
        )
    return model.outputs[0]


def logits_model(model):
    """The `images -> logits` view of `model`, sharing its weights (cached).

    One model per classifier for the whole library (explainers, losses,
    reweighting, splits), so the backends trace and compile it once.

    Args:
        model: a functional `keras.Model` with one output (see
            `logits_tensor`).

    Returns:
        A `keras.Model` named `"<model>_logits"`.
    """
    cached = _LOGITS_MODELS.get(model)
    if cached is None:
        cached = keras.Model(
            model.inputs[0], logits_tensor(model), name=f"{model.name}_logits"
        )
        _LOGITS_MODELS[model] = cached
    return cached


def layer_output(layer):
    """The output of `layer` in the model it was called in.

    For a plain layer this is `layer.output`. A nested functional model
    (e.g. a keras-hub backbone called as one layer) answers `output` with
    the tensor of its *own* graph, so the tensor of its single call in the
    outer graph is read from that call's node instead.

    Args:
        layer: a layer of a functional model, called once.

    Returns:
        A `KerasTensor`.
    """
    nodes = getattr(layer, "_inbound_nodes", [])
    if isinstance(layer, keras.Model) and len(nodes) == 1:
        outputs = nodes[0].output_tensors
        if len(outputs) == 1:
            return outputs[0]
    return layer.output


def default_feature_layer(model):
    """Returns the name of the last layer whose output is 4-D."""
    _check_functional(model)
    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer_output(layer)
        except (AttributeError, ValueError):  # layers used more than once
            continue
        if len(output.shape) == 4:
            return layer.name
    raise ValueError(
        f"Model {model.name!r} has no layer with a 4-D (batch, H, W, C) output; "
        "CAM methods need a convolutional feature map"
    )


def model_split(model, layer=None):
    """Returns the (cached) `ModelSplit` of `model` at `layer`.

    Args:
        model: a functional `keras.Model` classifier.
        layer: str or `None`. Name of the layer whose output is the feature
            map. Defaults to `None` (the last layer with a 4-D output).

    Returns:
        A `ModelSplit`.
    """
    name = layer if layer is not None else default_feature_layer(model)
    if not isinstance(name, str):
        raise ValueError(f"`layer` must be a layer name. Received: layer={layer!r}")
    cache = _SPLITS.setdefault(model, {})
    if name in cache:
        return cache[name]
    try:
        feature_layer = model.get_layer(name)
    except ValueError:
        names = [lyr.name for lyr in model.layers]
        raise ValueError(
            f"`layer` must name a layer of {model.name!r}. Received: "
            f"layer={name!r}. Layers: {names}"
        ) from None
    features = layer_output(feature_layer)
    if len(features.shape) != 4:
        raise ValueError(
            f"`layer` must have a 4-D (batch, H, W, C) output. Received: "
            f"layer={name!r} with output shape {features.shape}"
        )
    logits = logits_tensor(model)
    try:
        head = keras.Model(features, logits, name=f"{model.name}_head_from_{name}")
    except ValueError as error:
        raise ValueError(
            f"The logits of {model.name!r} do not depend on `layer`={name!r} "
            "alone (a skip connection crosses it); choose a later layer. "
            f"Details: {error}"
        ) from None
    split = ModelSplit(
        model=model,
        layer_name=name,
        features_and_logits=keras.Model(
            model.inputs[0], [features, logits], name=f"{model.name}_split_{name}"
        ),
        head=head,
        logits_model=logits_model(model),
    )
    cache[name] = split
    return split


def _check_functional(model):
    if not isinstance(model, keras.Model) or not hasattr(model, "outputs"):
        raise ValueError(
            "`model` must be a functional or Sequential keras.Model. "
            f"Received: {type(model).__name__}"
        )
    if not model.built or model.outputs is None:
        raise ValueError(
            f"`model` {model.name!r} must be built (call it once or give it an "
            "Input) before it can be split"
        )
