import keras
import numpy as np
import pytest

from keras_xai.metrics import (
    HIGHER,
    LOWER,
    area_downsample,
    center_of_mass,
    center_of_mass_distance,
    iou,
    mean_iou,
    overlap_pixels,
    pearson_correlation,
    pointing_game,
)


def _box(top, left, height, width, size=(10, 10)):
    mask = np.zeros(size, bool)
    mask[top : top + height, left : left + width] = True
    return mask


# IoU -------------------------------------------------------------------------


def test_iou_of_identical_and_disjoint_regions():
    mask = _box(2, 2, 4, 4)
    maps = np.stack([mask * 5.0, (~mask) * 1.0])
    masks = np.stack([mask, mask])
    np.testing.assert_allclose(iou(maps, masks), [1.0, 0.0])


def test_iou_thresholds_the_min_max_normalised_map():
    # Normalised values 0, 0.2, 0.5, 1 on four pixels: >= 0.3 keeps two.
    raw = np.array([[[10.0, 12.0, 15.0, 20.0]]])  # (1, 1, 4)
    mask = np.array([[[False, True, True, False]]])
    # region {2, 3}, mask {1, 2}: 1 / 3
    np.testing.assert_allclose(iou(raw, mask), [1 / 3])
    np.testing.assert_allclose(iou(raw, mask, threshold=0.15), [2 / 3])
    # Invariant to shifting and scaling the map.
    np.testing.assert_allclose(iou(3 * raw - 7, mask), [1 / 3])


def test_iou_empty_cases():
    empty = np.zeros((1, 4, 4), bool)
    constant = np.full((1, 4, 4), 2.0)
    assert iou(constant, empty)[0] == 1.0  # no region, no mask: agreement
    assert iou(constant, ~empty)[0] == 0.0  # no region, full mask
    peaked = np.zeros((1, 4, 4))
    peaked[0, 1, 1] = 1
    assert iou(peaked, empty)[0] == 0.0


def test_iou_accepts_backend_tensors_and_0_1_masks():
    mask = _box(2, 2, 4, 4)
    maps = keras.ops.convert_to_tensor(mask[None] * 1.0)
    masks = keras.ops.convert_to_tensor(mask[None].astype("float32"))
    np.testing.assert_allclose(iou(maps, masks), [1.0])


# mIoU ------------------------------------------------------------------------


def _miou_case():
    # Two 1x4 "images"; CAM >= 0.5 after min-max normalisation is foreground.
    cams = np.array([[[1.0, 0.8, 0.0, 0.0]], [[1.0, 0.0, 0.0, 0.0]]])
    masks = np.array([[[1, 0, 0, 0]], [[1, 1, 0, 0]]], bool)
    return cams, masks


def test_mean_iou_pools_intersections_over_the_dataset():
    cams, masks = _miou_case()
    # Foreground: I = 1 + 1, U = 2 + 2. Background: I = 2 + 2, U = 3 + 3.
    assert mean_iou(cams, masks) == pytest.approx((2 / 4 + 4 / 6) / 2)


def test_mean_iou_with_labels_averages_over_classes():
    cams, masks = _miou_case()
    # Class 0: 1/2, class 1: 1/2, background 4/6.
    value = mean_iou(cams, masks, labels=[0, 1])
    assert value == pytest.approx((4 / 6 + 1 / 2 + 1 / 2) / 3)


def test_mean_iou_differs_from_the_mean_of_per_image_ious():
    # A big object found well and a small one missed: pooled counts weigh
    # pixels, not images.
    cams = np.zeros((2, 4, 4))
    masks = np.zeros((2, 4, 4), bool)
    masks[0, :, :3] = True
    cams[0, :, :3] = 1.0  # exact: 12 / 12
    masks[1, 0, 0] = True
    cams[1, 3, 3] = 1.0  # miss: 0 / 2
    foreground = 12 / 14
    background = (4 + 14) / (4 + 16)
    assert mean_iou(cams, masks) == pytest.approx((foreground + background) / 2)
    assert mean_iou(cams, masks) != pytest.approx(
        (iou(cams, masks, 0.5).mean() + background) / 2
    )


