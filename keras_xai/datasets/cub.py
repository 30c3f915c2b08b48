"""CUB-200-2011 birds: images, segmentations, attributes and part keypoints.

Nothing is downloaded. `CUB_200_2011.tgz` extracts to

```
<root>/CUB_200_2011/images.txt              <image id> <relative path>
<root>/CUB_200_2011/image_class_labels.txt  <image id> <class id 1-200>
<root>/CUB_200_2011/train_test_split.txt    <image id> <1 train, 0 test>
<root>/CUB_200_2011/classes.txt             <class id> <NNN.Name>
<root>/CUB_200_2011/images/<relative path>  .jpg
<root>/CUB_200_2011/attributes/image_attribute_labels.txt
        <image id> <attribute id> <is present> <certainty id> <time>
<root>/CUB_200_2011/parts/parts.txt         <part id> <name, may hold spaces>
<root>/CUB_200_2011/parts/part_locs.txt     <image id> <part id> <x> <y> <visible>
<root>/attributes.txt                       <attribute id> <name>
```

and the separate `segmentations.tgz` to `<root>/segmentations/<relative
path>.png` (grey levels: the fraction of annotators marking the pixel as
bird). Both `attributes.txt` and `segmentations/` are also looked for inside
`CUB_200_2011/`.

Reference: C. Wah, S. Branson, P. Welinder, P. Perona, S. Belongie, "The
Caltech-UCSD Birds-200-2011 Dataset", Technical Report CNS-TR-2011-001,
Caltech, 2011.
"""

import os

import numpy as np

from keras_xai.datasets._image_files import (
    check_choice,
    check_image_size,
    check_max_images,
    check_same_size,
    read_examples,
    read_grey,
    read_rgb,
)
from keras_xai.datasets._text_tables import (
    find_file,
    iter_table,
    parse_float,
    parse_int,
    read_id_table,
    read_table,
)
from keras_xai.datasets.downloads import fetch_dataset
from keras_xai.datasets.mask_dataset import MaskDataset

DIRECTORY = "CUB_200_2011"
SPLITS = ("train", "test")


