import os
import subprocess
import sys

import pytest

_PROBE = "import os, keras_xai; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"


def _import(level=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = "tensorflow"
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_hides_tensorflow_info_lines_but_not_a_user_setting():
    pytest.importorskip("tensorflow")
    quiet = _import()
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip() == "1"
    assert "cpu_feature_guard" not in quiet.stderr
    # The user's own level wins (0 shows TensorFlow's INFO lines).
    loud = _import("0")
    assert loud.stdout.strip() == "0"