def test_mean_iou_without_normalisation_thresholds_raw_values():
    cams, masks = _miou_case()
    # Raw 0.8 >= 0.5 as before.
    raw = mean_iou(cams, masks, normalize=False)
    assert raw == pytest.approx(mean_iou(cams, masks))
    # Halved: only the 0.5 pixels remain. Foreground 2/3, background 5/6.
    halved = mean_iou(cams * 0.5, masks, normalize=False)
    assert halved == pytest.approx((2 / 3 + 5 / 6) / 2)
    # Below the threshold everywhere: foreground 0/3, background 5/8.
    low = mean_iou(cams * 0.4, masks, normalize=False)
    assert low == pytest.approx((0 / 3 + 5 / 8) / 2)


def test_perfect_cams_score_one():
    masks = np.stack([_box(1, 1, 3, 3), _box(5, 4, 4, 2)])
    assert mean_iou(masks * 2.0, masks) == pytest.approx(1.0)


# Pearson ---------------------------------------------------------------------


def test_pearson_of_a_map_with_itself_and_its_negation():
    maps = np.random.default_rng(0).random((3, 28, 28))
    np.testing.assert_allclose(pearson_correlation(maps, maps), [1, 1, 1])
    np.testing.assert_allclose(pearson_correlation(maps, -maps), [-1, -1, -1])
    np.testing.assert_allclose(pearson_correlation(2 * maps + 3, maps), [1, 1, 1])


def test_pearson_of_a_constant_map_is_zero():
    masks = np.stack([_box(2, 2, 4, 4, (28, 28))]).astype(float)
    assert pearson_correlation(np.full((1, 28, 28), 0.3), masks)[0] == 0.0


def test_pearson_uses_the_downsampled_grid():
    # A checkerboard averages to a constant at 14x14: no correlation left,
    # although it matches the mask pixel for pixel at full size.
    checker = (np.indices((28, 28)).sum(axis=0) % 2)[None].astype(float)
    assert pearson_correlation(checker, checker, size=28)[0] == pytest.approx(1.0)
    assert pearson_correlation(checker, checker)[0] == 0.0


