import importlib.util
import os

import pytest

_DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "demo.py")


def _load_demo():
    spec = importlib.util.spec_from_file_location("keras_xai_demo", _DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.large
def test_demo_trains_impactx_explains_and_exports_on_digits(tmp_path, capsys):
    demo = _load_demo()
    scores = demo.main(
        [
            "--data",
            "digits",
            "--stage1-epochs",
            "3",
            "--stage2-epochs",
            "2",
            "--output-dir",
            str(tmp_path),
        ]
    )
    output = capsys.readouterr().out
    assert "test accuracy on digits" in output
    assert len(scores) == 3 and min(scores.values()) > 0.3  # chance is 0.1
    assert os.path.getsize(tmp_path / "impactx_explanations.png") > 1000
    assert os.path.isfile(tmp_path / "impactx_savedmodel" / "saved_model.pb")
    assert os.path.isfile(tmp_path / "impactx_preset" / "model.weights.h5")


def test_demo_rejects_bad_arguments(capsys):
    demo = _load_demo()
    with pytest.raises(SystemExit) as info:
        demo.main(["--stage2-epochs", "0"])
    assert info.value.code == 2
    assert "--stage2-epochs must be >= 1" in capsys.readouterr().err
