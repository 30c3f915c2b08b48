import json
import os
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.explainers import GradCAM, IntegratedGradients, XGradCAM
from keras_xai.training import (
    compute_attribution_targets,
    load_attribution_targets,
    scale_maps,
)


@pytest.fixture(scope="module")
def setup():
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    rng = np.random.default_rng(0)
    images = rng.random((10, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 10)
    return model, images, labels


def test_targets_are_scaled_true_class_maps(setup, tmp_path):
    model, images, labels = setup
    targets = compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path, shard_size=4, verbose=False
    )
    expected = scale_maps(GradCAM(model)(images, targets=labels))
    np.testing.assert_allclose(targets, expected, rtol=1e-5, atol=1e-6)
    assert targets.shape == (10, 28, 28)
    peaks = np.abs(targets).reshape(10, -1).max(axis=1)
    np.testing.assert_allclose(peaks[peaks > 0], 1.0, rtol=1e-6)
    assert sorted(f for f in os.listdir(tmp_path) if f.startswith("shard")) == [
        "shard_00000.npz",
        "shard_00001.npz",
        "shard_00002.npz",
    ]


def test_sharded_workers_merge(setup, tmp_path):
    model, images, labels = setup
    explainer = GradCAM(model)
    first = compute_attribution_targets(
        explainer, images, labels, tmp_path, shard_size=3, shard="0/2", verbose=False
    )
    assert first is None  # shards 1 and 3 are the other worker's
    with pytest.raises(ValueError, match="incomplete"):
        load_attribution_targets(tmp_path)
    merged = compute_attribution_targets(
        explainer, images, labels, tmp_path, shard_size=3, shard="1/2", verbose=False
    )
    whole = compute_attribution_targets(
        explainer, images, labels, tmp_path / "one", shard_size=3, verbose=False
    )
    np.testing.assert_array_equal(merged, whole)
    np.testing.assert_array_equal(load_attribution_targets(tmp_path), whole)


def test_corrupt_shard_is_recomputed(setup, tmp_path, caplog):
    model, images, labels = setup
    explainer = GradCAM(model)
    reference = compute_attribution_targets(
        explainer, images, labels, tmp_path, shard_size=4, verbose=False
    )
    with open(tmp_path / "shard_00001.npz", "r+b") as file:
        file.seek(200)
        file.write(b"garbage!")
    with caplog.at_level("WARNING", logger="keras_xai"):
        again = compute_attribution_targets(
            explainer, images, labels, tmp_path, shard_size=4, verbose=False
        )
    assert "corrupt" in caplog.text
    np.testing.assert_array_equal(again, reference)


def test_cache_from_another_model_or_dataset_is_refused(setup, tmp_path):
    model, images, labels = setup
    compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path, shard_size=4, verbose=False
    )
    with pytest.raises(ValueError, match="different data"):
        compute_attribution_targets(
            GradCAM(model), images[::-1], labels, tmp_path, shard_size=4, verbose=False
        )
    with pytest.raises(ValueError, match="different explainer"):
        compute_attribution_targets(
            XGradCAM(model), images, labels, tmp_path, shard_size=4, verbose=False
        )
    other = ImageClassifier("lenet5", (28, 28, 1), 10)
    with pytest.raises(ValueError, match="different model"):
        compute_attribution_targets(
            GradCAM(other), images, labels, tmp_path, shard_size=4, verbose=False
        )


def test_the_same_model_under_another_name_keeps_the_cache(setup, tmp_path):
    # Keras numbers model names per process ("image_classifier_3"): a model
    # rebuilt with the same weights, e.g. after a restart, resumes the cache.
    from keras_xai.training import attribution_targets as module

    model, images, labels = setup
    first = _compute(GradCAM(model), images, labels, tmp_path / "renamed")
    twin = ImageClassifier("lenet5", (28, 28, 1), 10, name="another_name")
    twin.set_weights(model.get_weights())
    assert module.fingerprint_model(twin) == module.fingerprint_model(model)
    np.testing.assert_array_equal(
        _compute(GradCAM(twin), images, labels, tmp_path / "renamed"), first
    )

    # A cache written while the fingerprint still held the name is kept.
    metadata_path = tmp_path / "renamed" / module.METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata["model"] = module._named_fingerprint(model)
    assert metadata["model"] != module.fingerprint_model(model)
    metadata_path.write_text(json.dumps(metadata))
    np.testing.assert_array_equal(
        _compute(GradCAM(model), images, labels, tmp_path / "renamed"), first
    )
    with pytest.raises(ValueError, match="different model"):
        _compute(GradCAM(twin), images, labels, tmp_path / "renamed")


def _compute(explainer, images, labels, cache, **kwargs):
    return compute_attribution_targets(
        explainer, images, labels, cache, shard_size=4, verbose=False, **kwargs
    )


