import json

import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.benchmarks.shortcut import (
    ShortcutBenchmark,
    shortcut_benchmark_data,
)
from keras_xai.benchmarks.shortcut import benchmark as benchmark_module
from keras_xai.training.attribution_targets import compute_attribution_targets


def _images(num, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=num)
    images = np.zeros((num, 20, 20), "uint8")
    for index, label in enumerate(labels):  # the class is the blob's row
        row = 4 + 3 * label
        images[index, row : row + 3, 6:14] = rng.integers(120, 255, size=(3, 8))
    return images, labels


@pytest.fixture(scope="module")
def data():
    x, y = _images(260, 0)
    xt, yt = _images(80, 1)
    return shortcut_benchmark_data(
        x, y, xt, yt, variant="margin", num_classes=4, validation_size=60, pad=4
    )


def test_data_splits(data):
    assert data.train.images.shape == (200, 28, 28, 1)
    assert data.train.images.dtype == np.float32 and data.train.images.max() <= 1.0
    assert (
        data.validation.images.shape[0] == data.validation_random.images.shape[0] == 60
    )
    np.testing.assert_array_equal(data.validation.labels, data.validation_random.labels)
    np.testing.assert_array_equal(data.train.patch_classes, data.train.labels)
    assert data.clean_train.decoy_masks.sum() == 0
    assert set(data.test) == {"random", "far", "none"}
    np.testing.assert_array_equal(
        data.test["far"].patch_classes, (data.test["far"].labels + 2) % 4
    )


def test_clean_variant_has_no_patch_anywhere(tmp_path):
    x, y = _images(80, 0)
    xt, yt = _images(20, 1)
    clean = shortcut_benchmark_data(
        x, y, xt, yt, variant="clean", num_classes=4, validation_size=20
    )
    assert clean.train.images.shape == (60, 20, 20, 1)
    np.testing.assert_array_equal(clean.train.images, clean.clean_train.images)
    # The plain images, split between training and validation.
    both = np.concatenate([clean.train.images, clean.validation.images])[..., 0]
    np.testing.assert_allclose(
        np.sort(both.sum(axis=(1, 2))), np.sort(x.sum(axis=(1, 2)) / 255.0), rtol=1e-5
    )
    for split in (clean.train, clean.validation_random, *clean.test.values()):
        assert split.decoy_masks.sum() == 0 and (split.patch_classes == -1).all()
    bench = ShortcutBenchmark(clean, "mlp", tmp_path, max_epochs=1, batch_size=32)
    bench.run(["ceiling", "floor"], seeds=[0], log=lambda line: None)
    arms = bench.summary()["arms"]
    assert arms["floor"]["gap_share"]["test_none"] is None
    assert arms["ceiling"]["difference_to_floor"]["test_none"]["n"] == 1


def test_bad_sizes_are_refused():
    x, y = _images(20, 0)
    with pytest.raises(ValueError, match="`validation_size` must leave"):
        shortcut_benchmark_data(x, y, x, y, validation_size=20)
    with pytest.raises(ValueError, match="`variant` must be one of"):
        shortcut_benchmark_data(x, y, x, y, variant="nope", validation_size=5)


