"""The Focus metric: how much positive relevance lies on the target images."""

import numpy as np

from keras_xai.datasets.mosaics import make_mosaics
from keras_xai.explainers.base import Explainer
from keras_xai.metrics._validation import check_maps, check_unit_images
from keras_xai.metrics.direction import HIGHER, declare_direction
from keras_xai.utils.validation import (
    check_images,
    check_labels,
    check_model,
    check_positive_int,
    to_numpy,
)


@declare_direction(HIGHER)
def focus(attributions, quadrant_flags, empty_score=None):
    """Focus of explanations of 2x2 mosaics: the share of positive relevance
    that falls in the target-class quadrants.

    `Focus = R_target / R_all`, where `R` sums only the positive values of a
    map (negative relevance is ignored, as the paper does for LRP) and the
    quadrants split a `(2H, 2W)` map at row `H` and column `W`. A faithful
    explanation of a good model scores near 1; a random model or random
    explanation scores about the share of target quadrants, 0.5 for the
    standard mosaics with two target images.

    A map with no positive relevance (all values <= 0, e.g. a GradCAM whose
    ReLU removed everything) has no Focus by the formula (0 / 0). It scores
    `empty_score`, by default the chance level: the score a uniform map
    would get, i.e. the fraction of target quadrants (0.5 for two target
    quadrants). It neither rewards nor punishes the method, so a random
    model still scores about 0.5; pass `empty_score=0.0` to count empty
    maps as failures instead.

    Args:
        attributions: array-like `(N, 2H, 2W)`. One map per mosaic (numpy or
            a backend tensor), finite; height and width must be even.
        quadrant_flags: array-like of bool `(N, 4)`. `True` marks the
            target-class quadrants, ordered top-left, top-right,
            bottom-left, bottom-right (as `make_mosaics` returns them).
            Every row must have at least one target and one non-target
            quadrant.
        empty_score: float or `None`. Score of a map without positive
            relevance. Defaults to `None` (the chance level of its row,
            number of target quadrants / 4).

    Returns:
        float64 numpy array `(N,)` with scores in [0, 1]. Higher is better
        (`focus.score_direction == "higher"`).

    Raises:
        ValueError: if `attributions` is not `(N, 2H, 2W)` with even sides or
            holds NaN/Inf, or `quadrant_flags` is not a boolean `(N, 4)`
            array with a target and a non-target quadrant in every row.

    Example:

    ```python
    mosaics, targets, flags, _ = make_mosaics(x_test, y_test, 500)
    maps = GradCAM(mosaic_model)(mosaics, targets)
    scores = focus(maps, flags)
    np.median(scores)
    ```

    Reference: A. Arias-Duart, F. Parés, D. Garcia-Gasulla, "Who Explains
    the Explanation? Quantitatively Assessing Feature Attribution
    Methods", 2021 (Eq. 1).
    """
    maps = check_maps(attributions, "attributions", float64=False)
    num, height, width = maps.shape
    if height % 2 or width % 2:
        raise ValueError(
            "`attributions` must be maps of 2x2 mosaics with an even height "
            f"and width (2H, 2W). Received: attributions.shape={maps.shape}"
        )
    flags = _check_quadrant_flags(quadrant_flags, num)
    if empty_score is not None:
        empty_score = _check_score(empty_score)

    positive = np.maximum(maps, 0.0)
    # Rows of each half first, (N, 2, 2W), then the columns of each half:
    # (N, 2, 2) = TL, TR / BL, BR. Two contiguous reductions are faster than
    # one over axes (2, 4) of a 5-D view.
    halves = positive.reshape(num, 2, height // 2, width).sum(axis=2, dtype="float64")
    quadrants = halves.reshape(num, 4, width // 2).sum(axis=2)
    total = quadrants.sum(axis=1)
    target = np.where(flags, quadrants, 0.0).sum(axis=1)
    empty = total <= 0.0
    if empty_score is None:
        fallback = flags.sum(axis=1) / 4.0
    else:
        fallback = np.full(num, empty_score)
    return np.where(empty, fallback, target / np.where(empty, 1.0, total))


def focus_evaluation(
    model,
    explainer,
    images,
    labels,
    num_mosaics,
    target_class=None,
    seed=0,
    empty_score=None,
):
    """Builds 2x2 mosaics, explains each for its target class and scores Focus.

    The model must accept mosaics, i.e. inputs of `(2H, 2W, C)` for images
    of `(H, W, C)`. A fully convolutional backbone with global pooling
    accepts them once rebuilt at the mosaic size with the same weights, e.g.
    for an `ImageClassifier(..., pooling="avg")`:

    ```python
    config = dict(model.get_config(), image_shape=(2 * h, 2 * w, c))
    mosaic_model = ImageClassifier.from_config(config)
    mosaic_model.set_weights(model.get_weights())
    ```

    Args:
        model: `keras.Model`. The classifier, built for mosaic-sized inputs.
        explainer: an explainer class or factory called with `model`
            (`GradCAM`, `lambda m: GradCAM(m, layer="conv2")`, or any
            `model -> callable(images, targets) -> maps`), or an `Explainer`
            instance built on `model`.
        images: array-like `(N, H, W, C)`. Test images (never training
            images), float pixels in [0, 1].
        labels: array-like of ints `(N,)`. Their classes.
        num_mosaics: int. Number of mosaics, >= 1.
        target_class: int or `None`. Target class of every mosaic; `None`
            draws one per mosaic. Defaults to `None`.
        seed: int. Seed of the mosaic layout. Defaults to `0`.
        empty_score: float or `None`. See `focus`. Defaults to `None`.

    Returns:
        A dict:
        - `"scores"`: float64 `(num_mosaics,)`, the Focus distribution.
        - `"targets"`: int32 `(num_mosaics,)`, the explained class of each
          mosaic.
        - `"quadrant_flags"`: bool `(num_mosaics, 4)`, target quadrants
          (top-left, top-right, bottom-left, bottom-right).
        - `"source_indices"`: int64 `(num_mosaics, 4)`, index in `images` of
          each quadrant's image.
        - `"empty_maps"`: bool `(num_mosaics,)`, maps without positive
          relevance (scored `empty_score`).

    Raises:
        ValueError: if the model's input shape is not the mosaic shape, the
            explainer explains another model or returns maps of the wrong
            shape, or the images, labels or mosaic options are invalid.

    Example:

    ```python
    result = focus_evaluation(mosaic_model, GradCAM, x_test, y_test, 500)
    np.median(result["scores"])
    ```

    Reference: A. Arias-Duart, F. Parés, D. Garcia-Gasulla, "Who Explains
    the Explanation? Quantitatively Assessing Feature Attribution
    Methods", 2021.
    """
    check_model(model)
    images = check_unit_images(check_images(images))
    mosaic_shape = (2 * images.shape[1], 2 * images.shape[2], images.shape[3])
    _check_accepts(model, mosaic_shape, images.shape[1:])
    num_classes = _num_classes(model)
    labels = check_labels(labels, num_classes, length=images.shape[0])
    seed = check_positive_int(seed, "seed", minimum=0)
    explain = _bind_explainer(explainer, model)

    mosaics, targets, flags, sources = make_mosaics(
        images, labels, num_mosaics, target_class=target_class, seed=seed
    )
    maps = to_numpy(explain(mosaics, targets))
    if maps.shape != mosaics.shape[:3]:
        raise ValueError(
            "`explainer` must return one (2H, 2W) map per mosaic, shape "
            f"{mosaics.shape[:3]}. Received maps of shape {maps.shape}"
        )
    scores = focus(maps, flags, empty_score=empty_score)
    return {
        "scores": scores,
        "targets": targets,
        "quadrant_flags": flags,
        "source_indices": sources,
        "empty_maps": np.maximum(maps, 0).reshape(len(maps), -1).sum(axis=1) <= 0,
    }


def _check_quadrant_flags(quadrant_flags, num):
    flags = to_numpy(quadrant_flags)
    if flags.shape != (num, 4):
        raise ValueError(
            "`quadrant_flags` must be (N, 4), one flag per quadrant (top-left, "
            f"top-right, bottom-left, bottom-right) for each of the {num} maps. "
            f"Received: quadrant_flags.shape={flags.shape}"
        )
    if flags.dtype != np.bool_:
        if not np.issubdtype(flags.dtype, np.number) or not np.all(
            (flags == 0) | (flags == 1)
        ):
            raise ValueError(
                "`quadrant_flags` must be boolean (or 0/1). Received dtype "
                f"{flags.dtype} with other values"
            )
        flags = flags.astype(bool)
    counts = flags.sum(axis=1)
    bad = np.flatnonzero((counts == 0) | (counts == 4))
    if bad.size:
        raise ValueError(
            "`quadrant_flags` must mark at least one target and one non-target "
            f"quadrant per mosaic; Focus is constant otherwise. Rows {bad[:5]} "
            f"have {counts[bad[:5]].tolist()} target quadrant(s)"
        )
    return flags


def _check_score(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(
            f"`empty_score` must be a number or None. Received: empty_score={value!r}"
        )
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(
            f"`empty_score` must be in [0, 1]. Received: empty_score={value}"
        )
    return float(value)


def _check_accepts(model, mosaic_shape, image_shape):
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return  # An unbuilt subclassed model: its first call will tell.
    expected = tuple(inputs[0].shape[1:])
    if len(expected) != 3 or any(
        want is not None and int(want) != got
        for want, got in zip(expected, mosaic_shape)
    ):
        raise ValueError(
            f"`model` takes inputs of shape {expected} but the mosaics of "
            f"{tuple(image_shape)} images are {mosaic_shape}. Focus needs a "
            "model that accepts 2H x 2W inputs: a fully convolutional backbone "
            "with global pooling, rebuilt at the mosaic size with the same "
            "weights (e.g. `ImageClassifier.from_config(dict(config, "
            f"image_shape={mosaic_shape}))` then `set_weights`). A model with "
            "Flatten + Dense layers cannot take mosaics."
        )


def _num_classes(model):
    outputs = getattr(model, "outputs", None)
    if outputs and outputs[0].shape[-1] is not None:
        return int(outputs[0].shape[-1])
    return np.iinfo(np.int32).max


def _bind_explainer(explainer, model):
    if isinstance(explainer, Explainer):
        if explainer.model is not model:
            raise ValueError(
                "`explainer` explains a different model than `model`. Pass the "
                "explainer class (e.g. `GradCAM`) or build it on the mosaic model."
            )
        return explainer
    if not callable(explainer):
        raise ValueError(
            "`explainer` must be an explainer class or a factory `model -> "
            f"explainer`. Received: {type(explainer).__name__}"
        )
    bound = explainer(model)
    if not callable(bound):
        raise ValueError(
            "`explainer(model)` must return a callable `(images, targets) -> "
            f"maps`. Received: {type(bound).__name__}"
        )
    return bound
