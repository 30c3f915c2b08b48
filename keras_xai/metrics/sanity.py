"""Sanity checks: cascading layer randomisation (Adebayo et al.)."""

import keras
import numpy as np

from keras_xai.utils.validation import (
    check_finite,
    check_model,
    check_positive_int,
    to_numpy,
)


def cascading_randomization(model, layers=None, seed=0):
    """Copies of `model` with layers re-initialised from the top down.

    Step `k` is a copy of the model whose first `k` layers of the cascade
    (output side first) are re-drawn with their own initializers
    (`kernel_initializer`, `bias_initializer`, BatchNorm's
    `moving_mean_initializer`...), cumulatively: step 2 randomises the top
    two layers, and so on down to the first. Each copy is made with
    `keras.models.clone_model` + `set_weights`, so `model` is never touched.
    Layer `j` is re-drawn from a seed derived from `seed` and `j`, so its
    random weights are the same in every step that randomises it, and the
    whole cascade is reproducible.

    Copies are built lazily, one per step: keep only those you need.

    Args:
        model: `keras.Model`. The trained model (functional or Sequential;
            nested functional sub-models are expanded into their layers).
        layers: list of str or `None`. Names of the layers to randomise, in
            cascade order (first randomised first). Defaults to `None`:
            every layer with trainable weights, from the output to the
            input.
        seed: int. Seed of the re-drawn weights. Defaults to `0`.

    Yields:
        Tuples `(layer_name, randomized_model)`: the layer randomised at
        that step (together with all earlier ones) and the copy.

    Raises:
        ValueError: if `model` is not a `keras.Model`, `layers` names a layer
            the model lacks or one without weights, or a weight has no
            initializer on its layer.

    Example:

    ```python
    for name, randomized in cascading_randomization(model):
        maps = GradCAM(randomized)(images, labels)
        print(name, focus(maps, flags).mean())
    ```

    Reference: J. Adebayo et al., "Sanity Checks for Saliency Maps",
    NeurIPS 2018; A. Arias-Duart et al., "Who Explains the Explanation?"
    (cascading randomisation with Focus).
    """
    check_model(model)
    seed = check_positive_int(seed, "seed", minimum=0)
    names = _cascade(model, layers)
    weights = model.get_weights()
    # Check every initializer before building the first copy.
    by_name = _layers_by_name(model)
    for name in names:
        _initializers(by_name[name])
    return _steps(model, names, weights, seed)


def _steps(model, names, weights, seed):
    for step in range(1, len(names) + 1):
        copy = keras.models.clone_model(model)
        copy.set_weights(weights)
        copy_layers = _layers_by_name(copy)
        for index, name in enumerate(names[:step]):
            _reinitialize(copy_layers[name], seed, index)
        yield names[step - 1], copy


def randomization_curve(
    model, explainer_factory, images, targets, metric, layers=None, seed=0
):
    """A metric's mean score as layers are randomised in cascade.

    Scores the original model, then every step of
    `cascading_randomization`. A faithful explanation method loses its
    score as soon as the top layer is random (Focus falls to about 0.5).

    Args:
        model: `keras.Model`. The trained model.
        explainer_factory: callable `model -> explainer`, e.g. `GradCAM` or
            `lambda m: GradCAM(m, layer="conv2")`; the explainer is called
            as `explainer(images, targets)` and returns `(N, H, W)` maps.
        images: array-like `(N, H, W, C)`. Images to explain.
        targets: array-like of ints `(N,)` or `None`. Classes to explain
            (`None`: each model's predicted classes).
        metric: callable `maps -> scores` (an `(N,)` array or a number),
            e.g. `lambda maps: focus(maps, flags)`, or a similarity to the
            original maps computed beforehand.
        layers: list of str or `None`. See `cascading_randomization`.
            Defaults to `None`.
        seed: int. Seed of the re-drawn weights. Defaults to `0`.

    Returns:
        A dict:
        - `"layers"`: list of str, `"original"` then the layer randomised
          at each step.
        - `"scores"`: float64 `(steps + 1,)`, mean score per step.
        - `"per_image_scores"`: list of float64 arrays, the metric's
          output per step.

    Raises:
        ValueError: if `explainer_factory` or `metric` is not callable, the
            metric returns NaN/Inf, or a `cascading_randomization` argument
            is invalid.

    Example:

    ```python
    curve = randomization_curve(
        mosaic_model, GradCAM, mosaics, targets,
        metric=lambda maps: focus(maps, flags),
    )
    plot_randomization_curve(curve["layers"], {"GradCAM": curve["scores"]},
                             "randomization.png")
    ```

    Reference: J. Adebayo et al., "Sanity Checks for Saliency Maps",
    NeurIPS 2018.
    """
    for value, name in ((explainer_factory, "explainer_factory"), (metric, "metric")):
        if not callable(value):
            raise ValueError(
                f"`{name}` must be callable. Received: {type(value).__name__}"
            )
    steps = cascading_randomization(model, layers=layers, seed=seed)
    names, per_image = [], []
    for name, current in [("original", model), *steps]:
        maps = explainer_factory(current)(images, targets)
        scores = np.asarray(to_numpy(metric(maps)), dtype="float64")
        check_finite(scores, f"metric output at step {name!r}")
        names.append(name)
        per_image.append(scores)
    return {
        "layers": names,
        "scores": np.array([np.mean(s) for s in per_image]),
        "per_image_scores": per_image,
    }


