import keras
import numpy as np
import pytest
import shap

from keras_xai.explainers.base import image_rngs
from keras_xai.explainers.partition_shap import PartitionSHAP, box_blur
from tests.explainers.perturbation_models import linear_model, numpy_init

SIDE = 12


@pytest.fixture(scope="module", autouse=True)
def _compiled_shap():
    # shap JIT-compiles its partition-tree code with numba on first use
    # (several seconds, once per process); pay it here, not in a test.
    shap.PartitionExplainer(
        lambda x: x.reshape(len(x), -1).sum(1),
        shap.maskers.Image(np.zeros((2, 2, 1)), (2, 2, 1)),
    )(np.ones((1, 2, 2, 1)), max_evals=10, silent=True)


def _region_model():
    """All logits are a nonlinear function of the 3x3 top-left block.

    The block is one node of shap's partition tree for 12x12 images
    (12 -> 6 -> 3 along each axis).
    """
    inputs = keras.Input((SIDE, SIDE, 1))
    block = keras.layers.Cropping2D(((0, SIDE - 3), (0, SIDE - 3)))(inputs)
    hidden = keras.layers.Dense(
        8, activation="tanh", kernel_initializer=numpy_init(0, scale=1.0)
    )(keras.layers.Flatten()(block))
    logits = keras.layers.Dense(3, kernel_initializer=numpy_init(1))(hidden)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def _images(count, seed=0):
    return np.random.default_rng(seed).random((count, SIDE, SIDE, 1)).astype("float32")


@pytest.mark.multi_backend
def test_linear_model_gets_exact_shapley_values():
    # On 4x4x2 images (32 features) 800 evaluations expand shap's whole
    # tree, which gives exact Shapley values; for a linear logit they are
    # w_i * (x_i - background_i).
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(32, 3)).astype("float32")
    model = linear_model(kernel, rng.normal(size=3), (4, 4, 2), softmax=False)
    images = rng.random((2, 4, 4, 2)).astype("float32")
    targets = np.array([2, 0])
    explainer = PartitionSHAP(
        model, max_evals=800, masker="blur(3,2)", output="logits", batch_size=64
    )
    explanation = explainer.shap_values(images, targets=targets)
    for i, target in enumerate(targets):
        background = box_blur(images[i], (3, 2))
        expected = kernel[:, target].reshape(4, 4, 2) * (images[i] - background)
        np.testing.assert_allclose(explanation.values[i], expected, atol=1e-5)
    maps = explainer(images, targets=targets)
    np.testing.assert_allclose(maps, explanation.values.sum(-1), atol=1e-6)


