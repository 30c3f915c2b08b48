import shutil

import numpy as np
import pytest

from keras_xai.datasets.cub import load_cub
from keras_xai.metrics.localization import center_of_mass
from tests.datasets.format_writers import save_image, write_lines

# id, relative path, class id, is_train, image size
IMAGES = [
    (1, "001.Black_footed_Albatross/Black_Footed_Albatross_0001_1.jpg", 1, 1, (8, 8)),
    (2, "001.Black_footed_Albatross/Black_Footed_Albatross_0002_2.jpg", 1, 0, (8, 10)),
    (3, "002.Laysan_Albatross/Laysan_Albatross_0003_3.jpg", 2, 1, (10, 8)),
    (4, "002.Laysan_Albatross/Laysan_Albatross_0004_4.jpg", 2, 0, (8, 8)),
    (5, "003.Sooty_Albatross/Sooty_Albatross_0005_5.jpg", 3, 1, (6, 12)),
]
CLASSES = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]
ATTRIBUTES = [
    "has_bill_shape::curved_(up_or_down)",
    "has_wing_color::blue",
    "has_size::small_(5_-_9_in)",
    "has_eye_color::black",
]
PARTS = ["back", "beak", "left eye"]
GREYS = np.array([0, 51, 102, 127, 128, 204, 255], np.uint8)


def _present(image_id, attribute_id):
    return int((image_id * 3 + attribute_id) % 4 == 0)


def _part(image_id, part_id, size):
    """(x, y, visible): integer pixel indices inside the image."""
    height, width = size
    visible = int(not (image_id == 3 and part_id == 2))
    if not visible:
        return 0.0, 0.0, 0
    return (
        float((image_id + 2 * part_id) % width),
        float((image_id * part_id) % height),
        1,
    )


@pytest.fixture
def cub(tmp_path):
    """A tiny CUB-200-2011 with segmentations; returns (parent, images, masks)."""
    root = tmp_path / "CUB_200_2011"
    rng = np.random.default_rng(0)
    images, greys = {}, {}
    for image_id, relative, _, _, size in IMAGES:
        image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        grey = GREYS[rng.integers(0, len(GREYS), size)]
        # PNG data under the .jpg name keeps the pixel values exact.
        save_image(root / "images" / relative, image)
        save_image(tmp_path / "segmentations" / relative.replace(".jpg", ".png"), grey)
        images[image_id], greys[image_id] = image, grey
    write_lines(root / "images.txt", [f"{i} {rel}" for i, rel, *_ in IMAGES])
    write_lines(root / "image_class_labels.txt", [f"{i} {c}" for i, _, c, *_ in IMAGES])
    write_lines(root / "train_test_split.txt", [f"{i} {t}" for i, _, _, t, _ in IMAGES])
    write_lines(
        root / "classes.txt", [f"{k + 1} {name}" for k, name in enumerate(CLASSES)]
    )
    write_lines(
        tmp_path / "attributes.txt", [f"{k + 1} {a}" for k, a in enumerate(ATTRIBUTES)]
    )
    lines = []
    for image_id, *_ in IMAGES:
        for attribute_id in range(1, len(ATTRIBUTES) + 1):
            line = (
                f"{image_id} {attribute_id} {_present(image_id, attribute_id)} 3 12.5"
            )
            if attribute_id == 2:
                line += " 0"  # some real lines carry a sixth column
            lines.append(line)
    write_lines(root / "attributes" / "image_attribute_labels.txt", lines)
    write_lines(
        root / "parts" / "parts.txt", [f"{k + 1} {p}" for k, p in enumerate(PARTS)]
    )
    locs = []
    for image_id, _, _, _, size in IMAGES:
        for part_id in range(1, len(PARTS) + 1):
            x, y, visible = _part(image_id, part_id, size)
            locs.append(f"{image_id} {part_id} {x} {y} {visible}")
    write_lines(root / "parts" / "part_locs.txt", locs)
    return tmp_path, images, greys


@pytest.mark.parametrize("nested", [True, False])
def test_load_train_with_masks(cub, nested):
    tmp_path, images, greys = cub
    data = load_cub(tmp_path if nested else tmp_path / "CUB_200_2011")
    assert data.ids == tuple(rel for _, rel, _, is_train, _ in IMAGES if is_train)
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [0, 1, 2]
    assert data.class_names == (
        "Black_footed_Albatross",
        "Laysan_Albatross",
        "Sooty_Albatross",
    )
    assert data.attributes is None and data.parts is None
    for image_id, image, mask in zip((1, 3, 5), data.images, data.masks):
        np.testing.assert_array_equal(image, images[image_id])
        assert mask.dtype == np.float32
        np.testing.assert_array_equal(mask, greys[image_id] >= 128)


