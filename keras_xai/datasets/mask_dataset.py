"""The result type of the image datasets with object masks (Pet, VOC, CUB)."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class MaskDataset:
    """One split of an image dataset with class labels and object masks.

    Returned by `load_oxford_pet`, `load_voc_single_label` and `load_cub`.
    When the loader was given an `image_size`, `images` and `masks` are
    stacked arrays; otherwise they are lists of per-image arrays, since the
    images of these datasets differ in size.

    Attributes:
        images: uint8 array `(N, H, W, 3)`, or a list of `(H_i, W_i, 3)`.
        labels: int64 array `(N,)`. 0-based indices into `class_names`.
        masks: float32 array `(N, H, W)` with values in {0, 1} (1 marks the
            object), a list of `(H_i, W_i)` arrays, or `None` when masks
            were not asked for.
        class_names: tuple of str, one per class.
        ids: tuple of str. Each image's identifier in the dataset's own
            files (file stem or relative path), to trace an example back.
        attributes: float32 array `(N, A)` with values in {0, 1}, or `None`.
            CUB only.
        attribute_names: tuple of `A` str, or `None`. CUB only.
        parts: float32 array `(N, P, 3)`: `(row, column, visible)` per part,
            row and column in normalised image coordinates, or `None`. CUB
            only; see `load_cub`.
        part_names: tuple of `P` str, or `None`. CUB only.

    Example:

    ```python
    data = load_oxford_pet("/data/oxford-iiit-pet", image_size=(224, 224))
    len(data), data.images.shape, data.masks.shape
    ```
    """

    images: object
    labels: np.ndarray
    masks: object
    class_names: tuple
    ids: tuple
    attributes: np.ndarray = None
    attribute_names: tuple = None
    parts: np.ndarray = None
    part_names: tuple = None

    def __len__(self):
        return int(self.labels.shape[0])

    @property
    def num_classes(self):
        """int. The number of classes (`len(class_names)`)."""
        return len(self.class_names)
