import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_xai.applications import IMPACTX
from keras_xai.export import export_saved_model

_RELOAD = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
outputs = loaded.serve(np.load(sys.argv[2]))
assert not any(name.startswith("keras_xai") for name in sys.modules)
print(json.dumps({k: v.numpy().tolist() for k, v in outputs.items()}))
"""


@pytest.mark.multi_backend
@pytest.mark.large
def test_savedmodel_serves_class_and_explanation_without_keras_xai(tmp_path):
    model = IMPACTX.from_preset(
        "lenet5_fashion_mnist",
        latent_dim=16,
        classifier_units=(8,),
        decoder_filters=(4,),
    )
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    expected = {k: keras.ops.convert_to_numpy(v) for k, v in model(images).items()}
    export_saved_model(model, tmp_path / "saved")
    np.save(tmp_path / "x.npy", images)
    script = tmp_path / "reload.py"
    script.write_text(_RELOAD)
    # A fresh process that loads the SavedModel with plain TensorFlow; the
    # script checks that keras_xai was never imported.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            str(script),
            str(tmp_path / "saved"),
            str(tmp_path / "x.npy"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(served) == {"class", "explanation"}
    for key in served:
        np.testing.assert_allclose(np.array(served[key]), expected[key], atol=1e-5)


def test_export_bad_input(tmp_path):
    with pytest.raises(ValueError, match="`model` must be a built keras.Model"):
        export_saved_model("model", tmp_path)


_PROBE = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
default = loaded.signatures["serving_default"]
report = {}
good = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
cases = {
    "good": good,
    "channels": np.concatenate([good] * 3, axis=-1),
    "rank": good[..., 0],
    "uint8": (good * 255).astype("uint8"),
}
for name, images in cases.items():
    for endpoint, call in (
        ("serve", lambda x: loaded.serve(tf.constant(x))),
        ("serving_default", lambda x: default(images=tf.constant(x))),
    ):
        try:
            outputs = call(images)
            report[f"{endpoint}/{name}"] = sorted(outputs)
        except (tf.errors.InvalidArgumentError, TypeError, ValueError) as error:
            report[f"{endpoint}/{name}"] = type(error).__name__
print(json.dumps(report))
"""


@pytest.mark.multi_backend
@pytest.mark.large
def test_both_endpoints_refuse_a_wrong_input(tmp_path):
    model = IMPACTX.from_preset(
        "lenet5_fashion_mnist",
        latent_dim=16,
        classifier_units=(8,),
        decoder_filters=(4,),
    )
    export_saved_model(model, tmp_path / "saved")
    script = tmp_path / "probe.py"
    script.write_text(_PROBE)
    # In a subprocess: a bad input used to abort the whole serving process.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    completed = subprocess.run(
        [sys.executable, "-I", str(script), str(tmp_path / "saved")],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    for endpoint in ("serve", "serving_default"):
        assert report[f"{endpoint}/good"] == ["class", "explanation"]
        for bad in ("channels", "rank", "uint8"):
            assert report[f"{endpoint}/{bad}"] in ("InvalidArgumentError", "TypeError")
