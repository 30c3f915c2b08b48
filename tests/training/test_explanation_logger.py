import glob
import os

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.backend.tensorboard import tensorboard_available
from keras_xai.explainers import GradCAM, XGradCAM
from keras_xai.training import ExplanationLogger


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 3, 64)
    return x, y


@pytest.mark.multi_backend
def test_logger_writes_pngs_with_current_weights(tmp_path):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = []

    class Recording(GradCAM):
        def __call__(self, images, targets=None):
            maps = super().__call__(images, targets)
            seen.append(maps)
            return maps

    logger = ExplanationLogger(
        x[:4], tmp_path / "logs", explainer=Recording, targets=y[:4], every=2
    )
    model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[logger])
    written = sorted(glob.glob(str(tmp_path / "logs" / "explanations_epoch_*.png")))
    assert [os.path.basename(p) for p in written] == [
        "explanations_epoch_0002.png",
        "explanations_epoch_0004.png",
    ]
    assert logger.written == written
    # The maps follow training: they match the final weights' GradCAM.
    np.testing.assert_allclose(seen[-1], GradCAM(model)(x[:4], y[:4]), atol=1e-5)
    assert not np.allclose(seen[0], seen[-1])


def test_logger_with_factory_and_tensorboard(tmp_path):
    x, y = _data()
    model = ImageClassifier("lenet5", (28, 28, 1), 3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    logger = ExplanationLogger(
        x[:2], tmp_path, explainer=lambda m: XGradCAM(m, layer="conv2")
    )
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[logger])
    assert os.path.isfile(tmp_path / "explanations_epoch_0001.png")
    events = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert bool(events) == tensorboard_available()


def test_logger_bad_arguments(tmp_path):
    x, _ = _data()
    with pytest.raises(ValueError, match="`every` must be >= 1"):
        ExplanationLogger(x[:2], tmp_path, every=0)
    with pytest.raises(ValueError, match="`explainer` must be"):
        ExplanationLogger(x[:2], tmp_path, explainer="gradcam")
    with pytest.raises(ValueError, match="`images`"):
        ExplanationLogger(x[0], tmp_path)
