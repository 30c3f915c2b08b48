"""`ExplanationDecoder`: IMPACTX's decoder D from a latent code to a map."""

import keras

from keras_xai.utils.validation import check_positive_int


def decoder_plan(image_size, min_grid=4):
    """Grid side and number of upsampling blocks that reach `image_size`.

    The side is halved while it stays even and the half is at least
    `min_grid`: 32 → 4×4 grid and 3 blocks (the paper's CIFAR decoder),
    96 → 6×6 and 4 blocks (its STL-10 decoder), 28 → 7×7 and 2 blocks.

    Args:
        image_size: int. Output side.
        min_grid: int. Smallest grid side. Defaults to 4.

    Returns:
        Tuple `(grid_size, num_blocks)`.
    """
    size, blocks = int(image_size), 0
    while size % 2 == 0 and size // 2 >= min_grid:
        size //= 2
        blocks += 1
    if blocks == 0:
        raise ValueError(
            "The explanation decoder upsamples by 2 per block, so the image "
            f"side must be grid·2^n with grid >= {min_grid} and n >= 1. "
            f"Received: image side {image_size} (resize images to e.g. 32)"
        )
    return size, blocks


@keras.saving.register_keras_serializable(package="keras_xai")
class ExplanationDecoder(keras.layers.Layer):
    """Decodes a latent explanation code `z` into an `(H, W)` map.

    `z` → Dense → reshape to a `grid × grid` map → `num_blocks` blocks of
    [Conv3×3, Conv3×3, UpSampling2D(2)] → Conv3×3 to one channel. The
    output activation is `tanh` by default, matching attribution targets
    scaled per image to `[-1, 1]`.

    Args:
        image_size: tuple `(H, W)`. Output size; each side must be
            `grid·2^num_blocks`.
        filters: tuple of ints. Filters per block, from the grid up; shorter
            than `num_blocks` repeats the last. Defaults to `(64, 32, 16)`.
        num_blocks: int or `None`. Upsampling blocks; `None` derives them
            with `decoder_plan`. Defaults to `None`.
        output_activation: str. Activation of the final conv. Defaults to
            `"tanh"`.
        **kwargs: Standard layer keyword arguments.

    Example:

    ```python
    decoder = ExplanationDecoder((32, 32))   # 4x4 grid, 3 blocks
    maps = decoder(np.zeros((2, 512), "float32"))  # (2, 32, 32)
    ```

    Reference:
        Apicella et al., "IMPACTX: Improving Model Performance by Appropriately
        predicting CorrecT eXplanations" (Fig. 2).
    """

    def __init__(
        self,
        image_size,
        filters=(64, 32, 16),
        num_blocks=None,
        output_activation="tanh",
        **kwargs,
    ):
        super().__init__(**kwargs)
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2:
            raise ValueError(
                "`image_size` must be (height, width). "
                f"Received: image_size={image_size}"
            )
        filters = tuple(check_positive_int(f, "filters") for f in filters)
        if not filters:
            raise ValueError("`filters` must hold at least one int. Received: ()")
        if num_blocks is None:
            grid_h, num_blocks = decoder_plan(image_size[0])
        else:
            num_blocks = check_positive_int(num_blocks, "num_blocks")
            grid_h = image_size[0] // 2**num_blocks
        grid_w = image_size[1] // 2**num_blocks
        for side, grid in zip(image_size, (grid_h, grid_w)):
            if grid < 1 or grid * 2**num_blocks != side:
                raise ValueError(
                    f"`image_size`={image_size} cannot be reached by {num_blocks} "
                    "upsampling blocks of 2 from an integer grid; use sides of "
                    "the form grid·2^n (e.g. 28, 32, 96)"
                )
        self.image_size = image_size
        self.filters = filters
        self.num_blocks = num_blocks
        self.output_activation = output_activation
        self.grid = (grid_h, grid_w)

        # === Layers ===
        first = filters[0]
        self.project = keras.layers.Dense(grid_h * grid_w * first, activation="relu")
        self.reshape = keras.layers.Reshape((grid_h, grid_w, first))
        self.blocks = []
        for index in range(num_blocks):
            width = filters[min(index, len(filters) - 1)]
            self.blocks.append(
                [
                    keras.layers.Conv2D(width, 3, padding="same", activation="relu"),
                    keras.layers.Conv2D(width, 3, padding="same", activation="relu"),
                    keras.layers.UpSampling2D(2),
                ]
            )
        self.to_map = keras.layers.Conv2D(
            1, 3, padding="same", activation=output_activation, dtype="float32"
        )

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.project.build(shape)
        shape = (shape[0], *self.grid, self.filters[0])
        for block in self.blocks:
            for layer in block:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.to_map.build(shape)

    def call(self, z):
        x = self.reshape(self.project(z))
        for block in self.blocks:
            for layer in block:
                x = layer(x)
        return self.to_map(x)[..., 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_size": self.image_size,
                "filters": self.filters,
                "num_blocks": self.num_blocks,
                "output_activation": self.output_activation,
            }
        )
        return config
