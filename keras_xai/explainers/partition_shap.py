"""`PartitionSHAP`: shap's Partition explainer, many images per model call."""

import re

import numpy as np
import shap
from keras import ops
from scipy import ndimage

from keras_xai.backend import no_grad
from keras_xai.explainers.base import image_rngs
from keras_xai.explainers.owen_values import PartitionTree, owen_values
from keras_xai.explainers.perturbation import (
    PerturbationExplainer,
    check_background,
    evaluate_in_chunks,
    pad_rows,
)
from keras_xai.utils.validation import check_positive_int

# Memory for the coalition masks of the images walked side by side.
_MASK_BYTES = 2**28
_BLUR = re.compile(r"^blur\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def parse_masker(masker, image_shape=(None, None, None)):
    """Validates `masker`: `"blur"`, `"blur(kx, ky)"`, a number or an array.

    Returns:
        `("blur", None)` (kernel half the image side), `("blur", (kx, ky))`
        or `("value", array)`.
    """
    if isinstance(masker, str):
        if masker == "blur":
            return "blur", None
        match = _BLUR.match(masker.strip())
        if match and int(match.group(1)) >= 1 and int(match.group(2)) >= 1:
            return "blur", (int(match.group(1)), int(match.group(2)))
        if masker.startswith("inpaint"):
            raise ValueError(
                "`masker` inpainting is not supported: shap's inpainting maskers "
                "need OpenCV and cast the image to uint8, which destroys images "
                'in [0, 1]. Use "blur", "blur(kx, ky)" or a constant. '
                f"Received: masker={masker!r}"
            )
        raise ValueError(
            '`masker` must be "blur", "blur(kx, ky)" with positive ints, a '
            f"number or an array of pixel values. Received: masker={masker!r}"
        )
    return "value", check_background(masker, image_shape, "masker")


def box_blur(image, kernel):
    """`cv2.blur(image, kernel)` without OpenCV: a box filter per channel.

    `kernel` is `(kx, ky)` = (width, height) as in OpenCV and shap's
    `"blur(kx, ky)"`; borders are reflected without repeating the edge pixel
    (OpenCV's default `BORDER_REFLECT_101`, scipy's `"mirror"`).
    """
    size = (kernel[1], kernel[0], 1)
    return ndimage.uniform_filter(image, size=size, mode="mirror")


class PartitionSHAP(PerturbationExplainer):
    """SHAP values of image pixels from shap's Partition explainer.

    The Partition explainer (`shap.PartitionExplainer` with a
    `shap.maskers.Image` masker) computes Owen values over shap's
    hierarchical split of the image into halves, quarters, ... down to
    single pixels, using at most `max_evals` model evaluations per image
    (the IMPACTX paper uses 2000). Hidden regions take the masker's value
    (a blurred copy of the image by default). shap guarantees additivity:
    the values of one image, summed over pixels and channels, equal
    `f(x) - f(fully masked x)` (`shap_values` returns both).

    The values are shap's, computed faster: shap walks one image at a
    time and builds each masked image in a Python call; here
    (`keras_xai.explainers.owen_values`) the same walk — the same nodes in
    the same order, ties broken by the same draws — runs for many images
    side by side, and the coalitions of all of them in a step are scored by
    one compiled call on the logits model, in chunks of `batch_size`, with
    the masked images built in numpy. shap supplies the partition tree
    (its `Image` masker's clustering) and is what the tests compare
    against. Each image explains its own target class and breaks ties with
    a generator seeded from `seed` and the image's bytes, so a map does not
    depend on the rest of the batch. The returned map sums the values over
    channels.

    Args:
        model: `keras.Model`. A functional classifier.
        max_evals: int. Model evaluations per image (at least 4, as shap
            spends 2 on the full and the fully masked image). Defaults to
            `2000`.
        masker: str, float or array. `"blur"` (a box blur with a kernel
            half the image side, like `"blur(128,128)"` in shap's 224-pixel
            examples), `"blur(kx, ky)"` (shap's syntax: kernel width, height)
            or a value, or an array broadcastable to `(H, W, C)`, that hidden
            pixels take (e.g. `0.0`). The blur is computed with scipy and
            equals `cv2.blur`, so OpenCV is not needed. shap's inpainting
            maskers are not offered: they cast images to uint8, which
            destroys images in `[0, 1]`. Defaults to `"blur"`.
        output: str. Score explained: `"probabilities"` (the classifier's
            output, as in the IMPACTX paper and shap's image examples) or
            `"logits"`. Defaults to `"probabilities"`.
        seed: int. Seeds shap's tie-breaking. Defaults to `0`.
        **kwargs: `PerturbationExplainer` options: `batch_size`, `compile`,
            `verbose`. Here `batch_size` is also the most coalitions of one
            image per step (shap's `batch_size`: up to `batch_size / 2` tree
            nodes are expanded per step, so, as in shap itself, the order of
            expansion and hence the values within the `max_evals` budget
            depend slightly on it).

    Example:

    ```python
    explainer = keras_xai.explainers.PartitionSHAP(model, max_evals=2000)
    maps = explainer(images, targets=labels)  # (B, H, W) float32
    explanation = explainer.shap_values(images, targets=labels)
    ```

    Reference:
        Lundberg and Lee, "A Unified Approach to Interpreting Model
        Predictions", NeurIPS 2017; shap's `PartitionExplainer` (Owen
        values). Used as the explanation method of IMPACTX (Apicella et
        al.).
    """

    name = "shap"

    def __init__(
        self,
        model,
        max_evals=2000,
        masker="blur",
        output="probabilities",
        seed=0,
        **kwargs,
    ):
        super().__init__(model, output=output, **kwargs)
        self.max_evals = check_positive_int(max_evals, "max_evals", minimum=4)
        self.masker = masker
        self._masker_kind, self._masker_option = parse_masker(
            masker, tuple(model.input.shape[1:])
        )
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self._trees = {}

    def background(self, image):
        """The fully masked version of one image `(H, W, C)`."""
        if self._masker_kind == "blur":
            kernel = self._masker_option or (
                max(1, image.shape[1] // 2),
                max(1, image.shape[0] // 2),
            )
            return box_blur(image, kernel)
        value = check_background(self._masker_option, image.shape, "masker")
        return np.broadcast_to(value, image.shape).astype("float32")

    def _tree(self, image_shape):
        """shap's partition tree of the features of one image shape."""
        if image_shape not in self._trees:
            masker = shap.maskers.Image(np.zeros(image_shape, "float32"), image_shape)
            self._trees[image_shape] = PartitionTree(masker.clustering)
        return self._trees[image_shape]

    def shap_values(self, images, targets=None):
        """Raw SHAP values per pixel and channel, and shap's base values.

        Args:
            images, targets: as for `__call__` (`targets=None` explains the
                predicted classes).

        Returns:
            `shap.Explanation` with `values` float32 `(B, H, W, C)`,
            `base_values` float32 `(B,)` (the score of the fully masked
            image) and `data` (the images). For each image,
            `values.sum() == f(x) - base_value`.
        """
        images, targets = self.validate(images, targets)
        with self.progress(images.shape[0]), no_grad():
            values, base_values = self._explain(images, targets)
        return shap.Explanation(values=values, base_values=base_values, data=images)

    def explain_batch(self, images, targets):
        return self._explain(images, targets)[0].sum(axis=-1)

    def masked_scores(self, flat, hidden, targets, masks, owners):
        """Traceable: target scores of masked images built from their masks.

        Args:
            flat: float32 tensor `(G, M)`: the images, flattened.
            hidden: float32 tensor `(G, M)`: what hidden features take.
            targets: int32 tensor `(G,)`.
            masks: uint8 tensor `(n, M)`: 1 where a feature is present
                (bool arrays convert to tensors several times slower).
            owners: int32 tensor `(n,)`: the image of each mask.

        Returns:
            float32 tensor `(n,)`.
        """
        inputs = ops.where(
            ops.cast(masks, "bool"),
            ops.take(flat, owners, axis=0),
            ops.take(hidden, owners, axis=0),
        )
        inputs = ops.reshape(inputs, (-1, *self._image_shape))
        return self.target_scores(inputs, ops.take(targets, owners, axis=0))

    def _explain(self, images, targets):
        self._image_shape = tuple(images.shape[1:])
        tree = self._tree(self._image_shape)
        count = images.shape[0]
        flat = images.reshape(count, -1)
        hidden = np.stack([self.background(image).ravel() for image in images])
        targets = np.asarray(targets, "int32")
        rngs = image_rngs(images, self.seed)
        seeds = [int(rng.integers(2**32)) for rng in rngs]
        function = self.compiled("masked_scores", self.masked_scores)
        # Each image's walk keeps about one mask per evaluation alive; the
        # images of a group are padded to one size (one trace per chunk).
        group = max(
            1, min(self.batch_size, _MASK_BYTES // (self.max_evals * tree.features))
        )
        values = np.zeros((count, tree.features))
        base = np.zeros(count)
        for start in range(0, count, group):
            rows = slice(start, start + group)
            size = len(flat[rows])
            shared = [
                ops.convert_to_tensor(pad_rows(array[rows], group))
                for array in (flat, hidden, targets)
            ]

            def score(masks, owners, shared=shared):
                return evaluate_in_chunks(
                    function,
                    [masks.view("uint8"), owners.astype("int32")],
                    shared=shared,
                    batch_size=self.batch_size,
                ).astype("float64")

            # The empty and the full coalition of every image, in one call.
            ends = np.zeros((2 * size, tree.features), bool)
            ends[size:] = True
            base[rows], full = np.split(score(ends, np.tile(np.arange(size), 2)), 2)
            values[rows] = owen_values(
                score,
                tree,
                base[rows],
                full,
                self.max_evals,
                self.batch_size,
                seeds[rows],
                done=self.advance,
            )
        return values.reshape(images.shape).astype("float32"), base.astype("float32")
