import numpy as np
import pytest

from keras_xai.datasets.mask_dataset import MaskDataset
from keras_xai.datasets.oxford_pet import CLASS_NAMES, load_oxford_pet
from tests.datasets.format_writers import save_image, save_palette_png, write_lines

PET, BACKGROUND, BORDER = 1, 2, 3


def _trimap(height, width, shift):
    """Pet block at the top left, a border band around it, background else."""
    trimap = np.full((height, width), BACKGROUND, np.uint8)
    trimap[: 4 + shift, : 4 + shift] = BORDER
    trimap[: 3 + shift, : 3 + shift] = PET
    return trimap


# name, class id, species, size, image format, trimap as palette PNG
TRAINVAL = [
    ("Abyssinian_100", 1, 1, (8, 8), "PNG", False),
    ("american_bulldog_10", 2, 2, (8, 10), "PNG", True),
    ("yorkshire_terrier_5", 37, 2, (8, 8), "JPEG", False),
]
TEST = [
    ("Bengal_3", 6, 1, (8, 8), "PNG", False),
    ("pug_7", 26, 2, (6, 8), "PNG", False),
]


@pytest.fixture
def pet(tmp_path):
    """A tiny Oxford-IIIT Pet; returns (root, {name: (image, trimap)})."""
    root = tmp_path / "oxford-iiit-pet"
    rng = np.random.default_rng(0)
    arrays = {}
    for index, (name, _, _, size, fmt, palette) in enumerate(TRAINVAL + TEST):
        if fmt == "JPEG":
            image = np.empty(size + (3,), np.uint8)
            image[:] = (200, 30, 90)  # JPEG is lossy: a solid colour survives
        else:
            image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        trimap = _trimap(*size, shift=index % 3)
        # The extension is always .jpg; some real files are PNG inside.
        save_image(root / "images" / f"{name}.jpg", image, fmt=fmt)
        trimap_path = root / "annotations" / "trimaps" / f"{name}.png"
        if palette:
            save_palette_png(trimap_path, trimap)
        else:
            save_image(trimap_path, trimap)
        arrays[name] = (image, trimap)
    for split, entries in (("trainval", TRAINVAL), ("test", TEST)):
        lines = ["#Image CLASS-ID SPECIES BREED ID", "#ID: 1:37 Class ids"]
        lines += [f"{name} {cid} {species} 1" for name, cid, species, *_ in entries]
        write_lines(root / "annotations" / f"{split}.txt", lines)
    return root, arrays


def test_class_names():
    assert len(CLASS_NAMES) == 37
    assert CLASS_NAMES[0] == "Abyssinian" and CLASS_NAMES[36] == "yorkshire_terrier"
    assert sum(name[0].isupper() for name in CLASS_NAMES) == 12  # cat breeds


@pytest.mark.parametrize("nested", [True, False])
def test_load_trainval_at_file_size(pet, nested):
    root, arrays = pet
    data = load_oxford_pet(root.parent if nested else root)
    assert isinstance(data, MaskDataset) and len(data) == 3
    assert data.ids == ("Abyssinian_100", "american_bulldog_10", "yorkshire_terrier_5")
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [0, 1, 36]
    assert data.class_names == CLASS_NAMES and data.num_classes == 37
    assert isinstance(data.images, list) and isinstance(data.masks, list)
    for name, image, mask in zip(data.ids, data.images, data.masks):
        expected_image, trimap = arrays[name]
        assert image.dtype == np.uint8 and image.shape == expected_image.shape
        if name.startswith("yorkshire"):
            np.testing.assert_allclose(image, expected_image, atol=3)
        else:
            np.testing.assert_array_equal(image, expected_image)
        assert mask.dtype == np.float32
        np.testing.assert_array_equal(mask, (trimap == PET) | (trimap == BORDER))


def test_border_as_background(pet):
    root, arrays = pet
    data = load_oxford_pet(root, "test", border="background")
    assert data.ids == ("Bengal_3", "pug_7") and data.labels.tolist() == [5, 25]
    for name, mask in zip(data.ids, data.masks):
        np.testing.assert_array_equal(mask, arrays[name][1] == PET)


