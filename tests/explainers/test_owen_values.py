import keras
import numpy as np
import pytest
import shap

from keras_xai.explainers import partition_shap
from keras_xai.explainers.base import image_rngs
from keras_xai.explainers.owen_values import PartitionTree, owen_values
from keras_xai.explainers.partition_shap import PartitionSHAP, box_blur
from tests.explainers.perturbation_models import numpy_init

SHAPE = (10, 10, 2)


@pytest.fixture(scope="module", autouse=True)
def _compiled_shap():
    # shap JIT-compiles its partition-tree code with numba on first use.
    shap.maskers.Image(np.zeros((2, 2, 1)), (2, 2, 1))


def _tanh_model():
    """A small nonlinear classifier over every pixel and channel."""
    inputs = keras.Input(SHAPE)
    hidden = keras.layers.Dense(
        16, activation="tanh", kernel_initializer=numpy_init(7, scale=0.3)
    )(keras.layers.Flatten()(inputs))
    logits = keras.layers.Dense(4, kernel_initializer=numpy_init(8))(hidden)
    return keras.Model(inputs, keras.layers.Activation("softmax")(logits))


def _plain_shap(explainer, image, target, max_evals, batch_size, seed):
    """shap's own Partition explainer on one image, seeded like ours."""
    masker = shap.maskers.Image(box_blur(image, (SHAPE[1] // 2, SHAPE[0] // 2)), SHAPE)
    plain = shap.PartitionExplainer(
        lambda x: explainer.scores(x, np.full(len(x), target, "int32")), masker
    )
    np.random.seed(seed)  # noqa: NPY002 (shap breaks ties with it)
    return plain(
        image[None], max_evals=max_evals, batch_size=batch_size, silent=True
    ).values[0]


@pytest.mark.multi_backend
@pytest.mark.parametrize(
    ("max_evals", "batch_size"),
    [(70, 16), (301, 15), (450, 256)],
    ids=["budget-ends-mid-queue", "odd-batch", "one-step-per-level"],
)
def test_images_walked_side_by_side_equal_plain_shap_one_by_one(max_evals, batch_size):
    model = _tanh_model()
    images = np.random.default_rng(3).random((4, *SHAPE)).astype("float32")
    targets = np.array([0, 3, 1, 3])
    explainer = PartitionSHAP(
        model, max_evals=max_evals, batch_size=batch_size, seed=11
    )
    ours = explainer.shap_values(images, targets=targets)
    seeds = [int(rng.integers(2**32)) for rng in image_rngs(images, 11)]
    for i in range(len(images)):
        reference = _plain_shap(
            explainer, images[i], targets[i], max_evals, batch_size, seeds[i]
        )
        np.testing.assert_allclose(ours.values[i], reference, rtol=1e-6, atol=1e-9)
    # Additivity holds exactly, whatever the budget.
    full = explainer.scores(images, targets)
    np.testing.assert_allclose(
        ours.values.sum(axis=(1, 2, 3)), full - ours.base_values, atol=1e-5
    )


def test_groups_of_images_give_the_same_values(monkeypatch):
    model = _tanh_model()
    images = np.random.default_rng(4).random((5, *SHAPE)).astype("float32")
    explainer = PartitionSHAP(model, max_evals=120, batch_size=32)
    together = explainer(images, targets=[0, 1, 2, 3, 0])
    # A memory budget for one image at a time: five groups of one.
    monkeypatch.setattr(partition_shap, "_MASK_BYTES", 1)
    alone = explainer(images, targets=[0, 1, 2, 3, 0])
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-8)


def test_partition_tree_leaf_ranges_and_credit():
    # ((0, 1), 2) as a linkage: node 3 = {0, 1}, node 4 = {3, 2} (root).
    tree = PartitionTree(np.array([[0, 1, 1.0, 2], [3, 2, 2.0, 3]]))
    assert tree.features == 3 and tree.root == 4
    assert sorted(tree.leaves(3)) == [0, 1]
    assert sorted(tree.leaves(4)) == [0, 1, 2]
    assert list(tree.leaves(2)) == [2]
    # The root's 3.0 goes 2/3 to node 3 and 1/3 to leaf 2; node 3's share
    # (plus its own 1.0) splits evenly between leaves 0 and 1.
    values = np.array([[0.0, 0.0, 0.5, 1.0, 3.0]])
    np.testing.assert_allclose(tree.lower_credit(values), [[1.5, 1.5, 1.5]])


def test_owen_values_of_an_additive_score_are_exact():
    # f(mask) = w · mask: every Owen value is w_i, whatever the tree walk.
    tree = PartitionTree(np.array([[0, 1, 1.0, 2], [2, 3, 1.0, 2], [4, 5, 2.0, 4]]))
    weights = np.array([[1.0, -2.0, 0.5, 4.0], [0.0, 3.0, -1.0, 2.0]])

    def score(masks, owners):
        return (masks * weights[owners]).sum(axis=1)

    values = owen_values(
        score,
        tree,
        base=np.zeros(2),
        full=weights.sum(axis=1),
        max_evals=100,
        batch_size=4,
        seeds=[0, 1],
    )
    np.testing.assert_allclose(values, weights, atol=1e-12)


@pytest.mark.parametrize(
    "clustering",
    [
        np.zeros(5),
        np.zeros((3, 1)),
        np.array([[0, 1, 1.0, 2], [0, 1, 1.0, 2]]),
        np.array([[0, 9, 1.0, 2], [3, 2, 1.0, 3]]),
        np.array([[0, 4, 1.0, 2], [3, 2, 1.0, 3]]),
    ],
    ids=["1-d", "one-column", "not-a-tree", "unknown-child", "child-after-parent"],
)
def test_partition_tree_rejects_bad_clustering(clustering):
    with pytest.raises(ValueError, match="clustering"):
        PartitionTree(clustering)