def test_runs_are_stored_and_resumed(data, tmp_path, monkeypatch):
    bench = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=2, batch_size=32)
    lines = []
    runs = bench.run(
        ["floor", "ceiling", "rrr_decoy@0.01"], seeds=[0], log=lines.append
    )
    assert len(runs) == 3
    # Per run: a line when it starts, one per epoch, one with its results.
    assert sum(line.endswith(": training") for line in lines) == 3
    assert sum(" random " in line for line in lines) == 3
    epoch_lines = [line for line in lines if line.lstrip().startswith("epoch ")]
    assert len(epoch_lines) == sum(result["epochs"] for result in runs.values())
    assert "val_loss" in epoch_lines[0]
    for result in runs.values():
        for split in ("test_random", "test_far", "test_none", "validation_random"):
            assert 0.0 <= result[split] <= 1.0
        assert 0.0 <= result["decoy_saliency_share"] <= 1.0
        assert 0.0 <= result["gradcam_iou"] <= 1.0
        assert 1 <= result["epochs"] <= 2
    stored = json.loads((tmp_path / "results.json").read_text())
    assert set(stored["runs"]) == {
        "floor/seed0",
        "ceiling/seed0",
        "rrr_decoy@0.01/seed0",
    }
    assert stored["runs"]["rrr_decoy@0.01/seed0"]["options"]["rrr_weight"] == 0.01

    # Same settings: nothing is trained again.
    def no_training(*args, **kwargs):
        raise AssertionError("a stored run was trained again")

    monkeypatch.setattr(benchmark_module, "train_arm", no_training)
    again = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=2, batch_size=32)
    lines = []
    assert again.run(["floor", "ceiling"], seeds=[0], log=lines.append) == {
        key: runs[key] for key in ("floor/seed0", "ceiling/seed0")
    }
    assert all(line.endswith("stored") for line in lines)
    summary = again.summary()
    assert summary["arms"]["floor"]["gap_share"]["test_random"] in (0.0, None)
    # Other settings: the stored runs are not reused.
    changed = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=3, batch_size=32)
    with pytest.raises(AssertionError, match="trained again"):
        changed.run(["floor"], seeds=[0], log=lines.append)


def test_mlp_and_cam_arms(data, tmp_path):
    bench = ShortcutBenchmark(data, "mlp", tmp_path, max_epochs=1, batch_size=64)
    with pytest.raises(ValueError, match="need a convolutional feature map"):
        bench.run(["so_1view"], seeds=[0])
    result = bench.run(["rrr_decoy"], seeds=[1], log=lambda line: None)
    assert result["rrr_decoy@0.0153787/seed1"]["gradcam_iou"] is None
    with pytest.raises(ValueError, match="`architecture` must be one of"):
        ShortcutBenchmark(data, "resnet", tmp_path)


def test_an_arm_explaining_a_missing_layer_is_refused_before_training(data, tmp_path):
    bench = ShortcutBenchmark(data, "vgg_small", tmp_path, max_epochs=1)
    with pytest.raises(ValueError, match=r"so_1view_conv2.*does not have"):
        bench.run(["floor", "so_1view_conv2"], seeds=[0], log=lambda line: None)
    assert bench.store.runs == {}  # nothing was trained


def test_two_phase_arm_fine_tunes_the_floor(data, tmp_path):
    bench = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=1, batch_size=64)
    key = "so_1view_two_phase/seed0"
    result = bench.run(["so_1view_two_phase"], seeds=[0], log=lambda line: None)[key]
    assert result["epochs"] == 3  # CE, then one epoch per phase
    assert result["options"]["phase1_epochs"] == 10
    assert 0.0 <= result["test_random"] <= 1.0
    assert 0.0 <= result["gradcam_iou"] <= 1.0


def test_impactx_controls(data, tmp_path, monkeypatch):
    from keras_xai.benchmarks.shortcut import training

    computed, trained = [], []

    def recording_targets(*args, **kwargs):
        targets = compute_attribution_targets(*args, **kwargs)
        computed.append(np.array(targets))
        return targets

    class Recording(training.IMPACTX):
        def fit(self, x, y, **kwargs):
            trained.append(np.array(y["explanation"]))
            return super().fit(x, y, **kwargs)

    monkeypatch.setattr(training, "compute_attribution_targets", recording_targets)
    monkeypatch.setattr(training, "IMPACTX", Recording)
    bench = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=1, batch_size=64)
    results = bench.run(
        ["impactx_shuffled", "impactx_no_target", "floor_continued"],
        seeds=[0],
        log=lambda line: None,
    )
    # The control trains each image towards another image's target: the
    # rows of the computed training targets, permuted.
    original, shuffled = computed[0], trained[0]
    flat = original.reshape(len(original), -1)
    assert not np.allclose(original, shuffled)
    rows = [
        np.flatnonzero((flat == row).all(1)) for row in shuffled.reshape(flat.shape)
    ]
    assert all(len(match) for match in rows)
    assert len(set(int(match[0]) for match in rows)) == len(np.unique(flat, axis=0))
    # λ = 0 trains on the true targets (they weigh nothing).
    np.testing.assert_array_equal(trained[1], computed[2])
    assert results["impactx_no_target/seed0"]["options"]["explanation_weight"] == 0
    assert results["floor_continued/seed0"]["epochs"] == 2  # two CE stages
    with pytest.raises(ValueError, match="`explanation_weight` must be a finite"):
        training.IMPACTX(
            ImageClassifier("lenet5", (28, 28, 1), 10), explanation_weight=-1
        )


