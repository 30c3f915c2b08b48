import importlib.util
import json
import os

import pytest

_SCRIPT = os.path.join(
    os.path.dirname(__file__), "..", "..", "scripts", "reproduce_focus.py"
)


def _load_script():
    spec = importlib.util.spec_from_file_location("keras_xai_reproduce_focus", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.large
def test_quick_run_writes_results_and_plots(tmp_path, capsys):
    script = _load_script()
    results = script.main(
        ["--data", "digits", "--quick", "--seed", "1", "--output-dir", str(tmp_path)]
    )
    output = capsys.readouterr().out
    assert "| model | method | trained median" in output

    with open(tmp_path / "results.json") as file:
        saved = json.load(file)
    assert saved["settings"]["quick"] and saved["settings"]["data"] == "digits"
    assert saved["settings"]["methods"] == ["GradCAM", "LRP", "SmoothGrad"]
    assert set(saved["focus"]) == {"lenet5_gap", "vgg_small"}
    for name, states in saved["focus"].items():
        assert set(states) == {"trained", "random"}
        for per_method in states.values():
            assert set(per_method) == {"GradCAM", "LRP", "SmoothGrad"}
            for stats in per_method.values():
                assert 0.0 <= stats["median"] <= 1.0
                assert 0.0 <= stats["mean"] <= 1.0
                low, high = stats["median_ci95"]
                assert low <= stats["median"] <= high
                assert stats["n"] == saved["settings"]["num_mosaics"]
        accuracy = saved["models"][name]["test_accuracy"]
        assert 0.0 <= accuracy["random"] <= 1.0 and 0.0 <= accuracy["trained"] <= 1.0
        curve = saved["randomization"][name]
        # "original" then one step per layer with weights, output side first.
        assert curve["layers"][0] == "original" and curve["layers"][1] == "logits"
        assert (
            len(curve["layers"])
            == len(saved["models"][name]["layers_with_weights"]) + 1
        )
        draws = curve["top_layer_draws"]
        assert draws["layer"] == "logits" and draws["seeds"] == [1, 2]
        for method in ("GradCAM", "LRP"):
            steps = curve["methods"][method]
            assert len(steps["median"]) == len(steps["empty_maps"])
            assert len(steps["median"]) == len(curve["layers"])
            # The first draw (seed 1) is the cascade's first step.
            medians = draws["methods"][method]["median"]
            assert len(medians) == 2
            assert medians[0] == pytest.approx(steps["median"][1], abs=1e-6)
    assert saved["checks"] and all(
        isinstance(c["holds"], bool) for c in saved["checks"]
    )
    assert results["timings_seconds"]["total"] > 0
    for name in ("focus_trained.png", "focus_random.png", "randomization.png"):
        assert os.path.getsize(tmp_path / name) > 5000


def test_rejects_bad_arguments(capsys):
    script = _load_script()
    with pytest.raises(SystemExit) as info:
        script.main(["--num-mosaics", "0"])
    assert info.value.code == 2
    assert "--num-mosaics must be >= 1" in capsys.readouterr().err


def test_quick_lowers_defaults_and_explicit_flags_win():
    script = _load_script()
    full = script.parse_args([])
    assert full.num_mosaics == 500 and full.epochs == 3
    assert full.methods == list(script.ALL_METHODS)
    assert full.output_dir == os.path.join("applications", "focus_metric")
    quick = script.parse_args(["--quick", "--epochs", "2"])
    assert quick.epochs == 2 and quick.num_mosaics == script.QUICK["num_mosaics"]
    assert quick.methods == ["GradCAM", "LRP", "SmoothGrad"]
