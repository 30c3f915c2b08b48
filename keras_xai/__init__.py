"""keras_xai: explanation-guided training and self-explaining classifiers
for Keras 3 (TensorFlow, JAX and PyTorch backends)."""

from keras_xai import (
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
