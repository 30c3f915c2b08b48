"""Dataset loaders for on-disk formats, decoy variants and Focus mosaics.

Nothing is downloaded: loaders read the original files from a path the user
gives and validate them. Images are returned as uint8 like `keras.datasets`;
`to_float_images` brings them to the library's model input convention
(float32, channels-last, values in [0, 1]).
"""

from keras_xai.datasets import digits, fashion_mnist
from keras_xai.datasets.decoy import make_decoy
from keras_xai.datasets.default_dataset import Dataset, load_default_dataset
from keras_xai.datasets.idx import load_idx_dataset, read_idx
from keras_xai.datasets.images import to_float_images
from keras_xai.datasets.masks import object_masks
from keras_xai.datasets.mosaics import make_mosaics

__all__ = [
    "Dataset",
    "load_default_dataset",
    "digits",
    "fashion_mnist",
    "load_idx_dataset",
    "make_decoy",
    "make_mosaics",
    "object_masks",
    "read_idx",
    "to_float_images",
]