def load_cub(
    path=None,
    split="train",
    image_size=None,
    with_masks=True,
    with_attributes=False,
    with_parts=False,
    max_images=None,
    mask_threshold=0.5,
    verbose=False,
):
    """Loads one split of CUB-200-2011 with masks, attributes and parts.

    Args:
        path: str or path-like. The `CUB_200_2011` directory or its parent.
            `None`: downloaded once into the Keras cache
            (`fetch_dataset("cub")`). Defaults to `None`.
            The download holds no segmentation masks (a separate archive):
            `with_masks=True` needs them put in the directory's parent.
        split: str. `"train"` (5994 images) or `"test"` (5794), from
            `train_test_split.txt`. Defaults to `"train"`.
        image_size: `None`, int or `(height, width)`. Resize images
            (bilinear) and masks (nearest neighbour) and stack them; `None`
            keeps each file's size and returns lists (the full training set
            at full size takes several GB). Defaults to `None`.
        with_masks: bool. Read the segmentations (`segmentations/`, from the
            separate archive). Defaults to `True`.
        with_attributes: bool. Read the 312 binary attribute labels (about
            3.7 million lines; a few seconds). Defaults to `False`.
        with_parts: bool. Read the 15 part keypoints. Defaults to `False`.
        max_images: int or `None`. Read only the first `max_images` images
            of the split, in `images.txt` order. Defaults to `None` (all).
        mask_threshold: float in [0, 1). A mask pixel is bird when its grey
            level / 255 exceeds this (0.5: more than half the annotators,
            grey level > 127). Defaults to `0.5`.
        verbose: bool. Show a progress bar. Defaults to `False`.

    Returns:
        A `MaskDataset` with uint8 RGB `images`, int64 `labels` in
        `[0, 200)` (class id minus one) indexing `class_names` (the names of
        `classes.txt` without their `NNN.` prefix, e.g.
        `"Black_footed_Albatross"`), float32 `masks` in {0, 1} (or `None`),
        `ids` (the relative image paths), and when asked:

        - `attributes`: float32 `(N, 312)` in {0, 1} (`is_present`) and
          `attribute_names` (`"has_bill_shape::curved_(up_or_down)"`, ...).
          Records beyond the third field (certainty, time, and the extra
          column some lines carry) are ignored; a pair listed twice is
          present when any of its lines says so.
        - `parts`: float32 `(N, 15, 3)`, `(row, column, visible)` per part,
          in the normalised image coordinates of
          `keras_xai.metrics.center_of_mass`: the file's `(x, y)` are taken
          as 0-based pixel indices, so the part sits at
          `((y + 0.5) / H, (x + 0.5) / W)` of the original image, clipped to
          [0, 1]; these coordinates do not change when images are resized.
          Parts that are not visible have `visible = 0` and NaN row and
          column, so they cannot be used by mistake (select
          `parts[..., 2] == 1`). `part_names` lists the 15 names (`"beak"`,
          `"left eye"`, ...).

    Raises:
        FileNotFoundError: if the directory or a needed file is missing
            (the message names it, or every location tried).
        ValueError: if an argument is invalid, an annotation line is
            malformed or refers to an unknown image, class, attribute or
            part, a selected image lacks a label, split, attribute or part
            record, an image cannot be decoded, or a mask and its image
            differ in size; the message names the file (and line).

    Example:

    ```python
    data = load_cub("/data/CUB", "test", image_size=224, with_parts=True)
    beak = data.part_names.index("beak")
    visible = data.parts[:, beak, 2] == 1
    beak_points = data.parts[visible, beak, :2]  # normalised (row, column)
    ```
    """
    check_choice(split, "split", SPLITS)
    image_size = check_image_size(image_size)
    max_images = check_max_images(max_images)
    for name, value in (
        ("with_masks", with_masks),
        ("with_attributes", with_attributes),
        ("with_parts", with_parts),
    ):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
    if (
        isinstance(mask_threshold, bool)
        or not isinstance(mask_threshold, (int, float, np.number))
        or not 0 <= mask_threshold < 1
    ):
        raise ValueError(
            "`mask_threshold` must be a number in [0, 1). "
            f"Received: mask_threshold={mask_threshold!r}"
        )
    if path is None:
        path = fetch_dataset("cub")
    root = _find_root(path)
    parent = os.path.dirname(os.path.abspath(root))
    class_names = _read_class_names(os.path.join(root, "classes.txt"))
    selected = _select_images(root, split, len(class_names))
    if max_images is not None:
        selected = selected[:max_images]
    segmentation_dir = _find_segmentations(root, parent) if with_masks else None

    def read(entry):
        _, relative, _ = entry
        image_path = os.path.join(root, "images", relative)
        image = read_rgb(image_path, "CUB image")
        if segmentation_dir is None:
            return image, None
        mask_path = os.path.join(
            segmentation_dir, os.path.splitext(relative)[0] + ".png"
        )
        grey = read_grey(mask_path, "CUB segmentation")
        check_same_size(image, grey, image_path, mask_path)
        return image, (grey > mask_threshold * 255.0).astype(np.float32)

    images, masks, kept = read_examples(
        selected, read, image_size, verbose, desc=f"CUB-200-2011 {split}"
    )
    image_ids = [image_id for image_id, _, _ in selected]
    data = MaskDataset(
        images=images,
        labels=np.array([label for _, _, label in selected], dtype=np.int64),
        masks=masks,
        class_names=class_names,
        ids=tuple(relative for _, relative, _ in selected),
    )
    if with_attributes:
        data.attribute_names = _read_attribute_names(root, parent)
        data.attributes = _read_attributes(
            os.path.join(root, "attributes", "image_attribute_labels.txt"),
            image_ids,
            len(data.attribute_names),
        )
    if with_parts:
        data.part_names = _read_part_names(os.path.join(root, "parts", "parts.txt"))
        data.parts = _read_parts(
            os.path.join(root, "parts", "part_locs.txt"),
            image_ids,
            [size for _, size in kept],
            len(data.part_names),
        )
    return data


def _find_root(path):
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"CUB-200-2011 directory not found: {path}")
    for candidate in (path, os.path.join(path, DIRECTORY)):
        if os.path.isfile(os.path.join(candidate, "images.txt")):
            return candidate
    raise FileNotFoundError(
        f"CUB-200-2011 images.txt not found: tried {os.path.join(path, 'images.txt')} "
        f"and {os.path.join(path, DIRECTORY, 'images.txt')}"
    )


def _find_segmentations(root, parent):
    candidates = (
        os.path.join(parent, "segmentations"),
        os.path.join(root, "segmentations"),
    )
    for candidate in candidates:
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        "CUB-200-2011 segmentations directory not found (it comes in the "
        f"separate segmentations.tgz): tried {' and '.join(candidates)}. Pass "
        "`with_masks=False` to load without masks"
    )


def _read_class_names(path):
    table = read_id_table(path, "CUB class list", 1, lambda fields, _: fields[0])
    if sorted(table) != list(range(1, len(table) + 1)):
        raise ValueError(
            f"CUB class list {path} must number its classes 1 to {len(table)}"
        )
    # "001.Black_footed_Albatross" -> "Black_footed_Albatross".
    return tuple(table[key].split(".", 1)[-1] for key in sorted(table))


def _relative_image_path(text, path, line):
    """An `images.txt` path, refused if it could leave the `images` folder."""
    parts = text.replace("\\", "/").split("/")
    if os.path.isabs(text) or text.startswith(("/", "\\")) or ".." in parts:
        raise ValueError(
            f"CUB file {path}, line {line}: image paths must be relative to the "
            f"dataset's images folder, without '..'. Received: {text!r}"
        )
    return text


