"""Quick modes of the reproduction scripts, end to end on scikit-learn digits.

The numbers of a quick run mean nothing; these tests check that each script
trains, measures, resumes from its results file and writes its plots.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

_SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "..", "scripts")


def _load(name):
    path = os.path.join(_SCRIPTS, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"keras_xai_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _saved(path):
    with open(path) as file:
        return json.load(file)


@pytest.mark.large
def test_impactx_reproduction(tmp_path, capsys):
    script = _load("reproduce_impactx")
    out = str(tmp_path)
    script.main(["--quick", "--data", "digits", "--output-dir", out])
    saved = _saved(tmp_path / "results.json")
    for key in ("stage1/0", "baseline/0", "impactx_gradcam/0", "impactx_shap/0"):
        assert 0.0 <= saved["runs"][key]["accuracy"] <= 1.0
    assert "aopc_own" in saved["runs"]["abn/0"]
    assert set(saved["table"]) >= {"baseline", "impactx_shap", "abn"}
    for png in ("morf_curves.png", "lambda_sweep.png", "example_explanations.png"):
        assert os.path.isfile(tmp_path / png)
    # A rerun finds every measurement and trains nothing.
    capsys.readouterr()
    script.main(["--quick", "--data", "digits", "--output-dir", out])
    assert "trained" not in capsys.readouterr().out


@pytest.mark.large
def test_segment_overlap_reproduction(tmp_path):
    script = _load("reproduce_segment_overlap")
    methods = ["ceiling", "floor", "ce_so_blur", "rrr"]
    script.main(
        ["--quick", "--data", "digits", "--no-sweeps", "--output-dir", str(tmp_path)]
        + ["--methods", *methods, "--views", "2"]
    )
    saved = _saved(tmp_path / "results.json")
    assert {f"lenet5/{m}/0" for m in methods} <= set(saved["runs"])
    assert set(saved["table"]) == {f"lenet5/{m}" for m in methods}
    assert os.path.isfile(tmp_path / "gradcam_lenet5_floor.png")


@pytest.mark.large
def test_consistency_reproduction(tmp_path):
    script = _load("reproduce_consistency")
    script.main(["--quick", "--data", "digits", "--output-dir", str(tmp_path)])
    saved = _saved(tmp_path / "results.json")
    for method in ("none", "hnm", "focal", "consistency"):
        assert 0.0 <= saved["runs"][f"lenet5/{method}/0"]["accuracy"] <= 1.0
    # Reweighting runs record how concentrated each round's weights are.
    rounds = saved["runs"]["lenet5/hnm/0"]["weight_rounds"]
    assert rounds and 0.0 < rounds[-1]["ess"] <= 1.0
    assert "weight_rounds" not in saved["runs"]["lenet5/none/0"]
    shares = saved["runs"]["debias/scale/consistency"]["unbiased_share_top20"]
    assert len(shares) == 2 and all(0.0 <= s <= 1.0 for s in shares)
    assert os.path.isfile(tmp_path / "debiasing_scale.png")
    assert os.path.isfile(tmp_path / "diagnostics_lenet5" / "weight_histograms.png")


@pytest.mark.large
def test_focus_during_training(tmp_path):
    script = _load("focus_during_training")
    for setting in ("ten_class", "two_class"):
        script.main(["--quick", "--setting", setting, "--output-dir", str(tmp_path)])
    saved = _saved(tmp_path / "results.json")
    run = saved["runs"]["two_class/lenet5/0"]
    assert run["classes"] == [1, 8]
    # Epoch 0 (untrained) and then one checkpoint per epoch trained.
    epochs = [c["epoch"] for c in run["checkpoints"]]
    assert epochs == list(range(len(epochs))) and len(epochs) >= 2
    for checkpoint in run["checkpoints"]:
        assert set(checkpoint) >= {"accuracy", "GradCAM", "LRP", "random"}
        assert 0.0 <= checkpoint["GradCAM"]["median"] <= 1.0
    # The control ignores the model: the same score at every checkpoint.
    assert len({c["random"]["median"] for c in run["checkpoints"]}) == 1
    assert os.path.isfile(tmp_path / "focus_vs_accuracy_two_class.png")
    table = _saved(tmp_path / "correlations_ten_class_lenet5.json")["methods"]
    assert "pearson" not in table["random"]
    # A rerun trains nothing: every run is stored.
    store = script.main(["--quick", "--output-dir", str(tmp_path)])
    assert set(store.runs) == {"ten_class/lenet5/0", "two_class/lenet5/0"}


def test_focus_during_training_correlations():
    script = _load("focus_during_training")

    def result(accuracies, medians):
        return {
            "checkpoints": [
                {"accuracy": a, "GradCAM": {"median": m}}
                for a, m in zip(accuracies, medians)
            ]
        }

    runs = [
        result([0.1, 0.5, 0.8, 0.9], [0.5, 0.6, 0.7, 0.8]),
        result([0.1, 0.6, 0.85], [0.5, 0.55, 0.52]),
    ]
    table = script.correlations(runs, "GradCAM")
    assert table["checkpoints"] == 7
    assert table["spearman_per_run"] == pytest.approx([1.0, 0.5])
    assert 0.0 < table["pearson"] < 1.0
    flat = [result([0.1, 0.5, 0.9], [0.5, 0.5, 0.5])]
    assert script.correlations(flat, "GradCAM") is None


@pytest.mark.large
def test_ensembles_reproduction(tmp_path):
    script = _load("reproduce_ensembles")
    script.main(["--quick", "--data", "digits", "--output-dir", str(tmp_path)])
    saved = _saved(tmp_path / "results.json")
    for strategy in ("random_heads", "kfold", "bagging"):
        methods = saved["runs"][f"ensemble/{strategy}"]["methods"]
        assert set(methods) == {
            "GradCAM",
            "Saliency",
            "IntegratedGradients",
            "GradientSHAP",
        }
        assert len(methods["GradCAM"]["iou_by_size"]) == 2
    assert 0.0 <= saved["runs"]["multitask"]["attribute_accuracy"] <= 1.0
    assert os.path.isfile(tmp_path / "iou_by_size_bagging.png")


def test_consistency_weight_statistics():
    script = _load("reproduce_consistency")
    uniform = script.weight_statistics(np.ones(200))
    assert uniform["ess"] == pytest.approx(1.0)
    assert uniform["top1_share"] == pytest.approx(0.01)
    assert uniform["below_0.05"] == 0.0
    # One sample holding all the weight: an effective sample size of 1 / N.
    spike = script.weight_statistics(np.r_[np.zeros(199), 1.0])
    assert spike["ess"] == pytest.approx(1 / 200)
    assert spike["top1_share"] == 1.0 and spike["below_0.05"] == 0.995
    assert script.weight_statistics(np.zeros(5))["ess"] == 0.0


def test_consistency_top_fifth_breaks_ties_by_distance():
    script = _load("reproduce_consistency")
    weights = np.array([1.0, 0.2, 1.0, 1.0, 0.9, 1.0, 0.1, 0.3, 1.0, 0.5])
    distances = np.array([0.1, 0.2, 0.7, 0.3, 0.9, 0.7, 0.1, 0.3, 0.9, 0.5])
    # Five samples tie at weight 1: the two of the top fifth are those with
    # the largest D (index 8, then index 2 before index 5 on equal D).
    np.testing.assert_array_equal(script.top_fifth(weights, distances), [8, 2])
    np.testing.assert_array_equal(script.top_fifth(weights), [0, 2])


@pytest.mark.large
def test_ensembles_protocol(tmp_path):
    script = _load("ensembles_protocol")
    store = script.main(["--quick", "--output-dir", str(tmp_path)])
    run = store.get("bagging/seed0")
    assert set(run["accuracy"]) == {"ensemble", "mean_member", "single"}
    gradcam = run["methods"]["GradCAM"]
    assert set(gradcam["means"]) == {"ens_avg", "mean_member", "single"}
    assert 0.0 <= gradcam["means"]["single"]["iou"] <= 1.0
    test = gradcam["ens_vs"]["single"]["com_distance"]
    assert test["images"] == 16 and 0.0 <= test["ens_better_share"] <= 1.0
    # Resumed: a rerun trains nothing and reports the same runs.
    again = script.main(["--quick", "--output-dir", str(tmp_path)])
    # (Compared as JSON: a p-value may be NaN, which never equals itself.)
    assert json.dumps(again.runs, sort_keys=True) == json.dumps(
        store.runs, sort_keys=True
    )


def test_ensembles_protocol_paired_test():
    script = _load("ensembles_protocol")
    rng = np.random.default_rng(0)
    other = rng.random(50)
    better = script.paired(other + 0.1, other, higher_is_better=True)
    assert better["mean_difference"] == pytest.approx(0.1)
    assert better["ens_better_share"] == 1.0 and better["wilcoxon_p"] < 1e-6
    # For a distance, lower is better.
    closer = script.paired(other - 0.1, other, higher_is_better=False)
    assert closer["ens_better_share"] == 1.0
    assert np.isnan(script.paired([1.0], [1.0], True)["wilcoxon_p"])
