"""shap's Partition explainer run the ways a user would run it, and the
model-evaluation floor every Partition explainer pays.

The PartitionSHAP benchmarks compare against two uses of shap, in the same
run, with maps checked against ours:

- **as documented**: shap's image examples hand the Keras model to
  `shap.Explainer` as a plain call (`f(x) = model(x)`) and explain with
  `batch_size=50`;
- **tuned**: what an informed user does next — the model's compiled
  predict step (`model.predict_on_batch`) and `batch_size=256`.

And the floor: `max_evals` model evaluations per image as full batches of
the compiled predict step, with no tree bookkeeping at all. An Owen-value
explainer with `max_evals` evaluations cannot be faster than that.

shap's string blur masker needs OpenCV; without it the image is blurred by
`keras_xai`'s box blur (equal to `cv2.blur` to 1e-7) and given to shap's
array masker, one explainer per image.
"""

import importlib.util

import keras
import numpy as np
import shap
from timing import timed

from keras_xai.explainers.partition_shap import box_blur

BLUR = (14, 14)
# shap's string blur masker needs OpenCV.
WITH_CV2 = importlib.util.find_spec("cv2") is not None


def _partition_maps(predict, images, max_evals, batch_size, labels=None):
    """shap's Partition explainer on each image; maps summed over channels.

    Explains the top class, or `labels[i]` for image `i` when given (shap's
    `outputs=` applies to every row of a call, so images go one per call).
    """
    shape = images.shape[1:]
    top = shap.Explanation.argsort.flip[:1]
    maps = []
    for index, image in enumerate(images):
        background = f"blur({BLUR[0]},{BLUR[1]})" if WITH_CV2 else box_blur(image, BLUR)
        masker = shap.maskers.Image(background, shape)
        explainer = shap.Explainer(predict, masker, algorithm="partition")
        outputs = top if labels is None else [int(labels[index])]
        values = explainer(
            image[None],
            max_evals=max_evals,
            batch_size=batch_size,
            outputs=outputs,
            silent=True,
        ).values
        maps.append(values[0, ..., 0].sum(-1))
    return np.stack(maps)


def masker_name():
    """Which shap masker the peers use on this machine."""
    if WITH_CV2:
        return "shap blur masker (OpenCV)"
    return "shap array masker = blurred image (no OpenCV)"


def shap_as_documented(model, images, max_evals, labels=None):
    """shap as its image examples show: `model(x)`, `batch_size=50`."""

    def predict(x):
        return keras.ops.convert_to_numpy(model(x))

    return _partition_maps(predict, images, max_evals, 50, labels)


def shap_tuned(model, images, max_evals, labels=None, batch_size=256):
    """shap with the compiled predict step and large batches."""

    def predict(x):
        return np.asarray(model.predict_on_batch(x))

    return _partition_maps(predict, images, max_evals, batch_size, labels)


def evaluation_floor(model, images, max_evals, batch_size=256):
    """Seconds per image of `max_evals` compiled forward passes, batched.

    Each image's evaluations are `max_evals` copies of its blurred version
    (the values do not matter to the cost), run in full batches of
    `batch_size` through `model.predict_on_batch`.

    Returns:
        float. Seconds per image.
    """
    chunks = [
        np.repeat(box_blur(image, BLUR)[None], batch_size, axis=0) for image in images
    ]
    sizes = [batch_size] * (max_evals // batch_size)
    if max_evals % batch_size:
        sizes.append(max_evals % batch_size)
    model.predict_on_batch(chunks[0])  # traced before timing
    model.predict_on_batch(chunks[0][: sizes[-1]])

    def run():
        for chunk in chunks:
            for size in sizes:
                np.asarray(model.predict_on_batch(chunk[:size]))

    elapsed, _ = timed(run)
    return elapsed / len(images)
