"""`LIME`: a local linear surrogate over superpixels."""

import numpy as np
from keras import ops
from skimage import segmentation as skimage_segmentation
from sklearn.linear_model import Ridge

from keras_xai.explainers.base import image_rngs
from keras_xai.explainers.perturbation import (
    MIN_CHUNK,
    PerturbationExplainer,
    check_background,
    evaluate_in_chunks,
)
from keras_xai.utils.validation import check_number, check_positive_int

SEGMENTATIONS = ("slic", "quickshift", "felzenszwalb")


def default_segmentation_options(name, channels):
    """scikit-image keyword arguments used unless the user overrides them.

    `slic`: 50 segments; compactness 10 for 3 channels (skimage's default,
    meant for its Lab conversion) and 0.1 otherwise (intensities in
    `[0, 1]`, where 10 would give a plain grid). `quickshift`: the `lime`
    package's defaults (tuned for ImageNet-sized images; small images need
    e.g. `kernel_size=2, max_dist=5`). `felzenszwalb`: skimage's defaults.
    """
    if name == "slic":
        compactness = 10.0 if channels == 3 else 0.1
        return {"n_segments": 50, "compactness": compactness, "start_label": 0}
    if name == "quickshift":
        return {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}
    return {"scale": 1.0, "sigma": 0.5, "min_size": 20}


def segment_image(image, method="slic", options=None):
    """Superpixels of one image, labelled `0 .. S-1`.

    Args:
        image: float numpy array `(H, W, C)`.
        method: str or callable. `"slic"`, `"quickshift"`, `"felzenszwalb"`
            (scikit-image), or a function `image -> (H, W)` int labels.
        options: dict or `None`. Keyword arguments for scikit-image, over
            `default_segmentation_options`.

    Returns:
        int32 numpy array `(H, W)`.
    """
    height, width, channels = image.shape
    if callable(method):
        labels = np.asarray(method(image))
    else:
        kwargs = default_segmentation_options(method, channels)
        kwargs.update(options or {})
        if method == "slic":
            labels = skimage_segmentation.slic(image, channel_axis=-1, **kwargs)
        elif method == "felzenszwalb":
            labels = skimage_segmentation.felzenszwalb(image, channel_axis=-1, **kwargs)
        else:
            if channels not in (1, 3):
                raise ValueError(
                    '`segmentation="quickshift"` needs 1- or 3-channel images. '
                    f"Received images with {channels} channels"
                )
            rgb = np.repeat(image, 3, axis=-1) if channels == 1 else image
            labels = skimage_segmentation.quickshift(rgb.astype("float64"), **kwargs)
    if labels.shape != (height, width) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            "`segmentation` must give integer labels of shape "
            f"{(height, width)}. Received dtype {labels.dtype}, shape "
            f"{labels.shape}"
        )
    return (
        np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype("int32")
    )


def superpixel_means(image, labels):
    """Each pixel replaced by its superpixel's mean colour (`(H, W, C)`)."""
    count = labels.max() + 1
    sizes = np.bincount(labels.ravel(), minlength=count)
    means = (
        np.stack(
            [
                np.bincount(
                    labels.ravel(), weights=image[..., c].ravel(), minlength=count
                )
                for c in range(image.shape[-1])
            ],
            axis=-1,
        )
        / sizes[:, None]
    )
    return means[labels].astype("float32")


def lime_weights(samples, kernel_width):
    """LIME's sample weights for binary superpixel masks.

    The cosine distance of each mask `z` to the all-ones mask (the image
    itself) is `1 - sqrt(|z| / S)` (`1` for the empty mask), and the
    weight is `sqrt(exp(-d**2 / kernel_width**2))`, as in the `lime`
    package (the square root because its ridge regression weights squared
    residuals).
    """
    distances = 1.0 - np.sqrt(samples.sum(axis=1) / samples.shape[1])
    return np.sqrt(np.exp(-(distances**2) / kernel_width**2))


def fit_surrogate(samples, scores, weights, num_features=None):
    """Weighted ridge regression of the scores on the superpixel masks.

    With `num_features < S`, LIME's `"highest_weights"` selection first
    fits all features (`alpha=0.01`) and keeps the largest `|coef|`; the
    final model (`alpha=1`, with intercept, as in `lime`) is refitted on
    those features, and the others get 0.

    Returns:
        float64 numpy array `(S,)` of coefficients.
    """
    samples = samples.astype("float64")
    features = np.arange(samples.shape[1])
    if num_features is not None and num_features < samples.shape[1]:
        first = Ridge(alpha=0.01).fit(samples, scores, sample_weight=weights)
        features = np.sort(
            np.argsort(-np.abs(first.coef_), kind="stable")[:num_features]
        )
    final = Ridge(alpha=1.0).fit(samples[:, features], scores, sample_weight=weights)
    coefficients = np.zeros(samples.shape[1])
    coefficients[features] = final.coef_
    return coefficients


