"""The problem most benchmarks time: a LeNet-5 with random weights on
random Fashion-MNIST-sized images."""

import keras
import numpy as np

from keras_xai.applications import ImageClassifier


def random_lenet5_problem(count, seed=0):
    """LeNet-5 (28×28×1, 10 classes; Keras seeded with 0) and random inputs.

    Args:
        count: int. Images to draw.
        seed: int. Seed of the numpy generator that draws them.

    Returns:
        `(model, images, targets, rng)`: float32 images `(count, 28, 28, 1)`
        in `[0, 1)`, int32 targets `(count,)`, and the generator, for
        anything else a benchmark draws.
    """
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    rng = np.random.default_rng(seed)
    images = rng.random((count, 28, 28, 1)).astype("float32")
    targets = rng.integers(0, 10, count).astype("int32")
    return model, images, targets, rng
