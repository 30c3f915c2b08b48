"""`Explainer`: the shared call shape of every attribution method."""

import zlib

import keras
import numpy as np

from keras_xai.backend import compile_function, no_grad
from keras_xai.models.model_split import logits_model
from keras_xai.utils.validation import (
    check_images,
    check_labels,
    check_positive_int,
    to_numpy,
)


def image_rngs(images, seed):
    """One numpy generator per image, seeded by `seed` and the image's bytes.

    Noise drawn from these depends only on the seed and the image itself,
    not on its position in a batch.

    Args:
        images: numpy array `(b, ...)`.
        seed: int. The user's seed.

    Returns:
        A list of `numpy.random.Generator`, one per image.
    """
    contiguous = np.ascontiguousarray(images)
    return [
        np.random.default_rng([int(seed), zlib.crc32(image.tobytes())])
        for image in contiguous
    ]


class Explainer:
    """Base class: `Method(model, **options)(images, targets=None) -> maps`.

    Subclasses implement `explain_batch(images, targets)` on backend tensors
    and return `(b, H, W)` maps; this class validates input, fills in
    default targets (the predicted class), batches, compiles the batch
    function once per shape (`keras_xai.backend.compile_function`) and
    returns float32 numpy maps at the input's spatial size.

    Args:
        model: `keras.Model`. A functional classifier; its logits are read
            by skipping a final softmax (see
            `keras_xai.applications.logits_tensor`).
        batch_size: int. Images explained per compiled call. Defaults to 32.
        compile: bool. Whether to compile the batch function. Defaults to
            `True`.
    """

    # The short name scripts and the command line use (`"gradcam"`, ...).
    # A concrete method exported from `keras_xai.explainers` sets it and is
    # registered by that alone (`keras_xai.explainers.by_name.EXPLAINERS`);
    # bases leave it `None`.
    name = None

    # Subclasses whose `explain_batch` works on numpy arrays (e.g. through
    # shap) set this and pass `compile=False`.
    numpy_inputs = False

    def __init__(self, model, batch_size=32, compile=True):
        if not isinstance(model, keras.Model):
            raise ValueError(
                f"`model` must be a keras.Model. Received: {type(model).__name__}"
            )
        self.model = model
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.compile = bool(compile)
        self._compiled = None

    @property
    def logits_model(self):
        """`keras.Model` from the model's input to its logits."""
        return logits_model(self.model)

    @property
    def num_classes(self):
        return int(self.logits_model.outputs[0].shape[-1])

    def logits(self, images):
        """Logits of a batch of images (backend tensor)."""
        return self.logits_model(images, training=False)

    def explain_batch(self, images, targets, *extras):
        """Maps for one batch. Subclasses implement this.

        It is compiled (unless `compile=False`), so it must be traceable:
        `keras.ops` only, no numpy conversion of its inputs.

        Args:
            images: float32 tensor `(b, H, W, C)`.
            targets: int32 tensor `(b,)`.
            *extras: what `batch_inputs` returned for this batch.

        Returns:
            float32 tensor `(b, H, W)`.
        """
        raise NotImplementedError

    def __call__(self, images, targets=None):
        """Explains `images` for `targets`.

        Args:
            images: array-like `(B, H, W, C)`, float pixels in `[0, 1]`.
            targets: array-like of ints `(B,)`, or `None` for the predicted
                classes. Defaults to `None`.

        Returns:
            float32 numpy array `(B, H, W)`.
        """
        images, targets = self.validate(images, targets)
        function = self._batch_function()
        with no_grad():
            maps = self._run_batches(function, images, targets)
        return np.concatenate(maps, axis=0).astype("float32")

    def validate(self, images, targets=None):
        """Validated float32 images and int32 targets (default: predicted).

        Args:
            images: array-like `(B, H, W, C)`.
            targets: array-like of ints `(B,)` or `None`.

        Returns:
            Tuple `(images, targets)` as numpy arrays.
        """
        images = check_images(images, expected_shape=self.model.inputs[0].shape[1:])
        if targets is None:
            targets = self.predict_classes(images)
        targets = check_labels(
            targets, self.num_classes, name="targets", length=images.shape[0]
        )
        return images, targets

    def batch_inputs(self, images):
        """Extra numpy inputs of `explain_batch` for one batch (default none).

        Randomised methods draw their noise here, outside the compiled
        function, with `image_rngs`, so results are reproducible for a seed
        and identical whether an image is explained alone or in a batch.

        Args:
            images: float32 numpy array `(b, H, W, C)`.

        Returns:
            A tuple of numpy arrays passed after `targets`.
        """
        del images
        return ()

    def _run_batches(self, function, images, targets):
        maps = []
        for start in range(0, images.shape[0], self.batch_size):
            batch = images[start : start + self.batch_size]
            batch_targets = targets[start : start + self.batch_size]
            extras = self.batch_inputs(batch)
            if self.compile or not self.numpy_inputs:
                batch = keras.ops.convert_to_tensor(batch)
                batch_targets = keras.ops.convert_to_tensor(batch_targets)
                extras = tuple(keras.ops.convert_to_tensor(e) for e in extras)
            maps.append(to_numpy(function(batch, batch_targets, *extras)))
        return maps

    def predict_classes(self, images):
        """Predicted class per image, batched (int32 numpy)."""
        with no_grad():
            classes = [
                np.argmax(to_numpy(self.logits(images[i : i + self.batch_size])), -1)
                for i in range(0, images.shape[0], self.batch_size)
            ]
        return np.concatenate(classes).astype("int32")

    def _batch_function(self):
        if self._compiled is None:
            if self.compile:
                self._compiled = compile_function(
                    self.explain_batch, self.model.variables
                )
            else:
                self._compiled = self.explain_batch
        return self._compiled
