"""Test configuration: backend selection, markers and skips with reasons.

The backend comes from `KERAS_BACKEND` (default tensorflow). When that
backend's framework is not installed, every test is skipped with a reason
instead of failing at `import keras` or passing silently.
"""

import importlib.util
import os

import pytest

_BACKEND = os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_MISSING = _BACKEND in _BACKEND_MODULES and (
    importlib.util.find_spec(_BACKEND_MODULES[_BACKEND]) is None
)

FASHION_MNIST_DIR = os.environ.get(
    "KERAS_XAI_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"
)


def pytest_ignore_collect(collection_path, config):
    # Test modules import keras, which cannot load a missing backend; only
    # the availability check below is collected so the run reports a skip.
    if _MISSING and collection_path.name != "test_backend_available.py":
        return collection_path.suffix == ".py"
    return None


def pytest_report_header(config):
    return f"keras backend: {_BACKEND}" + (" (NOT INSTALLED)" if _MISSING else "")


def pytest_collection_modifyitems(config, items):
    if _MISSING:
        skip = pytest.mark.skip(
            reason=f"KERAS_BACKEND={_BACKEND} but {_BACKEND} is not installed"
        )
        for item in items:
            item.add_marker(skip)
        return
    have_fmnist = os.path.isfile(
        os.path.join(FASHION_MNIST_DIR, "train-labels-idx1-ubyte.gz")
    ) or os.path.isfile(os.path.join(FASHION_MNIST_DIR, "train-labels-idx1-ubyte"))
    skip_fmnist = pytest.mark.skip(
        reason=f"Fashion-MNIST IDX files not found in {FASHION_MNIST_DIR} "
        "(apt-get install dataset-fashion-mnist)"
    )
    for item in items:
        if "requires_fashion_mnist" in item.keywords and not have_fmnist:
            item.add_marker(skip_fmnist)
