import itertools

import numpy as np
import pytest
from matplotlib.image import imread

from keras_xai.visualization.labelled_arrows import draw_labelled_arrows


def _garment(side=28):
    image = np.zeros((side, side, 1), "float32")
    image[6:22, 8:20] = 0.8
    return image, image[..., 0] > 0.5


def _draw(tmp_path, points, labels, **kwargs):
    image = kwargs.pop("image", _garment()[0])
    path = str(tmp_path / "arrows.png")
    returned, figure = draw_labelled_arrows(
        image, points, labels, path, return_figure=True, **kwargs
    )
    assert returned == path
    return figure


def _tips(figure):
    """Display coordinates of every arrow's vertex nearest its point."""
    axes = figure.axes[0]
    tips = []
    for annotation in axes.texts:
        patch = annotation.arrow_patch
        vertices = patch.get_transform().transform(patch.get_path().vertices)
        target = axes.transData.transform(annotation.xy)
        nearest = vertices[np.argmin(np.linalg.norm(vertices - target, axis=1))]
        tips.append(nearest)
    return np.array(tips)


def _boxes(figure):
    renderer = figure.canvas.get_renderer()
    return [
        annotation.get_bbox_patch().get_window_extent(renderer)
        for annotation in figure.axes[0].texts
    ]


POINTS = [(10, 12), (11, 13), (12, 9), (20, 18), (5, 25), (0, 0), (27, 27)]
LABELS = ["sleeve", "collar with a long name", "a", "heel", "strap", "c1", "c2"]


class TestDrawLabelledArrows:
    def test_arrow_heads_land_on_the_points(self, tmp_path):
        figure = _draw(tmp_path, POINTS, LABELS)
        axes = figure.axes[0]
        assert [a.get_text() for a in axes.texts] == LABELS
        # Independent of the annotations: where (row, col) is drawn.
        expected = axes.transData.transform(np.array(POINTS, float)[:, ::-1])
        np.testing.assert_allclose(_tips(figure), expected, atol=1.0)
        # The image spans pixel centres 0..W-1 at x and 0..H-1 at y.
        extent = axes.images[0].get_extent()
        np.testing.assert_allclose(extent, [-0.5, 27.5, 27.5, -0.5])

    def test_the_png_is_red_at_each_point(self, tmp_path):
        figure = _draw(tmp_path, POINTS, LABELS)
        pixels = imread(str(tmp_path / "arrows.png"))[..., :3]
        height = pixels.shape[0]
        display = figure.axes[0].transData.transform(np.array(POINTS, float)[:, ::-1])
        for x, y in display:
            row, col = int(height - y), int(x)
            patch = pixels[max(row - 2, 0) : row + 3, max(col - 2, 0) : col + 3]
            red = (patch[..., 0] > 0.6) & (patch[..., 1] < 0.4) & (patch[..., 2] < 0.4)
            assert red.any(), (x, y)

    def test_labels_do_not_overlap_and_stay_outside_the_image(self, tmp_path):
        # Many labels on nearby points: stacking must separate them.
        points = [(14 + (k % 3), 5 + (k % 2) * 17) for k in range(16)]
        labels = [f"attribute number {k}" for k in range(16)]
        figure = _draw(tmp_path, points, labels)
        boxes = _boxes(figure)
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), (a, b)
        renderer = figure.canvas.get_renderer()
        image_box = figure.axes[0].images[0].get_window_extent(renderer)
        figure_box = figure.bbox
        for box in boxes:
            assert not box.overlaps(image_box)
            assert box.x0 >= figure_box.x0 - 0.5 and box.x1 <= figure_box.x1 + 0.5
            assert box.y0 >= figure_box.y0 - 0.5 and box.y1 <= figure_box.y1 + 0.5
        np.testing.assert_allclose(
            _tips(figure),
            figure.axes[0].transData.transform(np.array(points, float)[:, ::-1]),
            atol=1.0,
        )

    def test_labels_on_one_side_follow_the_rows_of_their_points(self, tmp_path):
        points = [(20, 3), (2, 4), (11, 2)]
        figure = _draw(tmp_path, points, ["low", "high", "middle"])
        centres = [box.y0 + box.height / 2 for box in _boxes(figure)]
        # Display y grows upwards: the highest point gets the highest label.
        assert centres[1] > centres[2] > centres[0]
        image_box = (
            figure.axes[0].images[0].get_window_extent(figure.canvas.get_renderer())
        )
        assert all(box.x1 <= image_box.x0 for box in _boxes(figure))

    def test_mask_sends_the_arrow_around_the_object(self, tmp_path):
        image = np.zeros((28, 28, 1), "float32")
        image[4:24, 14:] = 0.8  # an object filling the right half
        mask = image[..., 0] > 0.5
        point = [(10, 16)]  # right of the centre, inside the object
        for use_mask, on_left in ((False, False), (True, True)):
            figure = _draw(
                tmp_path, point, ["x"], image=image, mask=mask if use_mask else None
            )
            image_box = (
                figure.axes[0].images[0].get_window_extent(figure.canvas.get_renderer())
            )
            (box,) = _boxes(figure)
            if on_left:  # 2 object pixels to the left versus 11 to the right
                assert box.x1 <= image_box.x0
            else:  # nearer side without a mask
                assert box.x0 >= image_box.x1

    def test_normalized_points_match_center_of_mass_convention(self, tmp_path):
        from keras_xai.metrics import center_of_mass

        cam = np.zeros((1, 28, 28))
        cam[0, 9, 20] = 1.0
        normalised = center_of_mass(cam)
        figure = _draw(tmp_path, normalised, ["peak"], normalized=True)
        np.testing.assert_allclose(figure.axes[0].texts[0].xy, (20.0, 9.0))

    def test_writes_a_png(self, tmp_path):
        path = tmp_path / "nested" / "arrows.png"
        returned = draw_labelled_arrows(_garment()[0], POINTS, LABELS, path)
        assert returned == path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_no_labels_draws_the_image(self, tmp_path):
        figure = _draw(tmp_path, np.zeros((0, 2)), [])
        assert len(figure.axes[0].texts) == 0

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"points": [(1, 2)]}, "`points` must be"),
            ({"points": [(1, 2, 3)] * 7}, "`points` must be"),
            ({"points": [(40, 2)] * 7}, "inside the image"),
            ({"points": [(np.nan, 2)] * 7}, "finite"),
            ({"labels": ["a"] * 6 + [3]}, "`labels`"),
            ({"normalized": True}, "in \\[0, 1\\]"),
            ({"mask": np.ones((5, 5))}, "`mask`"),
            ({"mask": np.full((28, 28), 0.5)}, "binary"),
            ({"image": np.ones((28, 28, 1)) * 2}, "`image`"),
            ({"path": "arrows.jpg"}, "PNG"),
            ({"fontsize": 0}, "`fontsize`"),
        ],
    )
    def test_bad_input(self, tmp_path, kwargs, message):
        arguments = {
            "image": _garment()[0],
            "points": POINTS,
            "labels": LABELS,
            "path": str(tmp_path / "a.png"),
            **kwargs,
        }
        with pytest.raises(ValueError, match=message):
            draw_labelled_arrows(**arguments)
