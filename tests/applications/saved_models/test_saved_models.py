"""`.keras` files written by an earlier keras_xai still load and predict.

The files were written by `make_saved_models.py` with the version before
the `GuidedModel` base class (commit f1fca9b); this test loads them with
the current code.
"""

import hashlib
import json
import os

import keras
import numpy as np
import pytest

from keras_xai.applications.guided_model import GuidedModel

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("impactx", "abn", "explanation_guided", "ensemble", "multitask")


def _digest(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


@pytest.fixture(scope="module")
def outputs():
    with open(os.path.join(HERE, "sha256.json")) as file:
        digests = json.load(file)
    # The files are the old version's output: refuse edited copies.
    for name, digest in digests.items():
        assert _digest(os.path.join(HERE, name)) == digest, name
    with np.load(os.path.join(HERE, "outputs.npz")) as saved:
        return dict(saved)


# The models were saved compiled but untrained: their optimizer had no
# state yet, which Keras reports when the loaded (built) optimizer has more.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("name", NAMES)
def test_old_keras_file_loads_compiled_and_predicts_the_same(name, outputs):
    model = keras.saving.load_model(os.path.join(HERE, f"{name}.keras"))
    assert isinstance(model, GuidedModel)
    assert model.compiled and model.optimizer is not None
    result = model.predict(outputs["images"], verbose=0)
    if not isinstance(result, dict):
        result = {None: result}
    for key, value in result.items():
        expected = outputs[name if key is None else f"{name}/{key}"]
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    # The config the old file stored is the config the class writes now.
    again = model.__class__.from_config(model.get_config())
    assert again.get_config() == model.get_config()
