import pathlib

import matplotlib
import numpy as np
import pytest
from matplotlib.image import imread

from keras_xai.visualization import explanation_figure, overlay, save_image_grid
from keras_xai.visualization import image_grid as image_grid_module

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Small figures keep each test fast: 20x20-pixel cells.
SMALL = {"cell_size": 1.0, "dpi": 20}


def _image(channels=3, size=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (size, size, channels)).astype("float32")


def _read_png(path):
    assert pathlib.Path(path).read_bytes()[:8] == PNG_SIGNATURE
    return imread(path)


def _centre(png):
    return png[png.shape[0] // 2, png.shape[1] // 2, :3]


def test_writes_a_png_sized_by_the_grid(tmp_path):
    rows = [[_image(), _image(1)], [np.ones((6, 6)), _image()]]
    path = save_image_grid(rows, tmp_path / "grid.png", **SMALL)
    assert path == tmp_path / "grid.png"
    assert _read_png(path).shape == (2 * 20, 2 * 20, 4)


def test_more_columns_make_a_wider_png_of_the_same_height(tmp_path):
    narrow = save_image_grid([[_image()] * 2], tmp_path / "narrow.png", **SMALL)
    wide = save_image_grid([[_image()] * 3], tmp_path / "wide.png", **SMALL)
    narrow, wide = _read_png(narrow), _read_png(wide)
    assert wide.shape[1] > narrow.shape[1]
    assert wide.shape[0] == narrow.shape[0]


def test_cell_size_and_dpi_set_the_pixel_size(tmp_path):
    path = save_image_grid([[_image()]], tmp_path / "a.png", cell_size=0.5, dpi=60)
    assert _read_png(path).shape[:2] == (30, 30)


def test_creates_missing_parent_directories(tmp_path):
    path = tmp_path / "figures" / "nested" / "grid.png"
    save_image_grid([[_image()]], str(path), **SMALL)
    assert path.is_file()
    _read_png(path)


def test_draws_rgb_gray_and_map_cells_in_their_colours(tmp_path):
    red = np.zeros((6, 6, 3))
    red[..., 0] = 1.0
    gray = np.full((6, 6, 1), 0.5)
    cam = np.ones((6, 6))
    cam[0, 0] = 0.0  # the rest normalises to 1, the top of "jet"
    gradient = -np.ones((6, 6))
    gradient[0, 0] = 0.0  # signed: the rest is -1, the bottom of "bwr"
    expected = {
        "red": (1.0, 0.0, 0.0),
        "gray": (0.5, 0.5, 0.5),
        "cam": matplotlib.colormaps["jet"](1.0)[:3],
        "gradient": matplotlib.colormaps["bwr"](0.0)[:3],
    }
    for name, cell in zip(expected, [red, gray, cam, gradient]):
        png = _read_png(save_image_grid([[cell]], tmp_path / f"{name}.png", **SMALL))
        np.testing.assert_allclose(_centre(png), expected[name], atol=2 / 255)


def test_ragged_rows_leave_blank_cells(tmp_path):
    black = np.zeros((6, 6, 3))
    path = save_image_grid([[black, black], [black]], tmp_path / "r.png", **SMALL)
    png = _read_png(path)
    assert png.shape[:2] == (40, 40)
    np.testing.assert_allclose(png[30, 30, :3], 1.0)  # blank: white background
    np.testing.assert_allclose(png[30, 10, :3], 0.0)


def test_titles_and_row_labels_are_drawn_without_changing_the_size(tmp_path):
    rows = [[np.zeros((6, 6, 3))] * 2] * 2
    plain = _read_png(save_image_grid(rows, tmp_path / "plain.png", dpi=50))
    labelled = _read_png(
        save_image_grid(
            rows,
            tmp_path / "labelled.png",
            titles=["image", "map"],
            row_labels=["first", "second"],
            dpi=50,
        )
    )
    assert labelled.shape == plain.shape
    assert not np.allclose(labelled, plain)


def test_accepts_tuples_and_path_strings(tmp_path):
    path = str(tmp_path / "t.png")
    assert save_image_grid(((_image(),),), path, **SMALL) == path


@pytest.mark.parametrize(
    "rows, match",
    [
        (np.zeros((1, 1, 6, 6, 3)), "`rows` must be a non-empty list of rows"),
        ([], "`rows` must be a non-empty list of rows"),
        ([[_image()], []], r"Received: rows\[1\] of type list \(empty\)"),
        ([_image()], r"Received: rows\[0\] of type ndarray"),
        ([[_image(), np.zeros((6, 6, 2))]], r"`rows\[0\]\[1\]` must be one channels"),
        ([[np.zeros((1, 6, 6, 3))]], r"`rows\[0\]\[0\]` must be an image"),
        ([[np.full((6, 6, 3), 2.0)]], r"`rows\[0\]\[0\]` must have values in"),
        ([[np.full((6, 6), np.nan)]], r"`rows\[0\]\[0\]` must contain only finite"),
    ],
)
def test_bad_rows_raise(tmp_path, rows, match):
    with pytest.raises(ValueError, match=match):
        save_image_grid(rows, tmp_path / "x.png", **SMALL)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"titles": ["a"]}, "`titles` must have 2 entries. Received 1"),
        ({"titles": "ab"}, "`titles` must be a list of strings"),
        ({"row_labels": ["a", "b"]}, "`row_labels` must have 1 entries"),
        ({"cell_size": 0}, "`cell_size` must be a finite number > 0"),
        ({"cell_size": "2"}, "`cell_size` must be a number"),
        ({"dpi": 0}, "`dpi` must be >= 1"),
        ({"dpi": 1.5}, "`dpi` must be an integer"),
    ],
)
def test_bad_options_raise(tmp_path, kwargs, match):
    options = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match=match):
        save_image_grid([[_image(), _image()]], tmp_path / "x.png", **options)