class LIME(PerturbationExplainer):
    """LIME on superpixels: weighted ridge regression of the class score.

    Each image is cut into superpixels (scikit-image). `num_samples` random
    on/off masks over the superpixels (the first one all on) give perturbed
    images, hidden superpixels taking `hide_color`; all are scored in
    compiled chunks of `batch_size`. A ridge regression of the target
    score on the masks, each weighted by an exponential kernel on its
    cosine distance to the unperturbed image, gives one coefficient per
    superpixel; every pixel gets its superpixel's coefficient.

    This is a short implementation of the LIME objective rather than a call
    to the `lime` package: that package has had no release since 2020, its
    image explainer feeds the model 10 images at a time through the user's
    function, and the objective is a few lines of scikit-learn. It follows
    `lime_image`: cosine distance, kernel `sqrt(exp(-d**2 / width**2))`
    with width 0.25, `Ridge(alpha=1)` with an intercept, superpixel-mean
    hiding, and the `"highest_weights"` selection when `num_features` is
    set (`lime`'s forward selection for 6 features or fewer is not used).

    Args:
        model: `keras.Model`. A functional classifier.
        num_samples: int. Perturbed images per image (at least 2; the first
            is the image itself). Defaults to `1000`.
        num_features: int or `None`. Superpixels kept in the surrogate;
            the others get 0. Defaults to `None` (all).
        segmentation: str or callable. `"slic"`, `"quickshift"` or
            `"felzenszwalb"` (scikit-image), or a function
            `image (H, W, C) -> int labels (H, W)`. Defaults to `"slic"`.
        segmentation_options: dict or `None`. scikit-image keyword
            arguments over `default_segmentation_options`. Defaults to
            `None`.
        kernel_width: float. Width of the exponential kernel on the cosine
            distance. Defaults to `0.25`.
        hide_color: float, array broadcastable to `(H, W, C)`, or `None`.
            Value of hidden superpixels; `None` uses each superpixel's mean
            colour. Defaults to `None`.
        output: str. Score explained: `"probabilities"` (what `lime`
            explains) or `"logits"`. Defaults to `"probabilities"`.
        seed: int. Seeds the masks (per image, from the seed and the
            image's pixels). Defaults to `0`.
        **kwargs: `PerturbationExplainer` options: `batch_size` (perturbed
            images per compiled model call), `compile`, `verbose`.

    Example:

    ```python
    explainer = keras_xai.explainers.LIME(model, num_samples=1000)
    maps = explainer(images, targets=labels)  # (B, H, W) float32
    ```

    Reference:
        Ribeiro, Singh and Guestrin, "'Why Should I Trust You?': Explaining
        the Predictions of Any Classifier", KDD 2016.
    """

    name = "lime"

    def __init__(
        self,
        model,
        num_samples=1000,
        num_features=None,
        segmentation="slic",
        segmentation_options=None,
        kernel_width=0.25,
        hide_color=None,
        output="probabilities",
        seed=0,
        **kwargs,
    ):
        super().__init__(model, output=output, **kwargs)
        self.num_samples = check_positive_int(num_samples, "num_samples", minimum=2)
        self.num_features = (
            None
            if num_features is None
            else check_positive_int(num_features, "num_features")
        )
        if not callable(segmentation) and segmentation not in SEGMENTATIONS:
            raise ValueError(
                f"`segmentation` must be one of {SEGMENTATIONS} or a callable. "
                f"Received: segmentation={segmentation!r}"
            )
        self.segmentation = segmentation
        if segmentation_options is not None and not isinstance(
            segmentation_options, dict
        ):
            raise ValueError(
                "`segmentation_options` must be a dict of scikit-image keyword "
                f"arguments or None. Received: {segmentation_options!r}"
            )
        self.segmentation_options = dict(segmentation_options or {})
        self.kernel_width = check_number(
            kernel_width, "kernel_width", low=0.0, low_inclusive=False
        )
        self.hide_color = (
            None
            if hide_color is None
            else check_background(
                hide_color, tuple(model.input.shape[1:]), "hide_color"
            )
        )
        self.seed = check_positive_int(seed, "seed", minimum=0)

    def segment(self, image):
        """Superpixel labels `(H, W)` (`0 .. S-1`) of one image `(H, W, C)`."""
        return segment_image(
            np.asarray(image, "float32"), self.segmentation, self.segmentation_options
        )

    def perturbed_scores(self, image, hidden, labels, samples, targets):
        """Traceable: target scores of `image` with superpixels switched off.

        Args:
            image: float32 tensor `(H, W, C)`.
            hidden: float32 tensor `(H, W, C)`. Values of hidden pixels.
            labels: int32 tensor `(H, W)`. Superpixel of each pixel.
            samples: float32 tensor `(n, S')`, 1 = superpixel kept
                (`S' >= S`: columns past the last label are padding).
            targets: int32 tensor `(n,)`.

        Returns:
            float32 tensor `(n,)`.
        """
        keep = ops.take(samples, labels, axis=1)[..., None] > 0.5
        perturbed = ops.where(keep, image[None], hidden[None])
        return self.target_scores(perturbed, targets)

    def explain_batch(self, images, targets):
        rngs = image_rngs(images, self.seed)
        maps = np.zeros(images.shape[:3], "float32")
        function = self.compiled("perturbed", self.perturbed_scores)
        for i, (image, target) in enumerate(zip(images, targets)):
            labels = self.segment(image)
            count = int(labels.max()) + 1
            samples = rngs[i].integers(0, 2, size=(self.num_samples, count))
            samples[0] = 1
            if self.hide_color is None:
                hidden = superpixel_means(image, labels)
            else:
                hidden = check_background(self.hide_color, image.shape, "hide_color")
                hidden = np.broadcast_to(hidden, image.shape).astype("float32")
            # Pad the mask width to a power of two so that the compiled
            # function sees few shapes although S varies between images.
            width = max(MIN_CHUNK, 1 << (count - 1).bit_length())
            padded = np.zeros((self.num_samples, width), "float32")
            padded[:, :count] = samples
            scores = evaluate_in_chunks(
                function,
                [padded, np.full((self.num_samples,), target, "int32")],
                shared=(
                    ops.convert_to_tensor(image),
                    ops.convert_to_tensor(hidden),
                    ops.convert_to_tensor(labels),
                ),
                batch_size=self.batch_size,
            )
            weights = lime_weights(samples, self.kernel_width)
            coefficients = fit_surrogate(
                samples, scores.astype("float64"), weights, self.num_features
            )
            maps[i] = coefficients[labels]
            self.advance()
        return maps
