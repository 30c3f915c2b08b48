"""MoRF / LeRF perturbation curves and AOPC (region perturbation)."""

import numpy as np

from keras_xai.explainers.base import image_rngs
from keras_xai.metrics._validation import check_maps, check_unit_images
from keras_xai.metrics.direction import HIGHER, LOWER, declare_direction
from keras_xai.utils.validation import (
    check_finite,
    check_images,
    check_labels,
    check_model,
    check_positive_int,
    to_numpy,
)

_ORDERS = ("morf", "lerf")


def perturbation_curve(
    model,
    images,
    attributions,
    targets=None,
    order="morf",
    patch_size=4,
    num_steps=None,
    seed=0,
    batch_size=256,
):
    """Target-class probability as patches are replaced by noise, in map order.

    Each image is cut into non-overlapping `patch_size x patch_size` patches,
    ranked by their summed (signed) relevance: descending for MoRF (most
    relevant first), ascending for LeRF (least relevant first); ties keep
    row-major patch order. At step `k` the first `k` patches of the ranking
    are replaced by uniform noise U(0, 1) on every channel (images are in
    [0, 1]). The noise image is drawn once per image, from `seed` and the
    image's own pixels, so a curve is deterministic and the same whether an
    image is evaluated alone or in a batch. Height and width must be
    multiples of `patch_size` (no ragged patches: a smaller edge patch
    would rank lower only for being smaller).

    Batched: the perturbed images of one step go through
    `model.predict_on_batch` together, `batch_size` at a time (for fewer
    than `batch_size` images, several steps share a call), so the curves
    cost about `N * (num_steps + 1) / batch_size` model calls, not one per
    image and step. Memory beyond the inputs is bounded by `batch_size`
    images (noise and perturbed copies).

    Args:
        model: `keras.Model`. A classifier whose output is class
            probabilities (softmax), one output.
        images: array-like `(N, H, W, C)`. Float pixels in [0, 1].
        attributions: array-like `(N, H, W)`. One map per image.
        targets: array-like of ints `(N,)` or `None`. Class whose
            probability is tracked; `None` uses the predicted class of the
            unperturbed image. Defaults to `None`.
        order: str. `"morf"` or `"lerf"`. Defaults to `"morf"`.
        patch_size: int. Side of a square patch in pixels; must divide `H`
            and `W`. Defaults to `4`.
        num_steps: int or `None`. Number of patches replaced, one per step;
            `None` replaces all `(H / patch_size) * (W / patch_size)`.
            Defaults to `None`.
        seed: int. Seed of the noise. Defaults to `0`.
        batch_size: int. Perturbed images per model call. Defaults to `256`.

    Returns:
        float64 numpy array `(N, num_steps + 1)`: column 0 is the
        probability on the unperturbed image, column `k` after `k` patches.

    Raises:
        ValueError: on images outside [0, 1] or not `(N, H, W, C)`, maps of
            another size or with NaN/Inf, `patch_size` not dividing the
            image, `num_steps` out of range, invalid targets, or a model
            whose output is not one probability vector per image.

    Example:

    ```python
    maps = GradCAM(model)(x_test[:100], y_test[:100])
    curves = perturbation_curve(model, x_test[:100], maps, y_test[:100])
    aopc(curves).mean()
    ```

    Reference: W. Samek, A. Binder, G. Montavon, S. Lapuschkin, K.-R.
    Müller, "Evaluating the Visualization of What a Deep Neural Network Has
    Learned", IEEE TNNLS 2017.
    """
    check_model(model)
    if order not in _ORDERS:
        raise ValueError(f"`order` must be one of {_ORDERS}. Received: order={order!r}")
    images = check_unit_images(check_images(images))
    num, height, width = images.shape[:3]
    maps = check_maps(attributions, "attributions", shape=(num, height, width))
    patch_size = check_positive_int(patch_size, "patch_size")
    if height % patch_size or width % patch_size:
        divisors = [d for d in range(1, min(height, width) + 1)]
        divisors = [d for d in divisors if height % d == 0 and width % d == 0]
        raise ValueError(
            f"`patch_size` must divide the image height and width ({height}, "
            f"{width}); valid sizes are {divisors}. Received: "
            f"patch_size={patch_size}"
        )
    rows, cols = height // patch_size, width // patch_size
    num_patches = rows * cols
    if num_steps is None:
        num_steps = num_patches
    num_steps = check_positive_int(num_steps, "num_steps")
    if num_steps > num_patches:
        raise ValueError(
            f"`num_steps` must be at most the number of patches, {num_patches} "
            f"({rows} x {cols} patches of {patch_size} px). Received: "
            f"num_steps={num_steps}"
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_positive_int(seed, "seed", minimum=0)

    # Step 0 on its own: it gives the predicted class when targets is None
    # and checks that the model outputs probabilities.
    initial = _predict(model, images, batch_size)
    targets = (
        np.argmax(initial, axis=1)
        if targets is None
        else check_labels(targets, initial.shape[1], name="targets", length=num)
    )

    # Rank of every patch in its image's order (0 = replaced first).
    scores = maps.reshape(num, rows, patch_size, cols, patch_size).sum(axis=(2, 4))
    scores = scores.reshape(num, num_patches)
    ranking = np.argsort(-scores if order == "morf" else scores, axis=1, kind="stable")
    rank = np.empty(ranking.shape, dtype="int32")
    np.put_along_axis(rank, ranking, np.arange(num_patches)[None, :], axis=1)

    curves = np.empty((num, num_steps + 1))
    curves[:, 0] = initial[np.arange(num), targets]
    # Blocks of `batch_size` images bound the memory held for noise; within
    # a block one model call per step (or several steps per call when the
    # block is small).
    for first in range(0, num, batch_size):
        block = slice(first, first + batch_size)
        curves[block, 1:] = _block_curves(
            model,
            images[block],
            rank[block].reshape(-1, rows, 1, cols, 1),
            targets[block],
            num_steps,
            patch_size,
            seed,
            batch_size,
        )
    return curves


def _block_curves(
    model, images, rank, targets, num_steps, patch_size, seed, batch_size
):
    """Probabilities after steps 1..num_steps for a block of images."""
    num, height, width = images.shape[:3]
    rows, cols = rank.shape[1], rank.shape[3]
    pixel_rank = np.broadcast_to(rank, (num, rows, patch_size, cols, patch_size))
    pixel_rank = pixel_rank.reshape(num, height, width, 1)
    noise = np.stack(
        [
            rng.random(images.shape[1:], dtype="float32")
            for rng in image_rngs(images, seed)
        ]
    )
    values = np.empty((num, num_steps))
    # Stream of (step, image) pairs, step-major, `batch_size` per call.
    total = num * num_steps
    for start in range(0, total, batch_size):
        index = np.arange(start, min(start + batch_size, total))
        step, image = index // num + 1, index % num
        replaced = pixel_rank[image] < step[:, None, None, None]
        batch = np.where(replaced, noise[image], images[image])
        probabilities = _predict(model, batch, batch_size)
        values[image, step - 1] = probabilities[np.arange(len(index)), targets[image]]
    return values


@declare_direction(LOWER)
def morf_curve(
    model,
    images,
    attributions,
    targets=None,
    patch_size=4,
    num_steps=None,
    seed=0,
    batch_size=256,
):
    """MoRF curve: most relevant patches replaced by noise first.

    See `perturbation_curve` (with `order="morf"`) for the procedure,
    arguments and errors. A faithful map makes the curve fall fast: lower
    is better (`morf_curve.score_direction == "lower"`); summarise it with
    `aopc` (higher is better).

    Returns:
        float64 numpy array `(N, num_steps + 1)`, target-class probability
        before any and after each replaced patch.

    Example:

    ```python
    curves = morf_curve(model, images, maps, labels, patch_size=4)
    aopc(curves).mean()
    ```

    Reference: W. Samek et al., "Evaluating the Visualization of What a Deep
    Neural Network Has Learned", IEEE TNNLS 2017; used for IMPACTX in
    "IMPACTX: Improving Model Performance by Appropriately predicting
    CorrecT eXplanations".
    """
    return perturbation_curve(
        model,
        images,
        attributions,
        targets,
        order="morf",
        patch_size=patch_size,
        num_steps=num_steps,
        seed=seed,
        batch_size=batch_size,
    )


@declare_direction(HIGHER)
def lerf_curve(
    model,
    images,
    attributions,
    targets=None,
    patch_size=4,
    num_steps=None,
    seed=0,
    batch_size=256,
):
    """LeRF curve: least relevant patches replaced by noise first.

    See `perturbation_curve` (with `order="lerf"`). A faithful map keeps the
    probability up while irrelevant patches go: higher is better
    (`lerf_curve.score_direction == "higher"`); its `aopc` is lower is
    better.

    Returns:
        float64 numpy array `(N, num_steps + 1)`.

    Example:

    ```python
    curves = lerf_curve(model, images, maps, labels, patch_size=4)
    ```

    Reference: W. Samek et al., "Evaluating the Visualization of What a Deep
    Neural Network Has Learned", IEEE TNNLS 2017.
    """
    return perturbation_curve(
        model,
        images,
        attributions,
        targets,
        order="lerf",
        patch_size=patch_size,
        num_steps=num_steps,
        seed=seed,
        batch_size=batch_size,
    )


@declare_direction(HIGHER)
def aopc(curves):
    """Area over the perturbation curve, per image.

    `AOPC = (1 / K) * sum_{k=1..K} (f(x_0) - f(x_k))` for a curve
    `[f(x_0), ..., f(x_K)]`: the mean drop of the target probability over
    the `K` perturbation steps (step 0 excluded). Samek et al. divide by
    `K + 1` and include the zero `k = 0` term, i.e. their value is this one
    times `K / (K + 1)`. Returned per image; average it yourself
    (`aopc(curves).mean()`).

    For MoRF curves higher is better (`aopc.score_direction == "higher"`);
    for LeRF curves lower is better.

    Args:
        curves: array-like `(N, K + 1)` with `K >= 1`, e.g. from
            `morf_curve`.

    Returns:
        float64 numpy array `(N,)`.

    Raises:
        ValueError: if `curves` is not 2-D with at least 2 columns and one
            row, or holds NaN/Inf.

    Example:

    ```python
    aopc(np.array([[1.0, 0.5, 0.0]]))  # array([0.75])
    ```

    Reference: W. Samek et al., "Evaluating the Visualization of What a Deep
    Neural Network Has Learned", IEEE TNNLS 2017 (Eq. 12).
    """
    array = to_numpy(curves)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 2:
        raise ValueError(
            "`curves` must be (N, K + 1) with N >= 1 and K >= 1 steps: "
            f"column 0 unperturbed. Received: curves.shape={array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"`curves` must be numeric. Received dtype {array.dtype}")
    array = check_finite(array.astype("float64"), "curves")
    return np.mean(array[:, :1] - array[:, 1:], axis=1)


def _predict(model, images, batch_size):
    """Class probabilities of `images`, `batch_size` at a time (numpy)."""
    outputs = []
    for start in range(0, images.shape[0], batch_size):
        output = model.predict_on_batch(images[start : start + batch_size])
        if isinstance(output, (dict, list, tuple)):
            raise ValueError(
                "`model` must have one output, the class probabilities. Received "
                f"a model with {len(output)} outputs; pass e.g. "
                "`keras.Model(model.input, model.outputs[0])`."
            )
        outputs.append(np.asarray(to_numpy(output), dtype="float64"))
    probabilities = np.concatenate(outputs, axis=0)
    if probabilities.ndim != 2:
        raise ValueError(
            "`model` must output class probabilities of shape (batch, classes). "
            f"Received an output of shape {probabilities.shape}"
        )
    check_finite(probabilities, "model output")
    sums = probabilities.sum(axis=1)
    if (
        probabilities.min() < 0
        or probabilities.max() > 1
        or np.max(np.abs(sums - 1.0)) > 1e-2
    ):
        raise ValueError(
            "`model` must output class probabilities (a softmax: values in "
            "[0, 1] summing to 1). Received outputs in "
            f"[{probabilities.min():.3g}, {probabilities.max():.3g}] with row "
            f"sums in [{sums.min():.3g}, {sums.max():.3g}]; end the model with "
            '`keras.layers.Activation("softmax")`.'
        )
    return probabilities
