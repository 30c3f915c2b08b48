"""Reading and resizing the image and mask files of the image datasets.

Oxford-IIIT Pet, PASCAL VOC and CUB-200-2011 share this code: decode an
image file to uint8 RGB, decode an annotation PNG to its integer values,
resize images (bilinear) and masks (nearest neighbour) to a common size, and
loop over a split with a progress bar.
"""

import contextlib
import os

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from keras_xai.datasets.mask_dataset import MaskDataset

# Decoding errors Pillow raises for damaged or truncated files.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError)


def check_image_size(image_size):
    """Validates `image_size`: `None` or a pair of positive ints `(H, W)`.

    Returns:
        `None` or a tuple `(height, width)` of ints.
    """
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
            for n in image_size
        )
    ):
        raise ValueError(
            "`image_size` must be None, a positive int or a pair of positive "
            f"ints (height, width). Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def check_max_images(max_images):
    """Validates `max_images`: `None` or an int >= 1."""
    if max_images is None:
        return None
    if (
        isinstance(max_images, bool)
        or not isinstance(max_images, (int, np.integer))
        or max_images < 1
    ):
        raise ValueError(
            "`max_images` must be None or an int >= 1. "
            f"Received: max_images={max_images!r}"
        )
    return int(max_images)


def find_root(path, what, subdirectories, marker):
    """Finds a dataset's root: the first directory under `path` holding `marker`.

    Args:
        path: str or path-like. The directory the loader was given.
        what: str. The dataset's name, for the error message.
        subdirectories: sequence of str. Where to look, in order, relative
            to `path` (`""` is `path` itself).
        marker: str. A path, relative to the root, only the root holds.

    Returns:
        The first `path/<subdirectory>` holding `marker`, or `None`.

    Raises:
        FileNotFoundError: if `path` is not a directory.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{what} directory not found: {path}")
    for subdirectory in subdirectories:
        candidate = os.path.join(path, subdirectory) if subdirectory else path
        if os.path.exists(os.path.join(candidate, marker)):
            return candidate
    return None


def check_choice(value, name, choices):
    """Raises `ValueError` unless `value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"`{name}` must be one of {choices}. Received: {name}={value!r}"
        )
    return value


def check_split_arguments(split, splits, image_size, max_images):
    """Validates the `split`, `image_size` and `max_images` of a loader.

    Returns:
        `(image_size, max_images)` as `check_image_size` and
        `check_max_images` return them.
    """
    check_choice(split, "split", splits)
    return check_image_size(image_size), check_max_images(max_images)


@contextlib.contextmanager
def _opened(path, what):
    """Opens and decodes an image file, closing it afterwards."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise ValueError(
            f"{what} {path} declares too many pixels to decode safely: {error}"
        ) from None
    except _DECODE_ERRORS as error:
        raise ValueError(f"{what} {path} cannot be decoded: {error}") from error
    with image:
        try:
            image.load()
        except _DECODE_ERRORS as error:
            raise ValueError(f"{what} {path} cannot be decoded: {error}") from error
        yield image


def read_rgb(path, what="Image file"):
    """Decodes an image file (any format Pillow reads) to uint8 RGB.

    Grey, palette, CMYK and RGBA files are converted to RGB (the datasets
    contain a few), so every image has 3 channels.

    Returns:
        uint8 numpy array `(H, W, 3)`.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if Pillow cannot decode it; the message names the file.
    """
    with _opened(path, what) as image:
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.array(image, dtype=np.uint8)


def read_label_png(path, what="Annotation file", values=None, meaning=None):
    """Decodes an annotation PNG to its stored integer values.

    Palette (`P`) images give their palette indices, which is where VOC and
    the Pet trimaps keep the class values; grey images give grey levels.

    Args:
        path: str. The PNG file.
        what: str. What the file is, for error messages.
        values: sequence of ints or `None`. The values the file may hold;
            `None` accepts any.
        meaning: str. What `values` are, for the error message (`"only 1
            (pet), 2 (background) and 3 (border)"`).

    Returns:
        int64 numpy array `(H, W)`.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if it cannot be decoded, is not a one-channel (palette
            or grey) image, or holds a value outside `values`; the message
            names the file and the mode or values.
    """
    with _opened(path, what) as image:
        if image.mode not in ("P", "L", "I", "I;16", "1"):
            raise ValueError(
                f"{what} {path} must be a palette or grey-level image holding "
                f"label values. Received an image of mode {image.mode!r}"
            )
        labels = np.array(image).astype(np.int64)
    if values is not None:
        unknown = np.setdiff1d(np.unique(labels), values)
        if unknown.size:
            raise ValueError(
                f"{what} {path} must hold {meaning}. Received values {unknown.tolist()}"
            )
    return labels


def read_grey(path, what="Mask file"):
    """Decodes an image to uint8 grey levels (colour through ITU-R 601-2 luma).

    Returns:
        uint8 numpy array `(H, W)`.
    """
    with _opened(path, what) as image:
        if image.mode != "L":
            image = image.convert("L")
        return np.array(image, dtype=np.uint8)


def resize_image(image, size):
    """Resizes a uint8 `(H, W, 3)` image to `size = (H', W')`, bilinear.

    Pillow's bilinear filter widens its support when shrinking, so
    downsampling is antialiased.
    """
    if image.shape[:2] == tuple(size):
        return image
    resized = Image.fromarray(image).resize(
        (size[1], size[0]), Image.Resampling.BILINEAR
    )
    return np.asarray(resized, dtype=np.uint8)


def resize_mask(mask, size):
    """Resizes a `(H, W)` mask to `size = (H', W')` by nearest neighbour.

    Nearest neighbour keeps the mask's values (no new label values appear).
    """
    if mask.shape == tuple(size):
        return mask
    dtype = mask.dtype
    resized = Image.fromarray(mask.astype(np.uint8)).resize(
        (size[1], size[0]), Image.Resampling.NEAREST
    )
    return np.asarray(resized).astype(dtype)


def check_same_size(image, mask, image_path, mask_path):
    """Raises `ValueError` naming both files when their sizes differ."""
    if image.shape[:2] != mask.shape[:2]:
        raise ValueError(
            f"Mask {mask_path} is {mask.shape[0]}x{mask.shape[1]} but its image "
            f"{image_path} is {image.shape[0]}x{image.shape[1]}"
        )


def read_examples(
    items, read, image_size=None, verbose=False, desc="images", limit=None
):
    """Reads `(image, mask)` pairs with `read(item)`, resizing them if asked.

    Args:
        items: sequence. One entry per candidate example, passed to `read`.
        read: callable `item -> (image, mask)` or `None`: uint8 `(H, W, 3)`
            and float32 `(H, W)` (or `None` for no mask) at the file's size;
            returning `None` skips the item.
        image_size: `None` or `(H, W)`. Resize everything to this size;
            `None` keeps each file's size.
        verbose: bool. Show a tqdm progress bar over `items`.
        desc: str. The progress bar's label.
        limit: int or `None`. Stop once this many examples are kept.

    Returns:
        `(images, masks, kept)`. With `image_size`: a uint8 array
        `(N, H, W, 3)` and a float32 array `(N, H, W)` (or `None` when
        `read` gives no masks); without it, lists of per-image arrays, since
        sizes differ. `kept` lists `(item, (H, W))` for each kept example,
        with the file's original size.
    """
    images, masks, kept = [], [], []
    for item in tqdm(items, desc=desc, unit="image", disable=not verbose):
        if limit is not None and len(kept) >= limit:
            break
        example = read(item)
        if example is None:
            continue
        image, mask = example
        kept.append((item, image.shape[:2]))
        if image_size is not None:
            image = resize_image(image, image_size)
            if mask is not None:
                mask = resize_mask(mask, image_size)
        images.append(image)
        masks.append(mask)
    has_masks = all(mask is not None for mask in masks)
    if image_size is None:
        return images, (masks if has_masks else None), kept
    height, width = image_size
    image_array = (
        np.stack(images) if images else np.zeros((0, height, width, 3), np.uint8)
    )
    if not has_masks:
        return image_array, None, kept
    mask_array = np.stack(masks) if masks else np.zeros((0, height, width), np.float32)
    return image_array, mask_array.astype(np.float32, copy=False), kept


def read_mask_dataset(
    items,
    read,
    dataset,
    split,
    class_names,
    image_size=None,
    verbose=False,
    limit=None,
):
    """Reads the labelled images of a split and their masks into a `MaskDataset`.

    Args:
        items: sequence. One entry per candidate example, passed to `read`.
        read: callable `item -> (image_id, label, image_path, mask,
            mask_path)`, or `None` to skip the item: `label` indexes
            `class_names`, `mask` is float32 `(H, W)` made from the
            annotation file `mask_path`. The image file is decoded here and
            must have the mask's size.
        dataset: str. The dataset's name, for messages (`"VOC"`).
        split: str. The split's name, for the progress bar.
        class_names: tuple of str. The dataset's classes.
        image_size, verbose, limit: as `read_examples`.

    Returns:
        A `MaskDataset` of the kept examples, in `items` order.
    """
    kept = []

    def read_example(item):
        example = read(item)
        if example is None:
            return None
        image_id, label, image_path, mask, mask_path = example
        image = read_rgb(image_path, f"{dataset} image")
        check_same_size(image, mask, image_path, mask_path)
        kept.append((image_id, label))
        return image, mask

    images, masks, _ = read_examples(
        items, read_example, image_size, verbose, f"{dataset} {split}", limit
    )
    return MaskDataset(
        images=images,
        labels=np.array([label for _, label in kept], dtype=np.int64),
        masks=masks,
        class_names=class_names,
        ids=tuple(image_id for image_id, _ in kept),
    )