@pytest.mark.parametrize("path", ["grid.jpg", "grid", 3])
def test_bad_path_raises(tmp_path, path):
    target = tmp_path / path if isinstance(path, str) else path
    with pytest.raises(ValueError, match="`path` must"):
        save_image_grid([[_image()]], target, **SMALL)


@pytest.fixture
def captured(monkeypatch):
    """Replaces `save_image_grid` inside `explanation_figure` by a recorder."""
    calls = []

    def record(rows, path, titles=None, row_labels=None, **kwargs):
        calls.append({"rows": rows, "titles": titles, "row_labels": row_labels})
        return path

    monkeypatch.setattr(image_grid_module, "save_image_grid", record)
    return calls


def _batch(num_images=2, channels=3, map_size=3):
    images = np.stack([_image(channels, seed=i) for i in range(num_images)])
    rng = np.random.default_rng(9)
    maps = rng.uniform(0, 1, (num_images, map_size, map_size))
    return images, maps


def test_explanation_figure_writes_one_row_per_image(tmp_path):
    images, maps = _batch(num_images=2)
    path = explanation_figure(images, maps, tmp_path / "out" / "fig.png")
    # Three 2-inch columns at 100 dpi, one row per image.
    assert _read_png(path).shape == (2 * 200, 3 * 200, 4)


def test_explanation_figure_rows_hold_image_map_and_overlay(captured):
    images, maps = _batch(num_images=2)
    explanation_figure(images, maps, "unused.png", cmap="viridis")
    (call,) = captured
    assert call["titles"] == ["image", "attribution", "overlay"]
    assert call["row_labels"] is None
    assert len(call["rows"]) == 2
    for i, (image, colours, blended) in enumerate(call["rows"]):
        np.testing.assert_array_equal(image, images[i])
        np.testing.assert_allclose(
            colours, overlay(np.zeros((3, 3, 3)), maps[i], "viridis", 1.0), atol=1e-6
        )
        np.testing.assert_allclose(
            blended, overlay(images[i], maps[i], cmap="viridis"), atol=1e-6
        )


def test_explanation_figure_labels_rows_with_class_names(captured):
    images, maps = _batch(num_images=2)
    explanation_figure(
        images,
        maps,
        "unused.png",
        labels=[0, 1],
        predictions=[1, 1],
        class_names=["cat", "dog"],
    )
    assert captured[0]["row_labels"] == ["true: cat\npred: dog", "true: dog\npred: dog"]


def test_explanation_figure_shows_indices_without_class_names(captured):
    images, maps = _batch(num_images=2)
    explanation_figure(images, maps, "unused.png", predictions=np.array([7, 3]))
    assert captured[0]["row_labels"] == ["pred: 7", "pred: 3"]


def test_explanation_figure_uses_one_sign_convention_for_the_batch(captured):
    images, maps = _batch(num_images=2)
    maps[1] -= 2.0  # the second map is signed, so the whole batch is
    explanation_figure(images, maps, "unused.png")
    colours = captured[0]["rows"][0][1]
    expected = overlay(np.zeros((3, 3, 3)), maps[0], "bwr", 1.0, signed=True)
    np.testing.assert_allclose(colours, expected, atol=1e-6)


def test_explanation_figure_accepts_grayscale_images(tmp_path):
    images, maps = _batch(num_images=1, channels=1)
    path = explanation_figure(images, maps, tmp_path / "gray.png")
    assert _read_png(path).shape == (200, 600, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"maps": np.zeros((3, 3, 3))}, "`maps` must have one map per image"),
        ({"maps": np.zeros((2, 3))}, r"`maps` must be an attribution map"),
        ({"images": np.zeros((2, 6, 6))}, "`images` must be a batch"),
        ({"images": np.zeros((2, 6, 6, 2))}, r"`images\[0\]` must be one"),
        ({"labels": [0]}, r"`labels` must have one entry per image \(2\)"),
        ({"predictions": [0, 1, 1]}, "`predictions` must have one entry per image"),
        (
            {"labels": [0, 2], "class_names": ["cat", "dog"]},
            r"`labels` must be class indices in \[0, 2\)",
        ),
        ({"predictions": [-1, 0]}, "`predictions` must be class indices"),
        ({"class_names": "cat"}, "`class_names` must be a list of strings"),
        ({"class_names": []}, "`class_names` must not be empty"),
        ({"cmap": "no_such_map"}, "`cmap` must be a matplotlib colormap name"),
    ],
)
def test_explanation_figure_bad_arguments_raise(captured, kwargs, match):
    images, maps = _batch(num_images=2)
    arguments = {"images": images, "maps": maps, "path": "unused.png", **kwargs}
    with pytest.raises(ValueError, match=match):
        explanation_figure(**arguments)
    assert not captured


def test_explanation_figure_names_the_image_out_of_range(captured):
    images, maps = _batch(num_images=2)
    images[1, 0, 0, 0] = 1.5
    with pytest.raises(ValueError, match=r"`images\[1\]` must have values in \[0, 1\]"):
        explanation_figure(images, maps, "unused.png")
