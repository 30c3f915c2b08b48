"""PASCAL VOC 2012 segmentation, single-label subset with object masks.

Nothing is downloaded. The `VOCtrainval_11-May-2012.tar` archive extracts
to

```
VOCdevkit/VOC2012/JPEGImages/<id>.jpg
VOCdevkit/VOC2012/SegmentationClass/<id>.png   palette PNG: 0 background,
                                               1-20 classes, 255 void
VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt, val.txt, trainval.txt
```

The segment-overlap-loss paper trains single-label classifiers on VOC and
uses "only the images with a single label" (931 train, 925 test images).
Here an image is single-label when its class segmentation holds exactly one
object class (ignoring background 0 and void 255); its label is that class
and its mask the pixels of that class. The segmentation `val` split plays
the role of the test split (VOC's own test annotations are not public).

Reference: M. Everingham, L. Van Gool, C. K. I. Williams, J. Winn,
A. Zisserman, "The PASCAL Visual Object Classes (VOC) Challenge", IJCV 88,
2010.
"""

import os

import numpy as np

from keras_xai.datasets._image_files import (
    check_split_arguments,
    find_root,
    read_label_png,
    read_mask_dataset,
)
from keras_xai.datasets._text_tables import read_table
from keras_xai.datasets.downloads import fetch_dataset

# Segmentation values 1-20 in order; label = value - 1.
CLASS_NAMES = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
SPLITS = ("train", "val", "trainval")
_VOID = 255


def load_voc_single_label(
    path=None, split="train", image_size=None, max_images=None, verbose=False
):
    """Loads the single-label images of a VOC 2012 segmentation split.

    Every class segmentation of the split is read; the images whose
    segmentation holds exactly one of the 20 object classes are kept, in
    split-file order.

    Args:
        path: str or path-like. The `VOC2012` directory, the `VOCdevkit`
            directory, or the directory holding `VOCdevkit/`.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("voc2012")`). Defaults to `None`.
        split: str. `"train"`, `"val"` (the paper's test split) or
            `"trainval"`. Defaults to `"train"`.
        image_size: `None`, int or `(height, width)`. Resize images
            (bilinear) and masks (nearest neighbour) and stack them; `None`
            keeps each file's size and returns lists. Defaults to `None`.
        max_images: int or `None`. Stop after this many single-label
            images. Defaults to `None` (all).
        verbose: bool. Show a progress bar over the split. Defaults to
            `False`.

    Returns:
        A `MaskDataset`: uint8 RGB `images`, int64 `labels` in `[0, 20)`
        indexing `CLASS_NAMES` (segmentation value minus one), float32
        `masks` in {0, 1}, 1 on the pixels of that class (void pixels,
        the 5-pixel band VOC draws around objects, count as 0), and `ids`
        (VOC image ids such as `2007_000032`).

    Raises:
        FileNotFoundError: if the directory, split file, an image or a
            segmentation is missing; the message names it.
        ValueError: if an argument is invalid, a segmentation is not a
            palette or grey PNG, holds values other than 0-20 and 255, or
            differs in size from its image; the message names the file.

    Example:

    ```python
    data = load_voc_single_label("/data/VOCdevkit", "val", image_size=224)
    len(data)  # single-label images of the val split
    ```

    Reference: S. Rao et al., segment overlap loss (SO-Loss) paper,
    "Datasets": PASCAL VOC 2012, single-label images only.
    """
    image_size, max_images = check_split_arguments(
        split, SPLITS, image_size, max_images
    )
    if path is None:
        path = fetch_dataset("voc2012")
    root = _find_root(path)
    split_path = os.path.join(root, "ImageSets", "Segmentation", f"{split}.txt")
    ids = [fields[0] for _, fields in read_table(split_path, "VOC split file", 1, 1)]

    def read(image_id):
        segmentation_path = os.path.join(root, "SegmentationClass", f"{image_id}.png")
        segmentation = read_label_png(
            segmentation_path,
            "VOC segmentation",
            (*range(len(CLASS_NAMES) + 1), _VOID),
            f"class values 0-{len(CLASS_NAMES)} and {_VOID} (void)",
        )
        classes = np.setdiff1d(np.unique(segmentation), (0, _VOID))
        if classes.size != 1:
            return None
        image_path = os.path.join(root, "JPEGImages", f"{image_id}.jpg")
        mask = (segmentation == classes[0]).astype(np.float32)
        return image_id, int(classes[0]) - 1, image_path, mask, segmentation_path

    return read_mask_dataset(
        ids, read, "VOC", split, CLASS_NAMES, image_size, verbose, max_images
    )


def _find_root(path):
    subdirectories = ("", "VOC2012", os.path.join("VOCdevkit", "VOC2012"))
    marker = os.path.join("ImageSets", "Segmentation")
    root = find_root(path, "VOC", subdirectories, marker)
    if root is None:
        tried = ", ".join(
            os.path.join(os.fspath(path), subdirectory, marker)
            for subdirectory in subdirectories
        )
        raise FileNotFoundError(f"VOC 2012 segmentation files not found: tried {tried}")
    return root
