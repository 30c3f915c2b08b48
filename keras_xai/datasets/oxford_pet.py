"""Oxford-IIIT Pet: 37 cat and dog breeds with pet segmentation trimaps.

Nothing is downloaded. The two archives (`images.tar.gz`,
`annotations.tar.gz`) extract to

```
<root>/images/<name>.jpg
<root>/annotations/trimaps/<name>.png     1 = pet, 2 = background, 3 = border
<root>/annotations/trainval.txt, test.txt, list.txt
```

where each list line reads `<name> <class id 1-37> <species 1 cat, 2 dog>
<breed id>` (`Abyssinian_100 1 1 1`) and lines starting with `#` are
comments. The class of an image is also the prefix of its name
(`Abyssinian`, `american_bulldog`, ...); cat breeds are capitalised.

Reference: O. M. Parkhi, A. Vedaldi, A. Zisserman, C. V. Jawahar, "Cats and
Dogs", CVPR 2012.
"""

import os

import numpy as np

from keras_xai.datasets._image_files import (
    check_choice,
    check_split_arguments,
    find_root,
    read_label_png,
    read_mask_dataset,
)
from keras_xai.datasets._text_tables import parse_int, read_table
from keras_xai.datasets.downloads import fetch_dataset

# Class ids 1-37 in order: the breed prefixes of the image names.
CLASS_NAMES = (
    "Abyssinian",
    "american_bulldog",
    "american_pit_bull_terrier",
    "basset_hound",
    "beagle",
    "Bengal",
    "Birman",
    "Bombay",
    "boxer",
    "British_Shorthair",
    "chihuahua",
    "Egyptian_Mau",
    "english_cocker_spaniel",
    "english_setter",
    "german_shorthaired",
    "great_pyrenees",
    "havanese",
    "japanese_chin",
    "keeshond",
    "leonberger",
    "Maine_Coon",
    "miniature_pinscher",
    "newfoundland",
    "Persian",
    "pomeranian",
    "pug",
    "Ragdoll",
    "Russian_Blue",
    "saint_bernard",
    "samoyed",
    "scottish_terrier",
    "shiba_inu",
    "Siamese",
    "Sphynx",
    "staffordshire_bull_terrier",
    "wheaten_terrier",
    "yorkshire_terrier",
)
SPLITS = ("trainval", "test")
BORDER_MODES = ("foreground", "background")
_PET, _BACKGROUND, _BORDER = 1, 2, 3


def load_oxford_pet(
    path=None,
    split="trainval",
    image_size=None,
    max_images=None,
    border="foreground",
    verbose=False,
):
    """Loads one split of Oxford-IIIT Pet with pet masks from the trimaps.

    Args:
        path: str or path-like. The directory holding `images/` and
            `annotations/`, or its parent when that holds
            `oxford-iiit-pet/`.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("oxford_pet")`). Defaults to `None`.
        split: str. `"trainval"` (3680 images) or `"test"` (3669), the
            dataset's own split files. Defaults to `"trainval"`.
        image_size: `None`, int or `(height, width)`. Resize images
            (bilinear) and masks (nearest neighbour) to this size and stack
            them; `None` keeps each file's size and returns lists. Defaults
            to `None`.
        max_images: int or `None`. Read only the first `max_images` images
            of the split file. Defaults to `None` (all).
        border: str. What the trimap's border band (value 3, the
            uncertain strip along the pet's outline) counts as:
            `"foreground"` (the mask is the whole silhouette, outline
            included) or `"background"` (only the trimap's certain pet
            pixels). Defaults to `"foreground"`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A `MaskDataset`: uint8 RGB `images`, int64 `labels` in `[0, 37)`
        (class id minus one) indexing `CLASS_NAMES`, float32 `masks` in
        {0, 1} with 1 on the pet, and `ids` (image names).

    Raises:
        FileNotFoundError: if the directory, the split file, an image or a
            trimap is missing; the message names it.
        ValueError: if an argument is invalid, a split line is malformed
            (not 4 fields, class id outside 1-37, species not 1 or 2, or a
            name whose breed prefix disagrees with its class id), an image
            cannot be decoded, a trimap holds values other than 1, 2, 3, or
            a trimap and its image differ in size; the message names the
            file (and line).

    Example:

    ```python
    data = load_oxford_pet("/data/oxford-iiit-pet", "test", image_size=224)
    data.images.shape, data.masks.shape  # (3669, 224, 224, 3), (3669, 224, 224)
    ```

    Reference: O. M. Parkhi et al., "Cats and Dogs", CVPR 2012.
    """
    image_size, max_images = check_split_arguments(
        split, SPLITS, image_size, max_images
    )
    check_choice(border, "border", BORDER_MODES)
    if path is None:
        path = fetch_dataset("oxford_pet")
    root = _find_root(path)
    entries = _read_split(os.path.join(root, "annotations", f"{split}.txt"))
    if max_images is not None:
        entries = entries[:max_images]
    pet_values = (_PET, _BORDER) if border == "foreground" else (_PET,)

    def read(entry):
        name, label = entry
        trimap_path = os.path.join(root, "annotations", "trimaps", f"{name}.png")
        trimap = read_label_png(
            trimap_path,
            "Oxford-IIIT Pet trimap",
            (_PET, _BACKGROUND, _BORDER),
            "only 1 (pet), 2 (background) and 3 (border)",
        )
        mask = np.isin(trimap, pet_values).astype(np.float32)
        image_path = os.path.join(root, "images", f"{name}.jpg")
        return name, label, image_path, mask, trimap_path

    return read_mask_dataset(
        entries, read, "Oxford-IIIT Pet", split, CLASS_NAMES, image_size, verbose
    )


def _find_root(path):
    root = find_root(path, "Oxford-IIIT Pet", ("", "oxford-iiit-pet"), "annotations")
    # Without annotations, the split file's own error names what is missing.
    return os.fspath(path) if root is None else root


def _read_split(path):
    """Returns `[(name, label), ...]` from a split file, labels 0-based."""
    entries = []
    for number, fields in read_table(path, "Oxford-IIIT Pet split file", 4, 4):
        name = fields[0]
        class_id = parse_int(
            fields[1], path, number, "the class id", 1, len(CLASS_NAMES)
        )
        parse_int(fields[2], path, number, "the species (1 cat, 2 dog)", 1, 2)
        breed = name.rsplit("_", 1)[0]
        if breed.lower() != CLASS_NAMES[class_id - 1].lower():
            raise ValueError(
                f"{path}, line {number}: image {name!r} has class id {class_id} "
                f"({CLASS_NAMES[class_id - 1]}) but its name says {breed!r}"
            )
        entries.append((name, class_id - 1))
    return entries
