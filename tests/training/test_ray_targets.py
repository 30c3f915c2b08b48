import filecmp
import os

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.explainers import GradCAM
from keras_xai.testing.crashing_explainer import CrashOnceGradCAM
from keras_xai.training import (
    compute_attribution_targets,
    compute_attribution_targets_on_ray,
    load_attribution_targets,
)

ray = pytest.importorskip("ray", reason="Ray is not installed (extra keras-xai[ray])")

pytestmark = pytest.mark.large


@pytest.fixture(scope="module")
def ray_session():
    # One local cluster of two worker CPUs for the module (start-up costs
    # seconds; every worker imports Keras once).
    os.environ.setdefault("KERAS_BACKEND", keras.backend.backend())
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def problem():
    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    rng = np.random.default_rng(0)
    images = rng.random((100, 28, 28, 1)).astype("float32")
    return model, images, np.arange(100) % 10


def test_ray_writes_the_same_cache_as_the_local_path(ray_session, problem, tmp_path):
    model, images, labels = problem
    local = compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path / "local", shard_size=32, verbose=0
    )
    on_ray = compute_attribution_targets_on_ray(
        model, "gradcam", images, labels, tmp_path / "ray", shard_size=32, verbose=0
    )
    np.testing.assert_array_equal(on_ray, local)
    names = sorted(os.listdir(tmp_path / "local"))
    assert names == sorted(os.listdir(tmp_path / "ray"))  # no partial files
    assert len([name for name in names if name.startswith("shard_")]) == 4
    for name in names:
        assert filecmp.cmp(tmp_path / "local" / name, tmp_path / "ray" / name, False)
    # One cache, both paths: a shard lost from the Ray cache is computed
    # again by the local function, the rest kept.
    os.remove(tmp_path / "ray" / "shard_00002.npz")
    again = compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path / "ray", shard_size=32, verbose=0
    )
    np.testing.assert_array_equal(again, local)


def test_a_killed_worker_loses_no_shard(ray_session, problem, tmp_path):
    model, images, labels = problem
    marker = tmp_path / "crashed"
    targets = compute_attribution_targets_on_ray(
        model,
        CrashOnceGradCAM,
        images,
        labels,
        tmp_path / "cache",
        explainer_options={"marker": str(marker)},
        shard_size=50,
        verbose=0,
    )
    assert marker.exists()  # one worker died mid-task; Ray ran it again
    # The same shards computed locally: equal to the bit (maps computed in
    # one batch of all images differ by ~1e-6, a batch-size effect).
    expected = compute_attribution_targets(
        GradCAM(model), images, labels, tmp_path / "local", shard_size=50, verbose=0
    )
    np.testing.assert_array_equal(targets, expected)
    np.testing.assert_array_equal(load_attribution_targets(tmp_path / "cache"), targets)
    assert not [name for name in os.listdir(tmp_path / "cache") if "tmp" in name]


def test_bad_arguments_fail_with_one_clear_message(ray_session, problem, tmp_path):
    model, images, labels = problem
    with pytest.raises(ValueError, match="`explainer` must be an explainer name"):
        compute_attribution_targets_on_ray(
            model, GradCAM(model), images, labels, tmp_path
        )
    with pytest.raises(ValueError, match="`explainer` must be one of"):
        compute_attribution_targets_on_ray(model, "nope", images, labels, tmp_path)
    with pytest.raises(ValueError, match="`max_retries` must be >= 0"):
        compute_attribution_targets_on_ray(
            model, "gradcam", images, labels, tmp_path, max_retries=-1
        )
    with pytest.raises(ValueError, match="already has a Ray session"):
        compute_attribution_targets_on_ray(
            model, "gradcam", images, labels, tmp_path, address="auto"
        )
    assert not os.listdir(tmp_path)  # nothing computed


def test_an_unreachable_address_is_refused_at_once(problem, tmp_path, monkeypatch):
    from keras_xai.training import ray_targets

    model, images, labels = problem
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(ValueError, match="Could not reach the Ray cluster"):
        ray_targets._check_address(ray, "127.0.0.1:1")
    with pytest.raises(ValueError, match="`address` must be 'auto'"):
        ray_targets._check_address(ray, "no-port")
