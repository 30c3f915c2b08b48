"""Dataset loaders for on-disk formats, decoy variants and Focus mosaics.

Nothing is downloaded: loaders read the original files from a path the user
gives and validate them. Images are returned as uint8 like `keras.datasets`;
`to_float_images` brings them to the library's model input convention
(float32, channels-last, values in [0, 1]).
"""

from keras_xai.datasets import (
    cifar,
    cub,
    digits,
    fashion_mnist,
    oxford_pet,
    safe_pickle,
    stl10,
    voc,
)
from keras_xai.datasets.backgrounds import BACKGROUNDS, with_backgrounds
from keras_xai.datasets.by_name import DATASETS, load
from keras_xai.datasets.cifar import load_cifar10, load_cifar100
from keras_xai.datasets.cub import load_cub
from keras_xai.datasets.decoy import make_decoy
from keras_xai.datasets.default_dataset import Dataset, load_default_dataset
from keras_xai.datasets.downloads import DATASET_ARCHIVES, fetch_dataset
from keras_xai.datasets.idx import load_idx_dataset, read_idx
from keras_xai.datasets.images import to_float_images
from keras_xai.datasets.mask_dataset import MaskDataset
from keras_xai.datasets.masks import object_masks
from keras_xai.datasets.mosaics import make_mosaics
from keras_xai.datasets.oxford_pet import load_oxford_pet
from keras_xai.datasets.shortcut import (
    SHORTCUT_SPLITS,
    SHORTCUT_VARIANTS,
    ShortcutSplit,
    make_shortcut_split,
)
from keras_xai.datasets.stl10 import load_stl10, load_stl10_unlabeled
from keras_xai.datasets.voc import load_voc_single_label

__all__ = [
    "BACKGROUNDS",
    "with_backgrounds",
    "DATASETS",
    "load",
    "DATASET_ARCHIVES",
    "fetch_dataset",
    "Dataset",
    "MaskDataset",
    "cifar",
    "cub",
    "load_cifar10",
    "load_cifar100",
    "load_cub",
    "load_oxford_pet",
    "load_stl10",
    "load_stl10_unlabeled",
    "load_voc_single_label",
    "oxford_pet",
    "safe_pickle",
    "stl10",
    "voc",
    "load_default_dataset",
    "digits",
    "fashion_mnist",
    "load_idx_dataset",
    "make_decoy",
    "make_mosaics",
    "make_shortcut_split",
    "SHORTCUT_SPLITS",
    "SHORTCUT_VARIANTS",
    "ShortcutSplit",
    "object_masks",
    "read_idx",
    "to_float_images",
]