def _select_images(root, split, num_classes):
    """Returns `[(image_id, relative_path, label), ...]` of `split`, in file order."""
    images_path = os.path.join(root, "images.txt")
    labels_path = os.path.join(root, "image_class_labels.txt")
    split_path = os.path.join(root, "train_test_split.txt")
    paths = read_id_table(
        images_path,
        "CUB image list",
        1,
        lambda fields, line: _relative_image_path(fields[0], images_path, line),
    )
    labels = read_id_table(
        labels_path,
        "CUB image labels",
        1,
        lambda fields, line: parse_int(
            fields[0], labels_path, line, "the class id", 1, num_classes
        ),
    )
    is_train = read_id_table(
        split_path,
        "CUB train/test split",
        1,
        lambda fields, line: parse_int(
            fields[0], split_path, line, "is_training_image", 0, 1
        ),
    )
    wanted = 1 if split == "train" else 0
    selected = []
    for image_id, relative in paths.items():
        for table, table_path in ((labels, labels_path), (is_train, split_path)):
            if image_id not in table:
                raise ValueError(
                    f"CUB file {table_path} has no record for image id {image_id}"
                )
        if is_train[image_id] == wanted:
            selected.append((image_id, relative, labels[image_id] - 1))
    return selected


def _read_attribute_names(root, parent):
    path = find_file(
        (
            os.path.join(parent, "attributes.txt"),
            os.path.join(root, "attributes", "attributes.txt"),
            os.path.join(root, "attributes.txt"),
        ),
        "CUB attribute names (attributes.txt)",
    )
    table = read_id_table(path, "CUB attribute names", 1, lambda fields, _: fields[0])
    if sorted(table) != list(range(1, len(table) + 1)):
        raise ValueError(
            f"CUB attribute names {path} must number attributes 1 to {len(table)}"
        )
    return tuple(table[key] for key in sorted(table))


def _read_attributes(path, image_ids, num_attributes):
    row_of = {image_id: row for row, image_id in enumerate(image_ids)}
    present = np.zeros((len(image_ids), num_attributes), np.float32)
    seen = np.zeros((len(image_ids), num_attributes), bool)
    # Only the first three fields are used; lines carry 5 or, in places, 6.
    for number, fields in iter_table(path, "CUB attribute labels", 3, 6):
        try:
            image_id, attribute, value = int(fields[0]), int(fields[1]), int(fields[2])
        except ValueError:
            raise ValueError(
                f"{path}, line {number}: image id, attribute id and is_present "
                f"must be integers. Received: {' '.join(fields)!r}"
            ) from None
        row = row_of.get(image_id)
        if row is None:
            continue
        if not 1 <= attribute <= num_attributes or value not in (0, 1):
            raise ValueError(
                f"{path}, line {number}: attribute id must be in [1, "
                f"{num_attributes}] and is_present 0 or 1. Received: "
                f"{' '.join(fields)!r}"
            )
        seen[row, attribute - 1] = True
        if value:
            present[row, attribute - 1] = 1.0
    _check_complete(seen, image_ids, path, "attribute")
    return present


def _read_part_names(path):
    table = read_id_table(path, "CUB part names", 1, lambda fields, _: fields[0])
    if sorted(table) != list(range(1, len(table) + 1)):
        raise ValueError(f"CUB part names {path} must number parts 1 to {len(table)}")
    return tuple(table[key] for key in sorted(table))


def _read_parts(path, image_ids, sizes, num_parts):
    row_of = {image_id: row for row, image_id in enumerate(image_ids)}
    parts = np.full((len(image_ids), num_parts, 3), np.nan, np.float32)
    parts[..., 2] = 0.0
    seen = np.zeros((len(image_ids), num_parts), bool)
    for number, fields in read_table(path, "CUB part locations", 5, 5):
        image_id = parse_int(fields[0], path, number, "the image id", low=1)
        row = row_of.get(image_id)
        if row is None:
            continue
        part = parse_int(fields[1], path, number, "the part id", 1, num_parts)
        x = parse_float(fields[2], path, number, "x")
        y = parse_float(fields[3], path, number, "y")
        visible = parse_int(fields[4], path, number, "visible", 0, 1)
        seen[row, part - 1] = True
        if visible:
            height, width = sizes[row]
            parts[row, part - 1] = (
                np.clip((y + 0.5) / height, 0.0, 1.0),
                np.clip((x + 0.5) / width, 0.0, 1.0),
                1.0,
            )
    _check_complete(seen, image_ids, path, "part")
    return parts


def _check_complete(seen, image_ids, path, what):
    missing = np.argwhere(~seen)
    if missing.size:
        row, column = missing[0]
        raise ValueError(
            f"CUB file {path} has no record for image id {image_ids[row]}, "
            f"{what} id {column + 1} ({missing.shape[0]} missing record(s) in all)"
        )