def _flat_layers(model):
    """Layers in topological order, nested sub-models expanded."""
    result = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            result.extend(_flat_layers(layer))
        else:
            result.append(layer)
    return result


def _layers_by_name(model):
    return {layer.name: layer for layer in _flat_layers(model)}


def _cascade(model, layers):
    flat = _flat_layers(model)
    if layers is None:
        names = [layer.name for layer in reversed(flat) if layer.trainable_weights]
        if not names:
            raise ValueError(
                "`model` has no layer with trainable weights to randomise."
            )
        return names
    if isinstance(layers, str) or not isinstance(layers, (list, tuple)):
        raise ValueError(
            f"`layers` must be a list of layer names or None. Received: {layers!r}"
        )
    by_name = {layer.name: layer for layer in flat}
    for name in layers:
        if name not in by_name:
            with_weights = [n for n, layer in by_name.items() if layer.weights]
            raise ValueError(
                f"`layers` names {name!r}, which is not a layer of the model. "
                f"Layers with weights: {with_weights}"
            )
        if not by_name[name].weights:
            raise ValueError(
                f"`layers` names {name!r}, which has no weights to randomise."
            )
    if len(set(layers)) != len(layers) or not layers:
        raise ValueError(
            f"`layers` must be a non-empty list without repeats. Received: {layers!r}"
        )
    return list(layers)


def _initializers(layer):
    """`[(variable, initializer)]` for every weight of `layer` and sublayers."""
    pairs = []
    for owner in layer._flatten_layers(include_self=True, recursive=True):
        children = owner._flatten_layers(include_self=False, recursive=False)
        child_ids = {id(v) for child in children for v in child.weights}
        for variable in owner.weights:
            if id(variable) in child_ids:
                continue
            pairs.append((variable, _initializer_of(owner, variable)))
    return pairs


def _initializer_of(layer, variable):
    name = variable.name
    candidates = [f"{name}_initializer"]
    if name.endswith("_kernel"):  # SeparableConv: depthwise_kernel, ...
        candidates.append(f"{name[: -len('_kernel')]}_initializer")
    if name == "kernel":  # DepthwiseConv stores its kernel as "kernel".
        candidates.append("depthwise_initializer")
    for attribute in candidates:
        initializer = getattr(layer, attribute, None)
        if initializer is not None:
            return keras.initializers.get(initializer)
    raise ValueError(
        f"Cannot re-initialise weight {variable.path!r} of layer {layer.name!r}: "
        f"the layer has no {' or '.join(candidates)}. Leave it out of `layers`."
    )


def _reinitialize(layer, seed, index):
    for number, (variable, initializer) in enumerate(_initializers(layer)):
        config = initializer.get_config() if hasattr(initializer, "get_config") else {}
        if "seed" in config:
            derived = np.random.SeedSequence([seed, index, number]).generate_state(1)
            initializer = initializer.__class__.from_config(
                dict(config, seed=int(derived[0] % (2**31 - 1)))
            )
        variable.assign(initializer(tuple(variable.shape), dtype=variable.dtype))
