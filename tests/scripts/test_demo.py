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
def test_demo_trains_explains_and_saves_on_digits(tmp_path, capsys):
    demo = _load_demo()
    accuracy = demo.main(
        ["--data", "digits", "--epochs", "4", "--output-dir", str(tmp_path)]
    )
    output = capsys.readouterr().out
    assert "test accuracy (digits" in output
    assert accuracy > 0.3  # chance is 0.1
    assert os.path.getsize(tmp_path / "gradcam_test_images.png") > 1000
    assert os.path.isfile(tmp_path / "lenet5.keras")


def test_demo_rejects_bad_arguments(capsys):
    demo = _load_demo()
    with pytest.raises(SystemExit) as info:
        demo.main(["--epochs", "0"])
    assert info.value.code == 2
    assert "--epochs must be >= 1" in capsys.readouterr().err
