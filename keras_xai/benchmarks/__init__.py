"""Benchmarks that measure what explanation-guided training changes."""

from keras_xai.benchmarks import shortcut

__all__ = ["shortcut"]
