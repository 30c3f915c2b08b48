"""Reports, as a skip with a reason, a backend that is not installed."""

import importlib.util
import os

import pytest

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def test_keras_runs_on_the_requested_backend():
    if importlib.util.find_spec(BACKEND) is None:
        pytest.skip(f"KERAS_BACKEND={BACKEND} but {BACKEND} is not installed")
    import keras

    assert keras.backend.backend() == BACKEND
