"""The preprocessing layer every keras_xai classifier starts with."""

import keras
from keras import ops

# ImageNet statistics used by the `keras.applications` backbones.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

MODES = ("none", "tf", "torch", "caffe", "scale255")


@keras.saving.register_keras_serializable(package="keras_xai")
class ImagePreprocessing(keras.layers.Layer):
    """Maps images in [0, 1] to what a backbone expects.

    keras_xai models take float32 channels-last images with pixels in
    `[0, 1]`; this layer, placed inside the model, converts them so that the
    same pixels go to `fit`, to explainers and to an exported SavedModel.

    Modes:
    - `"none"`: unchanged.
    - `"tf"`: scaled to `[-1, 1]` (MobileNet).
    - `"torch"`: ImageNet mean/std normalisation.
    - `"caffe"`: RGB to BGR, scaled to `[0, 255]`, ImageNet mean subtracted
      (VGG16, ResNet50).
    - `"scale255"`: scaled to `[0, 255]` (EfficientNet, which normalises
      internally).

    Args:
        mode: str. One of `"none"`, `"tf"`, `"torch"`, `"caffe"`,
            `"scale255"`. Defaults to `"none"`.
        output_channels: int or `None`. When set to 3, single-channel images
            are repeated to three channels (ImageNet backbones). Defaults to
            `None` (channels unchanged).
        **kwargs: Standard layer keyword arguments.

    Example:

    ```python
    layer = ImagePreprocessing(mode="tf", output_channels=3)
    y = layer(np.zeros((2, 32, 32, 1), "float32"))  # (2, 32, 32, 3) in [-1, 1]
    ```
    """

    def __init__(self, mode="none", output_channels=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}")
        if output_channels not in (None, 3):
            raise ValueError(
                "`output_channels` must be None or 3. "
                f"Received: output_channels={output_channels!r}"
            )
        self.mode = mode
        self.output_channels = output_channels

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.output_channels == 3 and x.shape[-1] == 1:
            x = ops.concatenate([x, x, x], axis=-1)
        channels = x.shape[-1]
        if self.mode == "tf":
            x = x * 2.0 - 1.0
        elif self.mode == "scale255":
            x = x * 255.0
        elif self.mode == "torch":
            x = (x - _per_channel(_IMAGENET_MEAN, channels, x.dtype)) / _per_channel(
                _IMAGENET_STD, channels, x.dtype
            )
        elif self.mode == "caffe":
            if channels == 3:
                x = ops.flip(x, axis=-1)
            x = x * 255.0 - _per_channel(_CAFFE_MEAN_BGR, channels, x.dtype)
        return x

    def compute_output_shape(self, input_shape):
        if self.output_channels == 3 and input_shape[-1] == 1:
            return tuple(input_shape[:-1]) + (3,)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "output_channels": self.output_channels})
        return config


def _per_channel(values, channels, dtype):
    if channels != len(values):
        # Grayscale or other channel counts: use the mean statistic.
        values = (sum(values) / len(values),) * channels
    return ops.cast(ops.convert_to_tensor(values), dtype)
