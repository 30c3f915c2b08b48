import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.explainers import GradCAM
from keras_xai.metrics import focus_evaluation
from keras_xai.training.focus_monitor import FocusMonitor, mosaic_copy


def _data(count=48, seed=0):
    """Three classes told apart by where a bright square sits."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 3
    images = rng.uniform(0.0, 0.2, (count, 28, 28, 1)).astype("float32")
    for index, label in enumerate(labels):
        top = 4 + 8 * label
        images[index, top : top + 6, 10:16] = 1.0
    return images, labels.astype("int32")


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = ImageClassifier("lenet5", (28, 28, 1), 3, pooling="avg", hidden_units=())
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_focus_is_logged_before_and_after_each_epoch():
    images, labels = _data()
    model = _model()
    monitor = FocusMonitor(
        images, labels, {"gradcam": "gradcam", "cam_class": GradCAM}, num_mosaics=8
    )
    history = model.fit(
        images, labels, epochs=2, batch_size=16, verbose=0, callbacks=[monitor]
    )
    assert [record["epoch"] for record in monitor.history] == [0, 1, 2]
    assert len(history.history["focus_gradcam"]) == 2
    assert history.history["focus_gradcam"] == [
        record["gradcam"]["median"] for record in monitor.history[1:]
    ]
    # A name and the class it stands for measure the same thing.
    last = monitor.history[-1]
    assert last["gradcam"]["scores"] == last["cam_class"]["scores"]
    assert len(last["gradcam"]["scores"]) == 8
    # The record is Focus of the current weights on the same mosaics.
    direct = focus_evaluation(
        mosaic_copy(model, (56, 56, 1)), GradCAM, images, labels, 8, seed=0
    )["scores"]
    np.testing.assert_allclose(last["gradcam"]["scores"], direct, atol=1e-6)
    predictions = np.argmax(model.predict(images, verbose=0), -1)
    assert last["accuracy"] == pytest.approx(np.mean(predictions == labels))
    assert history.history["focus_accuracy"][-1] == last["accuracy"]


def test_every_and_mosaic_model_option():
    images, labels = _data(24)
    model = _model()
    calls = []

    def rebuild(trained, shape):
        calls.append(shape)
        return mosaic_copy(trained, shape)

    monitor = FocusMonitor(
        images, labels, ["saliency"], num_mosaics=4, every=2, mosaic_model=rebuild
    )
    model.fit(images, labels, epochs=3, batch_size=12, verbose=0, callbacks=[monitor])
    assert [record["epoch"] for record in monitor.history] == [0, 2]
    assert calls == [(56, 56, 1), (56, 56, 1)]


def test_mosaic_copy_keeps_the_weights():
    model = _model()
    copy = mosaic_copy(model, (56, 56, 1))
    assert copy.inputs[0].shape[1:] == (56, 56, 1)
    for kept, original in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(kept, original)
    plain = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="Pass `mosaic_model=`"):
        mosaic_copy(plain, (56, 56, 1))


def test_bad_arguments():
    images, labels = _data(6)
    with pytest.raises(ValueError, match="`explainer`"):
        FocusMonitor(images, labels, ["no_such_method"])
    with pytest.raises(ValueError, match="list must hold registry names"):
        FocusMonitor(images, labels, [GradCAM])
    with pytest.raises(ValueError, match="at least one explainer"):
        FocusMonitor(images, labels, {})
    with pytest.raises(ValueError, match=r"`explainers\['x'\]`"):
        FocusMonitor(images, labels, {"x": 3})
    with pytest.raises(ValueError, match="`mosaic_model` must be a callable"):
        FocusMonitor(images, labels, mosaic_model="copy")
    with pytest.raises(ValueError, match="`num_mosaics`"):
        FocusMonitor(images, labels, num_mosaics=0)
    with pytest.raises(ValueError, match="`labels`"):
        FocusMonitor(images, labels[:3])
    # Labels beyond the model's classes are refused before training starts.
    monitor = FocusMonitor(images, labels + 5, num_mosaics=2)
    model = _model()
    with pytest.raises(ValueError, match="labels"):
        model.fit(images, labels, epochs=1, verbose=0, callbacks=[monitor])
