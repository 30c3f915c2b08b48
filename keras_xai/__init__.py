"""keras_xai: explanation-guided training and self-explaining classifiers
for Keras 3 (TensorFlow, JAX and PyTorch backends)."""

import os

# TensorFlow's C++ start-up INFO lines (CPU features, absl's preamble) would
# otherwise open every run of `keras-xai` and every script. Only INFO is
# hidden (level 1: warnings and errors still show), only if TensorFlow is
# not imported yet, and a value the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from keras_xai import (  # noqa: E402
    applications,
    backend,
    benchmarks,
    datasets,
    explainers,
    layers,
    losses,
    metrics,
    training,
    visualization,
)
from keras_xai.version import __version__

__all__ = [
    "__version__",
    "applications",
    "backend",
    "benchmarks",
    "datasets",
    "explainers",
    "layers",
    "losses",
    "metrics",
    "training",
    "visualization",
]
