import keras
import numpy as np
import pytest
from keras import ops

from keras_xai.layers.dihedral_views import (
    DIHEDRAL_VIEWS,
    DihedralViews,
    dihedral_transform,
    dihedral_views,
    inverse_dihedral_transform,
    inverse_dihedral_views,
    resolve_views,
)
from keras_xai.testing import TestCase

# Independent definitions with numpy on one (H, W) image.
NUMPY_VIEWS = {
    "identity": lambda m: m,
    "flip_lr": lambda m: m[:, ::-1],
    "flip_ud": lambda m: m[::-1, :],
    "rot180": lambda m: np.rot90(m, 2),
    "rot90": lambda m: np.rot90(m, 1),
    "rot270": lambda m: np.rot90(m, 3),
    "transpose": lambda m: m.T,
    "anti_transpose": lambda m: m[::-1, ::-1].T,
}


def _images(batch=3, side=5, channels=2, seed=0):
    return (
        np.random.default_rng(seed)
        .random((batch, side, side, channels))
        .astype("float32")
    )


@pytest.mark.parametrize("view", DIHEDRAL_VIEWS)
def test_transform_matches_numpy(view):
    x = _images()
    got = ops.convert_to_numpy(dihedral_transform(x, view))
    expected = np.stack(
        [
            np.stack([NUMPY_VIEWS[view](x[b, ..., c]) for c in range(x.shape[-1])], -1)
            for b in range(len(x))
        ]
    )
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("view", DIHEDRAL_VIEWS)
def test_view_then_inverse_is_exact(view):
    maps = np.random.default_rng(1).normal(size=(4, 6, 6)).astype("float32")
    there = dihedral_transform(maps, view)
    back = ops.convert_to_numpy(inverse_dihedral_transform(there, view))
    np.testing.assert_array_equal(back, maps)


def test_the_eight_views_are_distinct_and_form_the_group():
    image = np.arange(16, dtype="float32").reshape(1, 4, 4)
    views = {
        name: ops.convert_to_numpy(dihedral_transform(image, name)).tobytes()
        for name in DIHEDRAL_VIEWS
    }
    assert len(set(views.values())) == 8
    # Closed under composition: every composition is one of the eight.
    for first in DIHEDRAL_VIEWS:
        for second in DIHEDRAL_VIEWS:
            composed = dihedral_transform(dihedral_transform(image, first), second)
            assert ops.convert_to_numpy(composed).tobytes() in views.values()


def test_stack_and_inverse_round_trip_all_views():
    images = _images(batch=3, side=6, channels=1)
    batch = dihedral_views(images, 8)
    assert tuple(batch.shape) == (24, 6, 6, 1)
    batch = ops.convert_to_numpy(batch)
    for index, name in enumerate(DIHEDRAL_VIEWS):
        np.testing.assert_array_equal(
            batch[3 * index : 3 * (index + 1), ..., 0],
            np.stack([NUMPY_VIEWS[name](im[..., 0]) for im in images]),
        )
    # A per-view "CAM" equal to the view's pixels maps back onto the image.
    restored = ops.convert_to_numpy(inverse_dihedral_views(batch[..., 0], 8))
    assert restored.shape == (8, 3, 6, 6)
    for view in range(8):
        np.testing.assert_array_equal(restored[view], images[..., 0])


def test_inverse_at_a_lower_resolution():
    # CAMs at the feature map's size: an exact random map per view.
    maps = np.random.default_rng(2).random((2, 3, 3)).astype("float32")
    per_view = ops.convert_to_numpy(dihedral_views(maps, 8))
    np.testing.assert_array_equal(
        ops.convert_to_numpy(inverse_dihedral_views(per_view, 8)),
        np.broadcast_to(maps, (8, 2, 3, 3)),
    )


def test_resolve_views():
    assert resolve_views(1) == ("identity",)
    assert resolve_views(2) == ("identity", "flip_lr")
    assert resolve_views(4) == ("identity", "flip_lr", "flip_ud", "rot180")
    assert resolve_views(8) == DIHEDRAL_VIEWS
    assert resolve_views(np.int64(2)) == ("identity", "flip_lr")
    assert resolve_views(["rot90", "identity"]) == ("rot90", "identity")
    assert resolve_views("transpose") == ("transpose",)
    for bad in (0, 9, -1, True):
        with pytest.raises(ValueError, match="`views` must be"):
            resolve_views(bad)
    for bad in ((), ("rot45",), ("identity", "identity"), 2.5):
        with pytest.raises(ValueError, match="`views` must be"):
            resolve_views(bad)


def test_non_square_images():
    x = np.zeros((2, 4, 6, 1), "float32")
    assert tuple(dihedral_views(x, 4).shape) == (8, 4, 6, 1)
    with pytest.raises(ValueError, match="must be square"):
        dihedral_views(x, 5)
    with pytest.raises(ValueError, match="must be square"):
        inverse_dihedral_views(np.zeros((2, 4, 6), "float32"), ("transpose",))


def test_works_on_a_symbolic_batch():
    inputs = keras.Input((5, 5, 1))
    outputs = DihedralViews(views=8)(inputs)
    assert tuple(outputs.shape) == (None, 5, 5, 1)


class TestDihedralViewsLayer(TestCase):
    @pytest.mark.multi_backend
    def test_layer(self, tmp_path):
        images = _images(batch=2, side=5, channels=1)
        layer = self.run_layer_test(
            DihedralViews,
            {"views": 4},
            images,
            expected_output_shape=(8, 5, 5, 1),
            tmp_path=tmp_path,
        )
        back = layer.inverse(layer(images)[..., 0])
        np.testing.assert_array_equal(
            ops.convert_to_numpy(back), np.broadcast_to(images[..., 0], (4, 2, 5, 5))
        )

    def test_named_views_config(self):
        layer = DihedralViews(views=["rot90", "flip_ud"])
        assert layer.get_config()["views"] == ("rot90", "flip_ud")
        self.run_serialization_test(layer)
        with pytest.raises(ValueError, match="between 1 and 8"):
            DihedralViews(views=9)