def test_changed_layer_baseline_or_architecture_is_refused(setup, tmp_path):
    model, images, labels = setup
    _compute(GradCAM(model), images, labels, tmp_path / "layer")
    with pytest.raises(ValueError, match="different explainer"):
        _compute(GradCAM(model, layer="conv1"), images, labels, tmp_path / "layer")

    baseline = np.zeros((28, 28, 1), "float32")
    _compute(
        IntegratedGradients(model, baseline=baseline), images, labels, tmp_path / "ig"
    )
    with pytest.raises(ValueError, match="different explainer"):
        _compute(
            IntegratedGradients(model, baseline=baseline + 0.5),
            images,
            labels,
            tmp_path / "ig",
        )

    # The same weights in a model whose activations differ (ReLU -> tanh).
    def small(activation):
        inputs = keras.Input((28, 28, 1))
        x = keras.layers.Conv2D(3, 5, activation=activation, name="conv")(inputs)
        x = keras.layers.Flatten()(x)
        logits = keras.layers.Dense(10, name="logits")(x)
        return keras.Model(inputs, keras.layers.Activation("softmax")(logits))

    relu, tanh = small("relu"), small("tanh")
    tanh.set_weights(relu.get_weights())
    _compute(GradCAM(relu), images, labels, tmp_path / "arch")
    with pytest.raises(ValueError, match="different model"):
        _compute(GradCAM(tanh), images, labels, tmp_path / "arch")


def test_batch_size_alone_keeps_the_cache(setup, tmp_path):
    model, images, labels = setup
    first = _compute(GradCAM(model, batch_size=2), images, labels, tmp_path)
    again = _compute(GradCAM(model, batch_size=7), images, labels, tmp_path)
    np.testing.assert_array_equal(first, again)


def test_a_shard_copied_over_another_is_recomputed(setup, tmp_path, caplog):
    model, images, labels = setup
    first = _compute(GradCAM(model), images, labels, tmp_path)
    # Shards 0 and 1 both hold 4 valid maps: copy 0 over 1.
    shard0, shard1 = tmp_path / "shard_00000.npz", tmp_path / "shard_00001.npz"
    shard1.write_bytes(shard0.read_bytes())
    with pytest.raises(ValueError, match="incomplete"):
        load_attribution_targets(tmp_path)
    np.testing.assert_array_equal(
        _compute(GradCAM(model), images, labels, tmp_path), first
    )


def test_bad_arguments(setup, tmp_path):
    model, images, labels = setup
    explainer = GradCAM(model)
    with pytest.raises(ValueError, match="`shard` must look like"):
        compute_attribution_targets(explainer, images, labels, tmp_path, shard="1")
    with pytest.raises(ValueError, match="0 <= i < n"):
        compute_attribution_targets(explainer, images, labels, tmp_path, shard="2/2")
    with pytest.raises(ValueError, match="`labels`"):
        compute_attribution_targets(explainer, images, labels[:3], tmp_path)
    with pytest.raises(ValueError, match="`explainer` must be"):
        compute_attribution_targets(model, images, labels, tmp_path)
    with pytest.raises(ValueError, match="`scaling`"):
        scale_maps(np.zeros((1, 2, 2)), "minmax")
    with pytest.raises(FileNotFoundError):
        load_attribution_targets(tmp_path / "nothing")


_WORKER = textwrap.dedent(
    """
    import sys, time
    import keras, numpy as np
    from keras_xai.applications import ImageClassifier
    from keras_xai.explainers import GradCAM
    from keras_xai.training import compute_attribution_targets

    class SlowGradCAM(GradCAM):
        def __call__(self, images, targets=None):
            time.sleep(float(sys.argv[2]))
            return super().__call__(images, targets)

    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    model.load_weights(sys.argv[3])
    rng = np.random.default_rng(1)
    images = rng.random((12, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 12)
    compute_attribution_targets(
        SlowGradCAM(model), images, labels, sys.argv[1], shard_size=2, verbose=False
    )
    """
)


@pytest.mark.large
def test_killed_run_resumes_to_identical_targets(tmp_path):
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    weights = str(tmp_path / "m.weights.h5")
    model.save_weights(weights)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    cache = tmp_path / "cache"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, str(script), str(cache), "1.0", weights], env=env
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        done = [f for f in os.listdir(cache)] if cache.exists() else []
        if sum(f.endswith(".npz") for f in done) >= 2:
            break
        time.sleep(0.2)
    process.kill()
    process.wait()
    finished = sorted(f for f in os.listdir(cache) if f.endswith(".npz"))
    assert 2 <= len(finished) < 6, finished  # killed mid-run
    # Resume: only the missing shards are computed, and nothing is lost.
    subprocess.run(
        [sys.executable, str(script), str(cache), "0", weights], env=env, check=True
    )
    # The reference: the same targets computed in one uninterrupted run.
    rng = np.random.default_rng(1)
    images = rng.random((12, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 12)
    compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path / "clean", shard_size=2, verbose=False
    )
    np.testing.assert_array_equal(
        load_attribution_targets(cache), load_attribution_targets(tmp_path / "clean")
    )
    metadata = json.load(open(cache / "metadata.json"))
    assert metadata["num_shards"] == 6


def test_damaged_metadata_names_the_file(setup, tmp_path):
    model, images, labels = setup
    _compute(GradCAM(model), images, labels, tmp_path)
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(ValueError, match="metadata.json is damaged"):
        _compute(GradCAM(model), images, labels, tmp_path)
    with pytest.raises(ValueError, match="metadata.json is damaged"):
        load_attribution_targets(tmp_path)
