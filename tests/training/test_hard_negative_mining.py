import os

import keras
import numpy as np
import pytest

from keras_xai.training.consistency_reweighting import ConsistencyReweighting
from keras_xai.training.hard_negative_mining import (
    HardNegativeMining,
    hard_negative_weights,
    loss_weights,
)
from keras_xai.training.reweighting import REWEIGHTING_METHODS, reweighting_setup
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from tests.training.reweighting_models import (
    EpochTag,
    RecordingDataset,
    assert_batches_follow_history,
    predict_classes,
    tiny_classifier,
    tiny_images,
)


def test_loss_weights_formulas():
    losses = np.array([0.5, 2.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(loss_weights(losses), losses / 2.0)
    np.testing.assert_allclose(loss_weights(losses, floor=0.5), 0.5 + losses / 4.0)
    # OHEM: the hardest ceil(0.4 * 5) = 2 samples; ties broken by index.
    np.testing.assert_array_equal(loss_weights(losses, fraction=0.4), [0, 1, 0, 0, 1])
    np.testing.assert_allclose(
        loss_weights(losses, fraction=0.2, floor=0.1), [0.1, 1, 0.1, 0.1, 0.1]
    )
    np.testing.assert_array_equal(loss_weights(np.zeros(3)), 0.0)
    for fraction in (0, 1.5, float("nan"), "half"):
        with pytest.raises(ValueError, match="`fraction`"):
            loss_weights(losses, fraction=fraction)
    with pytest.raises(ValueError, match="`floor`"):
        loss_weights(losses, floor=-0.1)


def test_loss_weights_psi_rule_saturates_instead_of_normalising():
    losses = np.array([0.01, 0.1, 0.5, 10.0])
    np.testing.assert_allclose(loss_weights(losses, psi="tanh"), np.tanh(losses))
    np.testing.assert_allclose(
        loss_weights(losses, psi="softsign", floor=0.2),
        0.2 + 0.8 * losses / (1.0 + losses),
        rtol=1e-6,
    )
    # One outlier sets L / max L for everyone; ψ(L) does not depend on it.
    assert loss_weights(losses)[1] < 0.011
    assert loss_weights(losses, psi="tanh")[1] > 0.099
    with pytest.raises(ValueError, match="`psi` must be one of"):
        loss_weights(losses, psi="sigmoid")
    with pytest.raises(ValueError, match="at most one of `fraction` and `psi`"):
        loss_weights(losses, fraction=0.5, psi="tanh")


@pytest.mark.multi_backend
def test_hard_negative_weights_are_normalised_cross_entropy():
    model = tiny_classifier(seed=0)
    images, labels = tiny_images(10, seed=1)
    result = hard_negative_weights(model, images, labels, batch_size=4)
    probabilities = keras.ops.convert_to_numpy(model(images)).astype("float64")
    losses = -np.log(probabilities[np.arange(10), labels])
    np.testing.assert_allclose(result.losses, losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.weights, losses / losses.max(), rtol=1e-4)
    assert result.weights.max() == 1.0 and result.weights.dtype == np.float32
    saturated = hard_negative_weights(model, images, labels, psi="tanh")
    np.testing.assert_allclose(saturated.weights, np.tanh(losses), rtol=1e-4)
    np.testing.assert_array_equal(
        result.misclassified, predict_classes(model, images) != labels
    )


def test_hard_negative_bad_inputs():
    model = tiny_classifier(seed=0)
    images, labels = tiny_images(4, seed=2)
    with pytest.raises(ValueError, match="`labels` must have one entry per image"):
        hard_negative_weights(model, images, labels[:2])
    with pytest.raises(ValueError, match="`labels` must be class indices"):
        hard_negative_weights(model, images, labels - 5)
    with pytest.raises(ValueError, match="`model` must be a keras.Model"):
        hard_negative_weights("model", images, labels)
    data = SampleWeightDataset(images, labels)
    with pytest.raises(ValueError, match="`every` must be >= 1"):
        HardNegativeMining(data, every=0)
    with pytest.raises(ValueError, match="`fraction`"):
        HardNegativeMining(data, fraction=2.0)
    with pytest.raises(ValueError, match="`psi` must be one of"):
        HardNegativeMining(data, psi="relu")
    with pytest.raises(ValueError, match="`dataset` must be a keras_xai"):
        HardNegativeMining(images)


@pytest.mark.multi_backend
def test_fit_with_hard_negative_mining_sees_new_weights():
    images, labels = tiny_images(24, seed=3)
    data = RecordingDataset(images, labels, batch_size=8, seed=1)
    model = tiny_classifier(seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = HardNegativeMining(data)
    model.fit(data, epochs=2, verbose=0, callbacks=[callback, EpochTag(data)])
    assert_batches_follow_history(data, callback, epochs=2)
    assert not np.array_equal(callback.history[0], callback.history[1])
    # The last round's weights are those of the model before epoch 2, not
    # of the final model (a fresh pass differs after one more epoch).
    final = hard_negative_weights(model, images, labels)
    assert not np.allclose(final.weights, callback.history[1])


def test_hard_negative_log_dir(tmp_path):
    images, labels = tiny_images(8, seed=4)
    data = SampleWeightDataset(images, labels, batch_size=8)
    model = tiny_classifier(seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = HardNegativeMining(data, log_dir=tmp_path / "hnm", fraction=0.5)
    model.fit(data, epochs=1, verbose=0, callbacks=[callback])
    assert sorted(os.listdir(tmp_path / "hnm")) == [
        "weight_histograms.png",
        "weights_epoch_0001.npz",
    ]
    assert callback.history[0].sum() == 4.0


def test_reweighting_setup_picks_loss_and_callbacks():
    images, labels = tiny_images(8, seed=5)
    sparse = SampleWeightDataset(images, labels, batch_size=4)
    one_hot = SampleWeightDataset(images, labels, batch_size=4, num_classes=3)
    assert REWEIGHTING_METHODS == ("consistency", "hnm", "focal", "none")

    setup = reweighting_setup("consistency", sparse, every=2, epsilon=0.05)
    assert isinstance(setup.loss, keras.losses.SparseCategoricalCrossentropy)
    (callback,) = setup.callbacks
    assert isinstance(callback, ConsistencyReweighting)
    assert (callback.every, callback.epsilon) == (2, 0.05)
    setup = reweighting_setup("hnm", one_hot, fraction=0.5)
    assert isinstance(setup.loss, keras.losses.CategoricalCrossentropy)
    assert isinstance(setup.callbacks[0], HardNegativeMining)
    setup = reweighting_setup("none", sparse)
    assert setup.callbacks == []
    setup = reweighting_setup("focal", one_hot, gamma=3.0)
    assert isinstance(setup.loss, keras.losses.CategoricalFocalCrossentropy)
    assert setup.loss.gamma == 3.0 and setup.callbacks == []

    with pytest.raises(ValueError, match="`method` must be one of"):
        reweighting_setup("ohem", sparse)
    with pytest.raises(ValueError, match="one-hot"):
        reweighting_setup("focal", sparse)
    with pytest.raises(ValueError, match="`focal` takes"):
        reweighting_setup("focal", one_hot, every=2)
    with pytest.raises(ValueError, match="`hnm` takes"):
        reweighting_setup("hnm", sparse, epsilon=0.1)
    with pytest.raises(ValueError, match="`none` takes no options"):
        reweighting_setup("none", sparse, every=1)
    with pytest.raises(ValueError, match="`dataset` must be"):
        reweighting_setup("none", (images, labels))


@pytest.mark.multi_backend
def test_focal_loss_trains_on_the_one_hot_dataset():
    images, labels = tiny_images(16, seed=6)
    data = SampleWeightDataset(images, labels, batch_size=8, num_classes=3)
    setup = reweighting_setup("focal", data)
    model = tiny_classifier(seed=0)
    model.compile(optimizer="adam", loss=setup.loss, metrics=["accuracy"])
    history = model.fit(data, epochs=1, verbose=0, callbacks=setup.callbacks)
    assert np.isfinite(history.history["loss"][0])
    # Keras's focal loss on the one-hot labels: -α (1 - p_y)^γ log p_y.
    p = keras.ops.convert_to_numpy(model(images)).astype("float64")
    p_true = p[np.arange(16), labels]
    expected = np.mean(-0.25 * (1 - p_true) ** 2.0 * np.log(p_true))
    loss = model.evaluate(data, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, expected, rtol=1e-4)