def test_two_stage_arms_share_their_first_stage(data, tmp_path):
    shared = ShortcutBenchmark(
        data, "lenet5", tmp_path / "shared", max_epochs=1, batch_size=64
    )
    lines = []
    runs = shared.run(
        ["impactx_no_target", "floor_continued"], seeds=[0], log=lines.append
    )
    first, second = runs["impactx_no_target/seed0"], runs["floor_continued/seed0"]
    assert not first["stage_one_reused"] and second["stage_one_reused"]
    assert sum("stage 1 (seed0): reused" in line for line in lines) == 1
    assert second["epochs"] == 2  # the reused stage's epoch counts
    assert (tmp_path / "shared" / "stage_one" / "seed0.weights.npz").is_file()
    # The same arm with a first stage of its own: the same run.
    alone = ShortcutBenchmark(
        data, "lenet5", tmp_path / "alone", max_epochs=1, batch_size=64
    )
    fresh = alone.run(["floor_continued"], seeds=[0], log=lambda line: None)
    fresh = fresh["floor_continued/seed0"]
    assert not fresh["stage_one_reused"]
    for split in ("validation_random", "test_random", "test_far", "test_none"):
        assert fresh[split] == pytest.approx(second[split], abs=1e-6)


def test_a_killed_run_resumes_from_its_last_epoch(data, tmp_path):
    def bench():
        return ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=3, batch_size=64)

    def kill_after_epoch_2(line):
        if line.lstrip().startswith("epoch 2/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bench().run(["rrr_decoy@0.01"], seeds=[0], log=kill_after_epoch_2)
    assert list((tmp_path / "in_progress").iterdir())  # the backup
    lines = []
    result = bench().run(["rrr_decoy@0.01"], seeds=[0], log=lines.append)
    epochs = [line.split("/")[0].strip() for line in lines if "epoch " in line]
    assert epochs[0] == "epoch 3"  # epochs 1 and 2 were not trained again
    assert result["rrr_decoy@0.01/seed0"]["epochs"] == 3  # counted across runs
    assert not list((tmp_path / "in_progress").iterdir())


def test_a_run_killed_while_computing_targets_resumes_them(data, tmp_path, monkeypatch):
    from keras_xai.benchmarks.shortcut import training

    explained = []

    class CountingGradCAM(training.GradCAM):
        def __call__(self, images, *args, **kwargs):
            explained.append(len(images))
            return super().__call__(images, *args, **kwargs)

    def kill_after_the_training_targets(explainer, images, labels, cache_dir, **kw):
        targets = compute_attribution_targets(
            explainer, images, labels, cache_dir, **kw
        )
        if cache_dir.endswith("train"):
            raise KeyboardInterrupt
        return targets

    monkeypatch.setattr(training, "GradCAM", CountingGradCAM)
    options = {"max_epochs": 1, "batch_size": 64}
    whole = ShortcutBenchmark(data, "lenet5", tmp_path / "whole", **options)
    expected = whole.run(["impactx"], seeds=[0], log=lambda line: None)
    assert sum(explained) == len(data.train.images) + len(data.validation.images)

    monkeypatch.setattr(
        training, "compute_attribution_targets", kill_after_the_training_targets
    )
    with pytest.raises(KeyboardInterrupt):
        ShortcutBenchmark(data, "lenet5", tmp_path / "killed", **options).run(
            ["impactx"], seeds=[0], log=lambda line: None
        )
    (cache,) = (tmp_path / "killed" / "in_progress").glob("*_targets")
    assert list((cache / "train").glob("shard_*.npz"))
    monkeypatch.setattr(
        training, "compute_attribution_targets", compute_attribution_targets
    )
    explained.clear()
    resumed = ShortcutBenchmark(data, "lenet5", tmp_path / "killed", **options).run(
        ["impactx"], seeds=[0], log=lambda line: None
    )
    # Only the validation targets were computed again, and the run is the
    # uninterrupted one; its cache is gone once it ends.
    assert sum(explained) == len(data.validation.images)
    for split in ("validation_random", "test_random", "test_far", "test_none"):
        assert resumed["impactx/seed0"][split] == pytest.approx(
            expected["impactx/seed0"][split], abs=1e-6
        )
    assert not cache.exists()


def test_impactx_arm_reports_its_own_explanation(data, tmp_path):
    bench = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=1, batch_size=64)
    result = bench.run(["impactx"], seeds=[0], log=lambda line: None)["impactx/seed0"]
    assert 0.0 <= result["own_explanation_decoy_share"] <= 1.0
    assert result["gradcam_iou"] is None
    assert result["epochs"] == 2  # one epoch per stage
    assert 0.0 <= result["test_random"] <= 1.0


