"""Shared machinery of the perturbation family (Occlusion, PartitionSHAP, LIME).

Perturbation methods score many modified copies of each image. What they
share lives here: the choice of score (logits or probabilities of the
target class), a compiled scoring function evaluated on large chunks of a
fixed size (so each backend traces a handful of shapes, not one per call),
and an optional progress bar.
"""

import keras
import numpy as np
from keras import ops
from tqdm.auto import tqdm

from keras_xai.backend import compile_function
from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import select_scores
from keras_xai.utils.validation import to_numpy

OUTPUTS = ("logits", "probabilities")
MIN_CHUNK = 16


def check_output(output):
    """Validates the `output` option (`"logits"` or `"probabilities"`)."""
    if output not in OUTPUTS:
        raise ValueError(
            f"`output` must be one of {OUTPUTS}. Received: output={output!r}"
        )
    return output


def chunk_size(rows, batch_size):
    """Padded size of a chunk of `rows <= batch_size` model inputs.

    Chunks are `batch_size` long, and a shorter one is padded to the next
    power of two, at least `MIN_CHUNK`, so a compiled function sees a few
    input shapes (each one a trace, or a compilation under JAX) while a
    small chunk wastes little work.
    """
    if rows >= batch_size:
        return batch_size
    return min(batch_size, max(MIN_CHUNK, 1 << max(rows - 1, 0).bit_length()))


def pad_rows(array, rows):
    """`array` with its last row repeated up to `rows` rows.

    Inputs shared whole by every chunk (e.g. the images a chunk's rows
    index) keep one shape this way, so the compiled function is traced
    once, not once per batch size.
    """
    missing = rows - len(array)
    if missing <= 0:
        return array
    return np.concatenate([array, np.repeat(array[-1:], missing, axis=0)])


def evaluate_in_chunks(function, rows, shared=(), batch_size=256, gather=None):
    """`function(*shared, *row_chunk)` over chunks of `rows`, concatenated.

    Args:
        function: callable. Returns a tensor whose first axis follows the
            rows.
        rows: list of numpy arrays with the same first dimension `n`; they
            are cut into chunks of `batch_size` (a shorter one padded by
            repeating its final row, and the padding dropped from the
            output).
        shared: tuple of tensors passed whole to every call.
        batch_size: int. Rows per call.
        gather: callable or `None`. Maps the list of numpy row chunks to
            the list actually passed (e.g. indices to the images they
            select), so that large inputs exist one chunk at a time.

    Returns:
        numpy array: the outputs for the `n` rows.
    """
    total = len(rows[0])
    outputs = []
    for start in range(0, total, batch_size):
        chunk = [r[start : start + batch_size] for r in rows]
        count = len(chunk[0])
        size = chunk_size(count, batch_size)
        if size > count:
            chunk = [
                np.concatenate([c, np.repeat(c[-1:], size - count, axis=0)])
                for c in chunk
            ]
        if gather is not None:
            chunk = gather(chunk)
        chunk = [ops.convert_to_tensor(c) for c in chunk]
        outputs.append(to_numpy(function(*shared, *chunk))[:count])
    return np.concatenate(outputs, axis=0)


class PerturbationExplainer(Explainer):
    """Base class of methods that explain by scoring modified images.

    Unlike gradient methods, the outer loop (building perturbations, fitting
    surrogates, calling `shap`) runs in numpy; what is compiled
    (`keras_xai.backend.compile_function`) is the scoring of a chunk of
    `batch_size` model inputs, called directly on the logits model rather
    than through `model.predict`, whose per-call overhead dominates at the
    sizes perturbation methods use. `explain_batch` receives numpy arrays.

    Args:
        model: `keras.Model`. A functional classifier.
        output: str. Score explained: `"logits"` (the final softmax skipped)
            or `"probabilities"` (softmax of the logits), of the target
            class. Defaults to `"logits"`.
        batch_size: int. Model inputs (perturbed images) per compiled call;
            also the number of images per `explain_batch` call. Defaults to
            `256`.
        compile: bool. Whether to compile the scoring function. Defaults to
            `True`.
        verbose: bool. Show a tqdm progress bar over the images. Defaults to
            `False`.
    """

    # `explain_batch` is a numpy loop; the base class must not compile it.
    numpy_inputs = True

    def __init__(
        self,
        model,
        output="logits",
        batch_size=256,
        compile=True,
        verbose=False,
    ):
        super().__init__(model, batch_size=batch_size, compile=False)
        self.output = check_output(output)
        self.compile_scores = bool(compile)
        self.verbose = bool(verbose)
        self._functions = {}
        self._progress = None

    def target_scores(self, images, targets):
        """Traceable: the explained score of each image's target class.

        Args:
            images: float32 tensor `(n, H, W, C)`.
            targets: int32 tensor `(n,)`.

        Returns:
            float32 tensor `(n,)`.
        """
        logits = ops.cast(self.logits(images), "float32")
        if self.output == "probabilities":
            logits = ops.softmax(logits, axis=-1)
        return select_scores(logits, targets)

    def compiled(self, name, function):
        """`function` compiled once per explainer (cached under `name`)."""
        if name not in self._functions:
            self._functions[name] = (
                compile_function(function, self.model.variables)
                if self.compile_scores
                else function
            )
        return self._functions[name]

    def scores(self, images, targets):
        """Target scores of many images, in compiled chunks of `batch_size`.

        Args:
            images: float32 numpy array `(n, H, W, C)`.
            targets: int numpy array `(n,)`.

        Returns:
            float32 numpy array `(n,)`.
        """
        function = self.compiled("scores", self.target_scores)
        rows = [np.asarray(images, "float32"), np.asarray(targets, "int32")]
        return evaluate_in_chunks(function, rows, batch_size=self.batch_size)

    def _run_batches(self, function, images, targets):
        # The bar counts the validated images that `explain_batch` advances
        # through; `Explainer.__call__` stays the one entry point.
        with self.progress(images.shape[0]):
            return super()._run_batches(function, images, targets)

    def progress(self, total):
        """A tqdm bar over `total` images (disabled unless `verbose`)."""
        self._progress = tqdm(
            total=total,
            disable=not self.verbose,
            desc=type(self).__name__,
            unit="image",
        )
        return self._progress

    def advance(self, count=1):
        """Moves the progress bar by `count` images."""
        if self._progress is not None:
            self._progress.update(count)


def check_background(value, image_shape, name):
    """A constant or an array broadcastable to `image_shape`, as float32.

    Args:
        value: number or array-like.
        image_shape: tuple `(H, W, C)`; entries may be `None` (unknown).
        name: str. Argument name for error messages.

    Returns:
        float32 numpy array (0-d or broadcastable to `image_shape`).
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(
            f"`{name}` must be a number or an array broadcastable to the image "
            f"shape {tuple(image_shape)}. Received: {name}={value!r}"
        )
    try:
        array = np.asarray(keras.ops.convert_to_numpy(value), dtype="float32")
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` must be a number or an array. Received: {name}={value!r}"
        ) from error
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}")
    if array.ndim > len(image_shape):
        raise ValueError(
            f"`{name}` must broadcast to one image {tuple(image_shape)}, not a "
            f"batch. Received: {name}.shape={array.shape}"
        )
    padded = (1,) * (len(image_shape) - array.ndim) + array.shape
    for got, want in zip(padded, image_shape):
        if got != 1 and want is not None and got != want:
            raise ValueError(
                f"`{name}` must broadcast to the image shape "
                f"{tuple(image_shape)}. Received: {name}.shape={array.shape}"
            )
    return array