def test_test_split_threshold_and_max_images(cub):
    tmp_path, _, greys = cub
    data = load_cub(tmp_path, "test", mask_threshold=0.1, max_images=1)
    assert len(data) == 1 and data.labels.tolist() == [0]
    np.testing.assert_array_equal(data.masks[0], greys[2] > 25.5)
    np.testing.assert_array_equal(data.masks[0], greys[2] >= 51)


def test_without_masks_needs_no_segmentations(cub):
    tmp_path, images, _ = cub
    shutil.rmtree(tmp_path / "segmentations")
    data = load_cub(tmp_path, with_masks=False)
    assert data.masks is None
    np.testing.assert_array_equal(data.images[1], images[3])
    with pytest.raises(FileNotFoundError, match="segmentations.tgz.*with_masks=False"):
        load_cub(tmp_path)


def test_segmentations_inside_the_dataset_directory(cub):
    tmp_path, _, greys = cub
    shutil.move(tmp_path / "segmentations", tmp_path / "CUB_200_2011" / "segmentations")
    data = load_cub(tmp_path / "CUB_200_2011")
    np.testing.assert_array_equal(data.masks[2], greys[5] >= 128)


def test_attributes(cub):
    tmp_path, _, _ = cub
    data = load_cub(tmp_path, "test", with_masks=False, with_attributes=True)
    assert data.attribute_names == tuple(ATTRIBUTES)
    expected = [[_present(i, a) for a in range(1, 5)] for i in (2, 4)]
    assert data.attributes.dtype == np.float32
    np.testing.assert_array_equal(data.attributes, expected)
    assert 0 < data.attributes.sum() < data.attributes.size


def test_attribute_names_inside_the_dataset_directory(cub):
    tmp_path, _, _ = cub
    target = tmp_path / "CUB_200_2011" / "attributes" / "attributes.txt"
    shutil.move(tmp_path / "attributes.txt", target)
    data = load_cub(tmp_path, with_masks=False, with_attributes=True)
    assert data.attribute_names[1] == "has_wing_color::blue"
    target.unlink()
    with pytest.raises(FileNotFoundError, match=r"attributes\.txt.*tried"):
        load_cub(tmp_path, with_masks=False, with_attributes=True)


@pytest.mark.parametrize("image_size", [None, (4, 6)])
def test_parts_in_normalised_coordinates(cub, image_size):
    tmp_path, _, _ = cub
    data = load_cub(tmp_path, image_size=image_size, with_masks=False, with_parts=True)
    assert data.part_names == ("back", "beak", "left eye")
    assert data.parts.shape == (3, 3, 3) and data.parts.dtype == np.float32
    for row, (image_id, _, _, _, size) in enumerate(x for x in IMAGES if x[3]):
        height, width = size
        for part in range(3):
            x, y, visible = _part(image_id, part + 1, size)
            assert data.parts[row, part, 2] == visible
            if not visible:
                assert np.all(np.isnan(data.parts[row, part, :2]))
                continue
            expected = ((y + 0.5) / height, (x + 0.5) / width)
            np.testing.assert_allclose(data.parts[row, part, :2], expected, rtol=1e-6)
            # Same convention as the centre of mass of a one-pixel map.
            point = np.zeros((1, height, width))
            point[0, int(y), int(x)] = 1.0
            np.testing.assert_allclose(
                data.parts[row, part, :2], center_of_mass(point)[0], rtol=1e-6
            )
    assert data.parts[1, 1, 2] == 0  # image 3's beak is not visible


def test_resizing_stacks_images_and_masks(cub):
    tmp_path, _, greys = cub
    data = load_cub(tmp_path, image_size=(4, 4))
    assert data.images.shape == (3, 4, 4, 3) and data.images.dtype == np.uint8
    assert data.masks.shape == (3, 4, 4) and data.masks.dtype == np.float32
    np.testing.assert_array_equal(data.masks[0], (greys[1] >= 128)[1::2, 1::2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "val"}, r"`split` must be one of \('train', 'test'\)"),
        ({"mask_threshold": 1.0}, r"`mask_threshold` must be a number in \[0, 1\)"),
        ({"mask_threshold": True}, "`mask_threshold`"),
        ({"with_masks": "yes"}, "`with_masks` must be a bool"),
        ({"with_parts": 1}, "`with_parts` must be a bool"),
        ({"image_size": (4,)}, "`image_size`"),
        ({"max_images": 0}, "`max_images`"),
    ],
)
def test_bad_arguments(cub, kwargs, message):
    tmp_path, _, _ = cub
    with pytest.raises(ValueError, match=message):
        load_cub(tmp_path, **kwargs)