def test_patch_size_is_part_of_the_fingerprint(tmp_path, monkeypatch):
    x, y = _images(120, 0)
    small = shortcut_benchmark_data(x, y, x[:20], y[:20], "margin", 4, 20, patch_size=2)
    bench = ShortcutBenchmark(small, "mlp", tmp_path, max_epochs=1)
    bench.run(["floor"], seeds=[0], log=lambda line: None)
    large = shortcut_benchmark_data(x, y, x[:20], y[:20], "margin", 4, 20, patch_size=4)
    assert ShortcutBenchmark(large, "mlp", tmp_path, max_epochs=1).store.runs == {}
    assert ShortcutBenchmark(small, "mlp", tmp_path, max_epochs=1).store.runs != {}


def test_impactx_shap_arm_learns_partition_shap_targets(data, tmp_path, monkeypatch):
    from keras_xai.benchmarks.shortcut import training

    explainers = []

    def recording_targets(explainer, *args, **kwargs):
        explainers.append(explainer)
        return compute_attribution_targets(explainer, *args, **kwargs)

    monkeypatch.setattr(training, "compute_attribution_targets", recording_targets)
    monkeypatch.setattr(training, "SHAP_TARGET_EVALS", 20)  # the paper's is 2000
    bench = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=1, batch_size=64)
    result = bench.run(["impactx_shap"], seeds=[0], log=lambda line: None)
    run = result["impactx_shap/seed0"]
    assert run["options"]["targets"] == "shap"
    assert [type(e).__name__ for e in explainers] == ["PartitionSHAP"] * 2
    assert explainers[0].max_evals == 20
    assert 0.0 <= run["own_explanation_decoy_share"] <= 1.0


def test_faithfulness_is_measured_on_request_and_keeps_the_first_stage(data, tmp_path):
    plain = ShortcutBenchmark(data, "lenet5", tmp_path, max_epochs=1, batch_size=64)
    run = plain.run(["floor_continued"], seeds=[0], log=lambda line: None)
    assert "aopc_shap" not in run["floor_continued/seed0"]
    measured = ShortcutBenchmark(
        data, "lenet5", tmp_path, max_epochs=1, batch_size=64, faithfulness_images=6
    )
    assert measured.store.runs == {}  # measured otherwise: other results
    lines = []
    runs = measured.run(["impactx", "floor_continued"], seeds=[0], log=lines.append)
    # ... but the same first stage, trained once in the first benchmark.
    assert sum("stage 1 (seed0): reused" in line for line in lines) == 2
    assert runs["floor_continued/seed0"]["test_random"] == pytest.approx(
        run["floor_continued/seed0"]["test_random"], abs=1e-6
    )
    own = runs["impactx/seed0"]
    assert {"aopc_own", "aopc_shap", "aopc_random", "own_shap_correlation"} <= set(own)
    assert -1.0 <= own["own_shap_correlation"] <= 1.0
    assert "aopc_own" not in runs["floor_continued/seed0"]
    with pytest.raises(ValueError, match="faithfulness_images"):
        ShortcutBenchmark(data, "lenet5", tmp_path, faithfulness_images=-1)
