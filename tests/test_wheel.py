"""keras_xai as users install it: the wheel and the sdist build, and the
installed wheel — not this checkout — runs `keras-xai --help` and explains.

The build runs on a copy of the sources (`python -m build --no-isolation`,
so nothing is downloaded and the checkout gets no build directories). The
wheel is installed with `--no-deps` into its own directory, which is put
first on the path of a subprocess that finds the dependencies in this
environment: a module or entry point missing from the wheel fails here.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytest.importorskip("build", reason="the `build` package is not installed (extra test)")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """Builds the sdist and the wheel from a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "keras_xai",
        source / "keras_xai",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _sources():
    return sorted(
        str(path.relative_to(ROOT)).replace(os.sep, "/")
        for path in (ROOT / "keras_xai").rglob("*.py")
    )


def test_wheel_and_sdist_hold_every_module(dist):
    (wheel,) = dist.glob("keras_xai-*.whl")
    (sdist,) = dist.glob("keras_xai-*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "keras-xai = keras_xai.cli.main:main" in archive.read(
            entry_points
        ).decode("utf-8")
    assert set(_sources()) <= names, sorted(set(_sources()) - names)
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert set(_sources()) <= members


def test_installed_wheel_runs_the_command_and_explains(dist, tmp_path):
    (wheel,) = dist.glob("keras_xai-*.whl")
    target = tmp_path / "installed"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(target), TF_CPP_MIN_LOG_LEVEL="3")
    script = target / "bin" / "keras-xai"
    assert script.exists()
    help_run = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert help_run.returncode == 0, help_run.stderr[-3000:]
    assert "train" in help_run.stdout and "explain" in help_run.stdout
    explain = subprocess.run(
        [sys.executable, "-c", (
            "import numpy as np, keras_xai\n"
            "from keras_xai.applications import ImageClassifier\n"
            "from keras_xai.explainers import GradCAM\n"
            "print(keras_xai.__file__)\n"
            "model = ImageClassifier('lenet5', (28, 28, 1), 3)\n"
            "maps = GradCAM(model)(np.random.rand(2, 28, 28, 1).astype('float32'))\n"
            "print(maps.shape, bool(np.isfinite(maps).all()))\n"
        )],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert explain.returncode == 0, explain.stderr[-3000:]
    location, result = explain.stdout.strip().splitlines()[-2:]
    assert location.startswith(str(target)), location  # the wheel, not the checkout
    assert result == "(2, 28, 28) True"
