import numpy as np
import pytest

from keras_xai.applications import IMPACTX, ImageClassifier
from keras_xai.applications.impactx import fit_single_stage, fit_two_stage
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers import GradCAM, XGradCAM
from keras_xai.training import load_attribution_targets, scale_maps

SMALL = {"latent_dim": 16, "classifier_units": (16,), "decoder_filters": (4,)}


@pytest.fixture(scope="module")
def digits():
    data = load_default_dataset("digits")
    return data.x_train[:256], data.y_train[:256]


@pytest.mark.large
def test_two_stage_runs_all_stages_and_caches_targets(digits, tmp_path):
    x, y = digits
    result = fit_two_stage(
        "lenet5_fashion_mnist",
        x,
        y,
        cache_dir=str(tmp_path / "cache"),
        stage1_epochs=2,
        stage2_epochs=2,
        impactx_options=SMALL,
        verbose=0,
    )
    assert isinstance(result.model, IMPACTX)
    assert result.model.classifier is result.classifier
    assert len(result.stage1_history.history["loss"]) == 2
    assert len(result.stage2_history.history["explanation_loss"]) == 2
    # Targets: the stage-1 model's GradCAM for the true class, scaled.
    expected = scale_maps(GradCAM(result.classifier)(x, targets=y))
    np.testing.assert_allclose(result.targets, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(
        load_attribution_targets(tmp_path / "cache"), result.targets
    )
    outputs = result.model.predict(x[:4], verbose=0)
    assert outputs["class"].shape == (4, 10)
    assert outputs["explanation"].shape == (4, 28, 28)


@pytest.mark.large
def test_single_stage_refreshes_targets(digits):
    x, y = digits
    classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
    result = fit_single_stage(
        classifier,
        x,
        y,
        explainer=XGradCAM,
        epochs=2,
        refresh_every=1,
        impactx_options=SMALL,
        verbose=0,
    )
    assert result.model.classifier.trainable
    # After the last refresh, the targets are the trained classifier's maps.
    expected = scale_maps(XGradCAM(classifier)(x, targets=y))
    np.testing.assert_allclose(result.targets, expected, rtol=1e-4, atol=1e-5)


def test_trainer_bad_arguments(digits):
    x, y = digits
    with pytest.raises(ValueError, match="Valid names"):
        fit_two_stage("lenet9", x, y)
    with pytest.raises(ValueError, match="`classifier` must be"):
        fit_two_stage(42, x, y)
    with pytest.raises(ValueError, match="`x` must have per-image shape"):
        fit_two_stage("lenet5_cifar10", x, y)
    with pytest.raises(ValueError, match="`y` must be class indices"):
        fit_two_stage("lenet5_fashion_mnist", x, y + 10)
    with pytest.raises(ValueError, match="`stage1_epochs` must be >= 1"):
        fit_two_stage("lenet5_fashion_mnist", x, y, stage1_epochs=0)