def test_resizing_stacks_images_and_resizes_masks_by_nearest(pet):
    root, arrays = pet
    data = load_oxford_pet(root, image_size=(4, 4))
    assert data.images.shape == (3, 4, 4, 3) and data.images.dtype == np.uint8
    assert data.masks.shape == (3, 4, 4) and data.masks.dtype == np.float32
    # A solid colour stays that colour under bilinear resizing.
    np.testing.assert_allclose(
        data.images[2], np.broadcast_to((200, 30, 90), (4, 4, 3)), atol=3
    )
    # Nearest neighbour halving keeps the odd rows and columns.
    trimap = arrays["Abyssinian_100"][1]
    expected = ((trimap == PET) | (trimap == BORDER))[1::2, 1::2]
    np.testing.assert_array_equal(data.masks[0], expected)
    upsampled = load_oxford_pet(root, image_size=16, max_images=1)
    np.testing.assert_array_equal(
        upsampled.masks[0],
        np.kron((trimap == PET) | (trimap == BORDER), np.ones((2, 2))),
    )
    assert set(np.unique(data.masks)) <= {0.0, 1.0}


def test_max_images_and_progress_bar(pet):
    root, _ = pet
    data = load_oxford_pet(root, max_images=2, verbose=True)
    assert data.ids == ("Abyssinian_100", "american_bulldog_10")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "train"}, r"`split` must be one of \('trainval', 'test'\)"),
        ({"border": "ignore"}, "`border` must be one of"),
        ({"image_size": (0, 4)}, "`image_size` must be None"),
        ({"image_size": (4, 4, 3)}, "`image_size` must be None"),
        ({"max_images": 0}, "`max_images`"),
        ({"max_images": 1.5}, "`max_images`"),
    ],
)
def test_bad_arguments(pet, kwargs, message):
    root, _ = pet
    with pytest.raises(ValueError, match=message):
        load_oxford_pet(root, **kwargs)


def test_missing_files(tmp_path, pet):
    root, _ = pet
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_oxford_pet(tmp_path / "elsewhere")
    (root / "annotations" / "trimaps" / "american_bulldog_10.png").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"trimap not found: .*american_bulldog_10\.png"
    ):
        load_oxford_pet(root)
    (root / "images" / "Bengal_3.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"image not found: .*Bengal_3\.jpg"):
        load_oxford_pet(root, "test")
    (root / "annotations" / "test.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"test\.txt"):
        load_oxford_pet(root, "test")


@pytest.mark.parametrize(
    "line, message",
    [
        ("Abyssinian_100 1 1", r"line 2: expected 4 whitespace-separated fields"),
        ("Abyssinian_100 38 1 1", r"line 2: the class id must be in \[1, 37\]"),
        ("Abyssinian_100 x 1 1", r"line 2: the class id must be an integer"),
        ("Abyssinian_100 1 3 1", r"line 2: the species"),
        (
            "Abyssinian_100 2 2 1",
            "line 2: .* has class id 2 .american_bulldog. but its name says",
        ),
    ],
)
def test_malformed_split_lines(pet, line, message):
    root, _ = pet
    write_lines(root / "annotations" / "trainval.txt", ["# header", line])
    with pytest.raises(ValueError, match=rf"trainval\.txt, {message}"):
        load_oxford_pet(root)


def test_corrupt_files(pet):
    root, arrays = pet
    bad_trimap = arrays["Abyssinian_100"][1].copy()
    bad_trimap[0, 0] = 4
    save_image(root / "annotations" / "trimaps" / "Abyssinian_100.png", bad_trimap)
    with pytest.raises(
        ValueError, match=r"Abyssinian_100\.png must hold only 1 .*\[4\]"
    ):
        load_oxford_pet(root)
    save_image(
        root / "annotations" / "trimaps" / "Abyssinian_100.png",
        bad_trimap[:, :6] % 3 + 1,
    )
    with pytest.raises(
        ValueError, match=r"Abyssinian_100\.png is 8x6 but its image .* is 8x8"
    ):
        load_oxford_pet(root)
    rgb_trimap = np.stack([arrays["Abyssinian_100"][1]] * 3, axis=-1)
    save_image(root / "annotations" / "trimaps" / "Abyssinian_100.png", rgb_trimap)
    with pytest.raises(ValueError, match="mode 'RGB'"):
        load_oxford_pet(root)
    (root / "images" / "Bengal_3.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(ValueError, match=r"Bengal_3\.jpg cannot be decoded"):
        load_oxford_pet(root, "test")
