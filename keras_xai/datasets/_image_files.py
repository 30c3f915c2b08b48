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


def check_choice(value, name, choices):
    """Raises `ValueError` unless `value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"`{name}` must be one of {choices}. Received: {name}={value!r}"
        )
    return value


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


def read_label_png(path, what="Annotation file"):
    """Decodes an annotation PNG to its stored integer values.

    Palette (`P`) images give their palette indices, which is where VOC and
    the Pet trimaps keep the class values; grey images give grey levels.

    Returns:
        int64 numpy array `(H, W)`.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if it cannot be decoded or is not a one-channel
            (palette or grey) image; the message names the file and mode.
    """
    with _opened(path, what) as image:
        if image.mode not in ("P", "L", "I", "I;16", "1"):
            raise ValueError(
                f"{what} {path} must be a palette or grey-level image holding "
                f"label values. Received an image of mode {image.mode!r}"
            )
        return np.array(image).astype(np.int64)


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
