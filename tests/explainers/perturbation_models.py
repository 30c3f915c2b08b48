"""Small Keras models with known weights for the perturbation-method tests."""

import keras
import numpy as np


def numpy_init(seed, scale=0.5):
    """A kernel initializer drawing from numpy (no backend RNG to compile)."""
    rng = np.random.default_rng(seed)
    return lambda shape, dtype=None: (scale * rng.normal(size=shape)).astype("float32")


def linear_model(kernel, bias=None, image_shape=None, softmax=True):
    """Flatten -> Dense(kernel, bias) (-> softmax).

    Args:
        kernel: array `(H * W * C, K)`.
        bias: array `(K,)` or `None` (zeros).
        image_shape: `(H, W, C)`, or `None` for a square one-channel image.
        softmax: bool. End with `Activation("softmax")`.
    """
    kernel = np.asarray(kernel, "float32")
    if image_shape is None:
        side = int(round(kernel.shape[0] ** 0.5))
        image_shape = (side, side, 1)
    inputs = keras.Input(image_shape)
    dense = keras.layers.Dense(kernel.shape[1], kernel_initializer="zeros")
    outputs = dense(keras.layers.Flatten()(inputs))
    bias = np.zeros(kernel.shape[1]) if bias is None else bias
    dense.set_weights([kernel, np.asarray(bias, "float32")])
    if softmax:
        outputs = keras.layers.Activation("softmax")(outputs)
    return keras.Model(inputs, outputs)
