"""`ExplanationGuidedClassifier` on two devices: TensorFlow's
`MirroredStrategy` and JAX's `keras.distribution.DataParallel`.

Two CPU devices are made in a fresh process (both frameworks fix their
devices at start-up), the same model is trained on one device and on two
with the same global batch, and the weights must agree: the guidance terms
(input gradients, GradCAM inside the loss) are computed on each device's
images and the loss is reduced as single-device training reduces it.
"""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import pytest

# Both scripts end by comparing the one-device and two-device runs.
REPORT = r"""
moved = max(
    float(np.max(np.abs(a - b))) for a, b in zip(single, replicated)
)
scale = max(float(np.max(np.abs(a))) for a in single)
print(json.dumps({
    "max_weight_difference": moved,
    "weight_scale": scale,
    "loss_single": single_loss,
    "loss_replicated": replicated_loss,
}))
"""

SCRIPT = r"""
import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras
import numpy as np

from keras_xai.applications import (
    IMPACTX,
    ExplanationGuidedClassifier,
    ImageClassifier,
)


def train(strategy, options):
    options = dict(options)
    kind = options.pop("model", "guided")
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 3, 32)
    masks = np.zeros((32, 28, 28), "float32")
    masks[:, 6:22, 6:22] = 1.0
    with strategy.scope():
        keras.utils.set_random_seed(0)
        classifier = ImageClassifier("lenet5", (28, 28, 1), 3)
        if kind == "impactx":
            model = IMPACTX(classifier, **options)
            targets = {"class": y, "explanation": 2.0 * masks - 1.0}
        else:
            model = ExplanationGuidedClassifier(classifier, **options)
            targets = {"label": y, "mask": masks}
        # Plain SGD: a gradient off by the replica count shows in the weights.
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(
        x, targets, batch_size=16, epochs=2, shuffle=False, verbose=0
    )
    return [np.asarray(w) for w in model.get_weights()], history.history["loss"]


options = json.loads(sys.argv[1])
single, single_loss = train(tf.distribute.get_strategy(), options)
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert mirrored.num_replicas_in_sync == 2
replicated, replicated_loss = train(mirrored, options)
"""


JAX_SCRIPT = r"""
import json
import sys

import jax
import keras
import numpy as np

from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier


def train(distribution, options):
    keras.distribution.set_distribution(distribution)
    keras.utils.set_random_seed(0)
    classifier = ImageClassifier("lenet5", (28, 28, 1), 3)
    model = ExplanationGuidedClassifier(classifier, **options)
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 3, 32)
    masks = np.zeros((32, 28, 28), "float32")
    masks[:, 6:22, 6:22] = 1.0
    history = model.fit(
        x, {"label": y, "mask": masks}, batch_size=16, epochs=2, shuffle=False,
        verbose=0,
    )
    weights = [np.asarray(w) for w in classifier.get_weights()]
    keras.distribution.set_distribution(None)
    return weights, history.history["loss"]


options = json.loads(sys.argv[1])
assert len(jax.devices()) == 2
single, single_loss = train(None, options)
parallel = keras.distribution.DataParallel(devices=jax.devices())
replicated, replicated_loss = train(parallel, options)
"""

OPTIONS = pytest.mark.parametrize(
    "options",
    [
        {"guidance": "so", "views": 1, "beta": 0.5},
        {"guidance": "rrr", "beta": 0.5, "rrr_weight": 1.0},
        {"guidance": "so", "views": 1, "beta": 1.0},
    ],
    ids=["segment_overlap", "input_gradient_penalty", "cross_entropy_only"],
)


def _run(script, options, env):
    done = subprocess.run(
        [sys.executable, "-c", script + REPORT, json.dumps(options)],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["max_weight_difference"] <= 1e-4 * result["weight_scale"], result
    for single, replicated in zip(result["loss_single"], result["loss_replicated"]):
        assert replicated == pytest.approx(single, rel=1e-4), result


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute is TensorFlow's (the JAX test covers keras.distribution)",
)
@OPTIONS
def test_two_tensorflow_replicas_train_like_one_device(options):
    _run(SCRIPT, options, {"KERAS_BACKEND": "tensorflow"})


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute is TensorFlow's",
)
def test_impactx_under_mirrored_strategy():
    # Its loss is Keras's compiled losses (already replica-aware). ABN is
    # not compared: its attention branch's BatchNormalization normalises
    # each replica's images by their own statistics, as in any Keras model,
    # so two replicas legitimately differ from one device.
    _run(SCRIPT, {"model": "impactx"}, {"KERAS_BACKEND": "tensorflow"})


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow" or importlib.util.find_spec("jax") is None,
    reason="run once, from the TensorFlow suite, in a JAX subprocess; needs jax",
)
@OPTIONS
def test_jax_data_parallel_trains_like_one_device(options):
    _run(
        JAX_SCRIPT,
        options,
        {
            "KERAS_BACKEND": "jax",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        },
    )
