import keras
import numpy as np
import pytest

from keras_xai.explainers.occlusion import Occlusion, patch_starts
from tests.explainers.perturbation_models import linear_model, numpy_init


def _brute_force(kernel, bias, image, target, patch, stride, baseline, output):
    """Occlusion by an explicit loop over patch positions (numpy only)."""
    height, width = image.shape[:2]

    def score(x):
        logits = x.reshape(-1) @ kernel + bias
        if output == "probabilities":
            logits = np.exp(logits - logits.max())
            logits = logits / logits.sum()
        return logits[target]

    total = np.zeros((height, width))
    count = np.zeros((height, width))
    tops = list(range(0, height - patch[0] + 1, stride[0]))
    lefts = list(range(0, width - patch[1] + 1, stride[1]))
    if tops[-1] + patch[0] < height and stride[0] <= patch[0]:
        tops.append(height - patch[0])
    if lefts[-1] + patch[1] < width and stride[1] <= patch[1]:
        lefts.append(width - patch[1])
    for top in tops:
        for left in lefts:
            occluded = image.astype("float64").copy()
            window = (slice(top, top + patch[0]), slice(left, left + patch[1]))
            occluded[window] = np.broadcast_to(baseline, image.shape)[window]
            total[window] += score(image) - score(occluded)
            count[window] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@pytest.mark.multi_backend
@pytest.mark.parametrize(
    "patch, stride, output",
    [
        ((2, 2), (1, 1), "logits"),
        ((3, 2), (2, 2), "probabilities"),
        ((2, 1), (3, 3), "logits"),  # gaps between patches
    ],
)
def test_occlusion_matches_a_brute_force_loop(patch, stride, output):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(64, 3))
    bias = rng.normal(size=3)
    model = linear_model(kernel, bias)
    images = rng.random((3, 8, 8, 1)).astype("float32")
    baseline = rng.random((8, 8, 1)).astype("float32")
    targets = np.array([0, 2, 1])
    explainer = Occlusion(
        model,
        patch_size=patch,
        stride=stride,
        baseline=baseline,
        output=output,
        batch_size=16,
    )
    maps = explainer(images, targets=targets)
    expected = np.stack(
        [
            _brute_force(
                kernel, bias, images[i], targets[i], patch, stride, baseline, output
            )
            for i in range(3)
        ]
    )
    assert maps.shape == (3, 8, 8) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("weight", [2.5, -1.5])
def test_one_pixel_model_lights_up_only_the_patch_containing_it(weight):
    # The target logit reads pixel (5, 2) only.
    kernel = np.zeros((64, 2))
    kernel[5 * 8 + 2, 1] = weight
    model = linear_model(kernel)
    images = np.full((1, 8, 8, 1), 0.8, "float32")
    maps = Occlusion(model, patch_size=4)(images, targets=[1])
    expected = np.zeros((8, 8), "float32")
    expected[4:8, 0:4] = weight * 0.8  # the drop when the pixel goes to 0
    np.testing.assert_allclose(maps[0], expected, atol=1e-6)
    # The other class does not read the pixel: no attribution at all.
    np.testing.assert_allclose(
        Occlusion(model, patch_size=4)(images, targets=[0]), 0.0, atol=1e-7
    )


def test_overlapping_patches_average_the_drops():
    kernel = np.zeros((64, 1))
    kernel[3 * 8 + 3, 0] = 1.0
    model = linear_model(kernel, softmax=False)
    images = np.ones((1, 8, 8, 1), "float32")
    maps = Occlusion(model, patch_size=2, stride=1)(images, targets=[0])[0]
    # Pixel (3, 3) is in all 4 patches covering it; (2, 2) shares 1 of its 4.
    assert maps[3, 3] == pytest.approx(1.0)
    assert maps[2, 2] == pytest.approx(0.25)
    assert maps[2, 3] == pytest.approx(0.5)
    assert maps[0, 0] == 0.0 and maps[5, 5] == 0.0


def test_border_patch_covers_every_pixel():
    np.testing.assert_array_equal(patch_starts(10, 4, 4), [0, 4, 6])
    np.testing.assert_array_equal(patch_starts(8, 4, 4), [0, 4])
    np.testing.assert_array_equal(patch_starts(8, 3, 2), [0, 2, 4, 5])
    # A stride larger than the patch leaves gaps (and zeros), as asked.
    np.testing.assert_array_equal(patch_starts(9, 2, 4), [0, 4])


def test_default_targets_batches_and_chunks_agree():
    inputs = keras.Input((12, 12, 1))
    features = keras.layers.Conv2D(
        4, 3, activation="relu", kernel_initializer=numpy_init(1)
    )(inputs)
    logits = keras.layers.Dense(5, kernel_initializer=numpy_init(2))(
        keras.layers.Flatten()(features)
    )
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    images = np.random.default_rng(1).random((3, 12, 12, 1)).astype("float32")
    predicted = np.argmax(model.predict(images, verbose=0), axis=-1)
    explainer = Occlusion(model, patch_size=3, batch_size=8)
    maps = explainer(images)
    np.testing.assert_allclose(maps, explainer(images, targets=predicted))
    one_by_one = np.concatenate([explainer(images[i : i + 1]) for i in range(3)])
    big_chunks = Occlusion(model, patch_size=3, batch_size=64)(images)
    np.testing.assert_allclose(maps, one_by_one, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(maps, big_chunks, rtol=1e-4, atol=1e-6)
    assert not np.allclose(maps, explainer(images, targets=(predicted + 1) % 5))


def test_occlusion_bad_arguments():
    model = linear_model(np.ones((64, 2)))
    for bad in (0, -1, 2.5, (2, 0), (1, 2, 3), True):
        with pytest.raises(ValueError, match="`patch_size` must be a positive int"):
            Occlusion(model, patch_size=bad)
    with pytest.raises(ValueError, match="`stride` must be a positive int"):
        Occlusion(model, stride=0)
    with pytest.raises(ValueError, match="`patch_size` must fit in the image"):
        Occlusion(model, patch_size=9)
    with pytest.raises(ValueError, match="`baseline` must broadcast"):
        Occlusion(model, baseline=np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="`baseline` must be finite"):
        Occlusion(model, baseline=np.nan)
    with pytest.raises(ValueError, match="`baseline` must be a number"):
        Occlusion(model, baseline="black")
    with pytest.raises(ValueError, match="`output` must be one of"):
        Occlusion(model, output="softmax")
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        Occlusion(model, batch_size=0)
    explainer = Occlusion(model)
    with pytest.raises(ValueError, match="`images` must have per-image shape"):
        explainer(np.zeros((1, 9, 9, 1), "float32"))
    with pytest.raises(ValueError, match="`targets` must be class indices"):
        explainer(np.zeros((1, 8, 8, 1), "float32"), targets=[2])


def test_progress_bar_only_when_verbose(capsys):
    model = linear_model(np.ones((64, 2)))
    images = np.zeros((2, 8, 8, 1), "float32")
    Occlusion(model)(images)
    assert capsys.readouterr().err == ""
    Occlusion(model, verbose=True)(images)
    assert "Occlusion" in capsys.readouterr().err
