"""`AttentionBranch`: ABN's attention branch, a feature map to (logits, M)."""

import keras

from keras_xai.utils.validation import check_num_classes, check_positive_int


@keras.saving.register_keras_serializable(package="keras_xai")
class AttentionBranch(keras.layers.Layer):
    """The attention branch of an Attention Branch Network (ABN).

    From a feature map `A` of shape `(B, h, w, C)`:
    - `len(filters)` blocks of [Conv(k×k), BatchNorm, ReLU], resolution kept;
    - a 1×1 convolution to `num_classes` channels: the branch's class map,
      one CAM-like map per class;
    - global average pooling of the class map: the attention-branch logits
      (a linear 1×1 conv followed by GAP is exactly CAM's structure);
    - a 1×1 convolution of the class map to one channel, BatchNorm and a
      sigmoid: the attention map `M` in `[0, 1]`.

    The layer returns `(logits, M)`; the ABN multiplies the perception
    branch's features by `1 + M`.

    Args:
        num_classes: int. Number of classes `K` (channels of the class map).
        filters: tuple of ints. Filters of the convolution blocks before the
            class map; `()` puts the class map directly on `A`. Defaults to
            `(64,)`.
        kernel_size: int. Kernel side of those convolutions. Defaults to 3.
        synchronized_batch_norm: bool. Compute the BatchNormalization
            statistics over the global batch under a `tf.distribute`
            strategy (Keras's `synchronized=True`), so several replicas
            train like one device. Under JAX's `keras.distribution` the
            statistics are global anyway. Defaults to `False` (each
            replica normalises by its own images, as in any Keras model).
        **kwargs: Standard layer keyword arguments.

    Returns:
        Tuple `(logits, attention)`: `(B, K)` attention-branch logits and the
        `(B, h, w, 1)` attention map.

    Example:

    ```python
    branch = AttentionBranch(num_classes=10, filters=(32,))
    logits, attention = branch(np.zeros((2, 4, 4, 16), "float32"))
    # logits: (2, 10); attention: (2, 4, 4, 1) in [0, 1]
    ```

    Reference:
        As `keras_xai.applications.ABN` (Fukui et al., CVPR 2019).
    """

    def __init__(
        self,
        num_classes,
        filters=(64,),
        kernel_size=3,
        synchronized_batch_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(synchronized_batch_norm, bool):
            raise ValueError(
                "`synchronized_batch_norm` must be a bool. "
                f"Received: synchronized_batch_norm={synchronized_batch_norm!r}"
            )
        check_num_classes(num_classes)
        if isinstance(filters, (str, bytes)) or not hasattr(filters, "__iter__"):
            raise ValueError(
                "`filters` must be a tuple of positive ints. "
                f"Received: filters={filters!r}"
            )
        filters = tuple(filters)
        for value in filters:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    "`filters` must be a tuple of positive ints. "
                    f"Received: filters={filters!r}"
                )
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        self.num_classes = num_classes
        self.filters = filters
        self.kernel_size = kernel_size
        self.synchronized_batch_norm = synchronized_batch_norm

        # === Layers ===
        self.blocks = [
            [
                # BatchNorm follows, so a bias would be redundant.
                keras.layers.Conv2D(
                    width,
                    kernel_size,
                    padding="same",
                    use_bias=False,
                    dtype=self.dtype_policy,
                    name=f"conv{index + 1}",
                ),
                keras.layers.BatchNormalization(
                    synchronized=synchronized_batch_norm,
                    dtype=self.dtype_policy,
                    name=f"bn{index + 1}",
                ),
                keras.layers.ReLU(dtype=self.dtype_policy, name=f"relu{index + 1}"),
            ]
            for index, width in enumerate(filters)
        ]
        self.class_map = keras.layers.Conv2D(
            num_classes, 1, dtype=self.dtype_policy, name="class_map"
        )
        self.pool = keras.layers.GlobalAveragePooling2D(
            dtype=self.dtype_policy, name="class_pool"
        )
        self.attention_conv = keras.layers.Conv2D(
            1, 1, use_bias=False, dtype=self.dtype_policy, name="attention_conv"
        )
        self.attention_bn = keras.layers.BatchNormalization(
            synchronized=synchronized_batch_norm,
            dtype=self.dtype_policy,
            name="attention_bn",
        )
        # The sigmoid runs in float32 so M stays in [0, 1] under mixed
        # precision and the explanation is computed in full precision.
        self.attention_sigmoid = keras.layers.Activation(
            "sigmoid", dtype="float32", name="attention_sigmoid"
        )

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4:
            raise ValueError(
                "`AttentionBranch` needs a 4-D (batch, height, width, channels) "
                f"feature map. Received input shape {shape}"
            )
        for block in self.blocks:
            for layer in block:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.class_map.build(shape)
        shape = self.class_map.compute_output_shape(shape)
        self.pool.build(shape)
        self.attention_conv.build(shape)
        shape = self.attention_conv.compute_output_shape(shape)
        self.attention_bn.build(shape)
        self.attention_sigmoid.build(shape)

    def call(self, features, training=None):
        x = features
        for conv, norm, relu in self.blocks:
            x = relu(norm(conv(x), training=training))
        class_map = self.class_map(x)
        logits = self.pool(class_map)
        attention = self.attention_bn(self.attention_conv(class_map), training=training)
        return logits, self.attention_sigmoid(attention)

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        return (batch, self.num_classes), (batch, height, width, 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "synchronized_batch_norm": self.synchronized_batch_norm,
            }
        )
        return config
