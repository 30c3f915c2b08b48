import numpy as np
import pytest
from PIL import Image

from keras_xai.datasets.voc import CLASS_NAMES, load_voc_single_label
from tests.datasets.format_writers import save_image, save_palette_png, write_lines

VOID = 255


def _segmentation(size, classes):
    """One rectangle per class with a void band at its right edge."""
    segmentation = np.zeros(size, np.uint8)
    for index, value in enumerate(classes):
        top = index * 2
        segmentation[top : top + 2, 1:5] = value
        segmentation[top : top + 2, 5] = VOID
    return segmentation


# id, classes in the segmentation, image size
SPLITS = {
    "train": [
        ("2007_000032", [1], (8, 8)),  # aeroplane: kept
        ("2007_000033", [15, 12], (8, 8)),  # person + dog: dropped
        ("2007_000039", [], (8, 8)),  # background and void only: dropped
        ("2007_000042", [20], (6, 8)),  # tvmonitor: kept
        ("2007_000061", [15, 15], (8, 8)),  # one class, two objects: kept
    ],
    "val": [("2008_000001", [8], (8, 8)), ("2008_000002", [3], (8, 10))],
}


@pytest.fixture
def voc(tmp_path):
    """A tiny VOC 2012; returns (dir holding VOCdevkit, {id: (image, seg)})."""
    root = tmp_path / "VOCdevkit" / "VOC2012"
    rng = np.random.default_rng(0)
    arrays = {}
    for split, entries in SPLITS.items():
        for image_id, classes, size in entries:
            image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
            segmentation = _segmentation(size, classes)
            # PNG data under the .jpg name keeps pixel values exact.
            save_image(root / "JPEGImages" / f"{image_id}.jpg", image)
            save_palette_png(
                root / "SegmentationClass" / f"{image_id}.png", segmentation
            )
            arrays[image_id] = (image, segmentation)
        write_lines(
            root / "ImageSets" / "Segmentation" / f"{split}.txt",
            [image_id for image_id, _, _ in entries],
        )
    all_ids = [image_id for entries in SPLITS.values() for image_id, _, _ in entries]
    write_lines(root / "ImageSets" / "Segmentation" / "trainval.txt", all_ids)
    return tmp_path, arrays


def test_class_names():
    assert len(CLASS_NAMES) == 20
    assert CLASS_NAMES[0] == "aeroplane" and CLASS_NAMES[14] == "person"
    assert CLASS_NAMES[19] == "tvmonitor"


def test_fixture_segmentations_are_palette_pngs(voc):
    tmp_path, _ = voc
    path = tmp_path / "VOCdevkit/VOC2012/SegmentationClass/2007_000032.png"
    with Image.open(path) as image:
        assert image.mode == "P"
        # The colour of class 1 (aeroplane) is VOC's dark red.
        assert image.convert("RGB").getpixel((1, 0)) == (128, 0, 0)


@pytest.mark.parametrize("where", ["parent", "VOCdevkit", "VOC2012"])
def test_load_train_keeps_single_label_images(voc, where):
    tmp_path, arrays = voc
    path = {
        "parent": tmp_path,
        "VOCdevkit": tmp_path / "VOCdevkit",
        "VOC2012": tmp_path / "VOCdevkit" / "VOC2012",
    }[where]
    data = load_voc_single_label(path, "train")
    assert data.ids == ("2007_000032", "2007_000042", "2007_000061")
    assert data.labels.dtype == np.int64
    assert data.labels.tolist() == [0, 19, 14]
    assert data.class_names == CLASS_NAMES
    for image_id, image, mask, label in zip(
        data.ids, data.images, data.masks, data.labels
    ):
        expected_image, segmentation = arrays[image_id]
        np.testing.assert_array_equal(image, expected_image)
        assert mask.dtype == np.float32
        # The class's pixels; void (255) and background are 0.
        np.testing.assert_array_equal(mask, segmentation == label + 1)
        assert mask.sum() > 0 and not np.any(mask[segmentation == VOID])


def test_load_val_and_trainval(voc):
    tmp_path, _ = voc
    val = load_voc_single_label(tmp_path, "val")
    assert val.ids == ("2008_000001", "2008_000002") and val.labels.tolist() == [7, 2]
    assert val.images[1].shape == (8, 10, 3)
    trainval = load_voc_single_label(tmp_path, "trainval")
    assert len(trainval) == 5


def test_rejected_images_are_never_decoded(voc):
    tmp_path, _ = voc
    (tmp_path / "VOCdevkit/VOC2012/JPEGImages/2007_000033.jpg").unlink()
    assert len(load_voc_single_label(tmp_path, "train")) == 3


def test_max_images_and_resizing(voc):
    tmp_path, arrays = voc
    data = load_voc_single_label(
        tmp_path, "train", image_size=(4, 4), max_images=2, verbose=True
    )
    assert data.ids == ("2007_000032", "2007_000042")
    assert data.images.shape == (2, 4, 4, 3) and data.images.dtype == np.uint8
    assert data.masks.shape == (2, 4, 4) and data.masks.dtype == np.float32
    segmentation = arrays["2007_000032"][1]
    np.testing.assert_array_equal(data.masks[0], (segmentation == 1)[1::2, 1::2])
    every = load_voc_single_label(tmp_path, "train", image_size=4)
    assert every.images.shape == (3, 4, 4, 3)


def test_bad_arguments(voc):
    tmp_path, _ = voc
    with pytest.raises(
        ValueError, match=r"`split` must be one of \('train', 'val', 'trainval'\)"
    ):
        load_voc_single_label(tmp_path, "test")
    with pytest.raises(ValueError, match="`image_size`"):
        load_voc_single_label(tmp_path, image_size="big")
    with pytest.raises(ValueError, match="`max_images`"):
        load_voc_single_label(tmp_path, max_images=-1)


def test_missing_files(tmp_path, voc):
    root = tmp_path / "VOCdevkit" / "VOC2012"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        FileNotFoundError, match=r"VOC 2012 segmentation files not found"
    ):
        load_voc_single_label(empty)
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        load_voc_single_label(tmp_path / "missing_dir")
    (root / "JPEGImages" / "2007_000042.jpg").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"VOC image not found: .*2007_000042\.jpg"
    ):
        load_voc_single_label(tmp_path)
    (root / "SegmentationClass" / "2007_000039.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"2007_000039\.png"):
        load_voc_single_label(tmp_path)
    (root / "ImageSets" / "Segmentation" / "val.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"val\.txt"):
        load_voc_single_label(tmp_path, "val")


def test_corrupt_segmentations(voc):
    tmp_path, arrays = voc
    path = tmp_path / "VOCdevkit/VOC2012/SegmentationClass/2008_000001.png"
    segmentation = arrays["2008_000001"][1].copy()
    segmentation[7, 7] = 21
    save_palette_png(path, segmentation)
    with pytest.raises(
        ValueError, match=r"2008_000001\.png must hold class values .*\[21\]"
    ):
        load_voc_single_label(tmp_path, "val")
    # A colour rendering of the segmentation cannot be read as class values.
    save_image(path, np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"2008_000001\.png .* mode 'RGB'"):
        load_voc_single_label(tmp_path, "val")
    save_palette_png(path, arrays["2008_000001"][1][:7])
    with pytest.raises(ValueError, match=r"2008_000001\.png is 7x8 but its image"):
        load_voc_single_label(tmp_path, "val")