def test_missing_files(cub):
    tmp_path, _, _ = cub
    root = tmp_path / "CUB_200_2011"
    with pytest.raises(FileNotFoundError, match=r"CUB-200-2011 images\.txt not found"):
        load_cub(tmp_path / "segmentations")
    (root / "images" / IMAGES[2][1]).unlink()
    with pytest.raises(FileNotFoundError, match=r"CUB image not found: .*0003_3\.jpg"):
        load_cub(tmp_path)
    (root / "parts" / "part_locs.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"part_locs\.txt"):
        load_cub(tmp_path, "test", with_masks=False, with_parts=True)
    (root / "train_test_split.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"train_test_split\.txt"):
        load_cub(tmp_path)


def _replace_line(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "file, old, new, kwargs, message",
    [
        (
            "image_class_labels.txt",
            "3 2\n",
            "3 4\n",
            {},
            r"line 3: the class id must be in \[1, 3\]",
        ),
        ("image_class_labels.txt", "5 3\n", "", {}, "has no record for image id 5"),
        ("train_test_split.txt", "1 1\n", "1 2\n", {}, "is_training_image must be in"),
        ("images.txt", "2 001", "1 001", {}, "line 2: id 1 is listed twice"),
        ("classes.txt", "3 003", "4 003", {}, "must number its classes 1 to 3"),
        (
            "attributes/image_attribute_labels.txt",
            "3 1 ",
            "3 9 ",
            {"with_attributes": True},
            r"line 9: attribute id must be in \[1, 4\]",
        ),
        (
            "attributes/image_attribute_labels.txt",
            "5 4 0 3 12.5\n",
            "",
            {"with_attributes": True},
            "no record for image id 5, attribute id 4",
        ),
        (
            "attributes/image_attribute_labels.txt",
            "1 1 1 3",
            "1 1 2 3",
            {"with_attributes": True},
            "line 1: .*is_present 0 or 1",
        ),
        (
            "parts/part_locs.txt",
            "1 2 ",
            "1 7 ",
            {"with_parts": True},
            r"line 2: the part id",
        ),
        (
            "parts/part_locs.txt",
            " 1\n",
            " 1 9\n",
            {"with_parts": True},
            "line 1: expected 5",
        ),
        (
            "parts/part_locs.txt",
            "1 1 3.0",
            "1 1 nan",
            {"with_parts": True},
            "x must be a finite",
        ),
    ],
)
def test_corrupt_annotations(cub, file, old, new, kwargs, message):
    tmp_path, _, _ = cub
    _replace_line(tmp_path / "CUB_200_2011" / file, old, new)
    with pytest.raises(ValueError, match=message):
        load_cub(tmp_path, with_masks=False, **kwargs)


def test_mask_and_image_sizes_must_match(cub):
    tmp_path, _, _ = cub
    relative = IMAGES[0][1].replace(".jpg", ".png")
    save_image(tmp_path / "segmentations" / relative, np.zeros((8, 9), np.uint8))
    with pytest.raises(ValueError, match=r"0001_1\.png is 8x9 but its image .* is 8x8"):
        load_cub(tmp_path)


@pytest.mark.parametrize(
    "escape", ["../../secret.jpg", "/etc/passwd", "001.Black/../../../x.jpg"]
)
def test_image_paths_cannot_leave_the_dataset(cub, escape):
    tmp_path, _, _ = cub
    images = tmp_path / "CUB_200_2011" / "images.txt"
    first = images.read_text().splitlines()[0]
    image_id, relative = first.split(" ", 1)
    # A file outside the dataset that the escape would otherwise read.
    (tmp_path / "secret.jpg").write_bytes(
        (tmp_path / "CUB_200_2011" / "images" / relative).read_bytes()
    )
    _replace_line(images, first, f"{image_id} {escape}")
    with pytest.raises(ValueError, match="line 1: image paths must be relative"):
        load_cub(tmp_path, with_masks=False)