def test_area_downsample_is_block_averaging_and_keeps_the_mean():
    maps = np.random.default_rng(1).random((2, 28, 28))
    blocks = maps.reshape(2, 14, 2, 14, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(area_downsample(maps, 14), blocks)
    odd = np.random.default_rng(2).random((2, 32, 32))
    np.testing.assert_allclose(
        area_downsample(odd, 14).mean(axis=(1, 2)), odd.mean(axis=(1, 2))
    )


# Centre of mass ----------------------------------------------------------------


def test_center_of_mass_of_a_single_bright_pixel_is_its_centre():
    maps = np.zeros((2, 10, 20))
    maps[0, 3, 7] = 5.0
    maps[1, 0, 19] = 1.0
    expected = [[3.5 / 10, 7.5 / 20], [0.5 / 10, 19.5 / 20]]
    np.testing.assert_allclose(center_of_mass(maps), expected)


def test_center_of_mass_weights_positive_relevance_only():
    maps = np.zeros((1, 10, 10))
    maps[0, 2, 2] = 1.0
    maps[0, 2, 6] = 3.0
    maps[0, 9, 9] = -100.0  # ignored
    np.testing.assert_allclose(center_of_mass(maps), [[0.25, 0.55]])


def test_center_of_mass_of_an_empty_map_is_the_image_centre():
    np.testing.assert_allclose(center_of_mass(-np.ones((1, 6, 6))), [[0.5, 0.5]])


def test_center_of_mass_distance():
    maps = np.zeros((2, 10, 10))
    maps[:, 3, 7] = 1.0
    keypoints = np.array([[0.35, 0.75], [0.05, 0.35]])
    np.testing.assert_allclose(center_of_mass_distance(maps, keypoints), [0, 0.5])


@pytest.mark.parametrize(
    "keypoints", [np.zeros((2, 3)), np.zeros((3, 2)), np.full((2, 2), 1.5)]
)
def test_center_of_mass_distance_bad_keypoints_raise(keypoints):
    with pytest.raises(ValueError, match="keypoints"):
        center_of_mass_distance(np.ones((2, 4, 4)), keypoints)


# Pointing game ---------------------------------------------------------------


def test_pointing_game_hits_and_misses():
    mask = _box(2, 2, 3, 3)
    maps = np.zeros((2, 10, 10))
    maps[0, 3, 3] = 1.0  # inside
    maps[1, 8, 8] = 1.0  # outside
    np.testing.assert_array_equal(pointing_game(maps, np.stack([mask, mask])), [1, 0])


def test_pointing_game_tolerance_in_pixels():
    mask = _box(2, 2, 3, 3)  # rows/cols 2..4
    maps = np.zeros((1, 10, 10))
    maps[0, 3, 7] = 1.0  # 3 columns right of the mask's edge (col 4)
    assert pointing_game(maps, mask[None], tolerance=2)[0] == 0.0
    assert pointing_game(maps, mask[None], tolerance=3)[0] == 1.0


def test_pointing_game_constant_map_and_empty_mask_miss():
    mask = _box(0, 0, 10, 10)
    assert pointing_game(np.ones((1, 10, 10)), mask[None])[0] == 0.0
    maps = np.zeros((1, 10, 10))
    maps[0, 5, 5] = 1
    assert pointing_game(maps, np.zeros((1, 10, 10)), tolerance=50)[0] == 0.0


# Shared validation and directions ------------------------------------------


@pytest.mark.parametrize("metric", [iou, mean_iou, pointing_game, pearson_correlation])
def test_maps_and_masks_of_different_sizes_raise(metric):
    with pytest.raises(ValueError, match="masks.*same shape"):
        metric(np.ones((2, 8, 8)), np.ones((2, 8, 9)))


@pytest.mark.parametrize("metric", [iou, mean_iou, pointing_game, pearson_correlation])
def test_nan_in_a_map_raises(metric):
    maps = np.ones((1, 4, 4))
    maps[0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="maps|cams"):
        metric(maps, np.ones((1, 4, 4)))


@pytest.mark.parametrize("metric", [iou, mean_iou, pointing_game])
def test_non_binary_masks_raise(metric):
    with pytest.raises(ValueError, match="binary"):
        metric(np.ones((1, 4, 4)), np.full((1, 4, 4), 255))


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan"), "0.3"])
def test_bad_threshold_raises(threshold):
    with pytest.raises(ValueError, match="threshold"):
        iou(np.ones((1, 4, 4)), np.ones((1, 4, 4)), threshold=threshold)


def test_single_map_without_batch_axis_raises():
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        iou(np.ones((4, 4)), np.ones((4, 4)))


def test_score_directions():
    for metric in (iou, mean_iou, pearson_correlation, pointing_game):
        assert metric.score_direction == HIGHER
    assert center_of_mass_distance.score_direction == LOWER
    # Two counts with opposite directions: no single direction declared.
    assert not hasattr(overlap_pixels, "score_direction")


def test_overlap_pixels_counts_what_iou_divides():
    maps = np.zeros((2, 4, 4), "float32")
    maps[0, :2, :2] = 1.0  # a 2x2 region
    masks = np.zeros((2, 4, 4), "float32")
    masks[:, :2, :3] = 1.0  # 6 pixels
    inside, covered = overlap_pixels(maps, masks)
    np.testing.assert_array_equal(inside, [4, 0])  # map 1 is constant: no region
    np.testing.assert_array_equal(covered, [6, 6])
    np.testing.assert_allclose(iou(maps, masks), inside / covered)
    with pytest.raises(ValueError, match="threshold"):
        overlap_pixels(maps, masks, threshold=2.0)