@pytest.mark.multi_backend
def test_values_sum_to_score_minus_fully_masked_score():
    model = _region_model()
    images = _images(3, seed=2)
    targets = np.array([0, 1, 0])
    explainer = PartitionSHAP(model, max_evals=120, batch_size=32)
    explanation = explainer.shap_values(images, targets=targets)
    assert explanation.values.shape == (3, SIDE, SIDE, 1)
    probabilities = model.predict(images, verbose=0)
    backgrounds = np.stack([box_blur(x, (SIDE // 2, SIDE // 2)) for x in images])
    masked = model.predict(backgrounds, verbose=0)
    rows = np.arange(3)
    np.testing.assert_allclose(
        explanation.base_values, masked[rows, targets], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        explanation.values.sum(axis=(1, 2, 3)),
        probabilities[rows, targets] - explanation.base_values,
        rtol=1e-4,
        atol=1e-6,
    )


def test_requested_target_changes_the_map():
    model = _region_model()
    images = _images(2, seed=3)
    explainer = PartitionSHAP(model, max_evals=100, output="logits")
    first = explainer(images, targets=[0, 0])
    second = explainer(images, targets=[1, 0])
    assert not np.allclose(first[0], second[0], atol=1e-4)
    np.testing.assert_allclose(first[1], second[1])
    # Each image explains its own target, whatever the rest of the batch.
    alone = explainer(images[:1], targets=[1])
    np.testing.assert_allclose(alone[0], second[0], rtol=1e-5, atol=1e-7)


def test_attribution_stays_in_the_region_the_model_reads():
    model = _region_model()
    explainer = PartitionSHAP(model, max_evals=200, masker=0.0, output="logits")
    maps = explainer(_images(2, seed=4), targets=[0, 0])
    inside = np.abs(maps[:, :3, :3]).sum(axis=(1, 2))
    outside = np.abs(maps).sum(axis=(1, 2)) - inside
    assert np.all(inside > 1e-3)
    assert np.all(outside <= 1e-4 * inside)


def test_same_values_as_plain_shap_with_the_same_seed():
    # Our batching and the faster mask rows change nothing in shap's result.
    model = _region_model()
    image = _images(1, seed=5)
    explainer = PartitionSHAP(model, max_evals=60, batch_size=16, seed=3)
    ours = explainer.shap_values(image, targets=[0]).values
    background = box_blur(image[0], (SIDE // 2, SIDE // 2))
    masker = shap.maskers.Image(background, image.shape[1:])
    plain = shap.PartitionExplainer(
        lambda x: explainer.scores(x, np.zeros(len(x), "int32")), masker
    )
    seed = int(image_rngs(image, 3)[0].integers(2**32))  # what ours uses
    np.random.seed(seed)  # noqa: NPY002 (shap breaks ties with it)
    reference = plain(image, max_evals=60, batch_size=16, silent=True).values
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-9)


def test_reproducible_and_leaves_global_random_state_alone():
    model = _region_model()
    images = _images(2, seed=6)
    explainer = PartitionSHAP(model, max_evals=80, masker=0.5)
    # shap draws from numpy's legacy global generator; ours must restore it.
    before = np.random.get_state()  # noqa: NPY002
    first = explainer(images, targets=[0, 2])
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2:] == before[2:]
    np.testing.assert_array_equal(first, explainer(images, targets=[0, 2]))


def test_box_blur_is_opencvs_blur():
    image = _images(1, seed=7)[0]

    def reference(x, kernel_x, kernel_y):
        # cv2.blur: window anchored at k // 2, BORDER_REFLECT_101 borders
        # (numpy's "reflect").
        pad = (
            (kernel_y // 2, kernel_y - 1 - kernel_y // 2),
            (kernel_x // 2, kernel_x - 1 - kernel_x // 2),
            (0, 0),
        )
        padded = np.pad(x, pad, mode="reflect")
        out = np.zeros_like(x)
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                out[i, j] = padded[i : i + kernel_y, j : j + kernel_x].mean((0, 1))
        return out

    for kernel in ((3, 3), (4, 4), (2, 5)):
        np.testing.assert_allclose(
            box_blur(image, kernel), reference(image, *kernel), atol=1e-6
        )
    cv2 = pytest.importorskip("cv2")
    np.testing.assert_allclose(
        box_blur(image, (4, 6)), cv2.blur(image, (4, 6))[..., None], atol=1e-6
    )


def test_partition_shap_bad_arguments():
    model = _region_model()
    for masker in ("blur(0,3)", "blur(a,b)", "gaussian", "inpaint_telea"):
        with pytest.raises(ValueError, match="`masker`"):
            PartitionSHAP(model, masker=masker)
    with pytest.raises(ValueError, match="`masker` must broadcast"):
        PartitionSHAP(model, masker=np.zeros((5, 5, 1)))
    with pytest.raises(ValueError, match="`max_evals` must be >= 4"):
        PartitionSHAP(model, max_evals=3)
    with pytest.raises(ValueError, match="`max_evals` must be an integer"):
        PartitionSHAP(model, max_evals=100.0)
    with pytest.raises(ValueError, match="`output` must be one of"):
        PartitionSHAP(model, output="softmax")
    with pytest.raises(ValueError, match="`seed` must be an integer"):
        PartitionSHAP(model, seed="0")
    explainer = PartitionSHAP(model, max_evals=20)
    with pytest.raises(ValueError, match="`targets` must be class indices"):
        explainer.shap_values(_images(1), targets=[3])
    with pytest.raises(ValueError, match="`images` must be a batch"):
        explainer.shap_values(_images(1)[0])


def test_progress_bar_only_when_verbose(capsys):
    model = _region_model()
    PartitionSHAP(model, max_evals=20)(_images(2), targets=[0, 1])
    assert capsys.readouterr().err == ""
    PartitionSHAP(model, max_evals=20, verbose=True)(_images(2), targets=[0, 1])
    assert "PartitionSHAP" in capsys.readouterr().err
