"""Test helpers for keras_xai and for code built on it (needs pytest)."""

from keras_xai.testing.test_case import TestCase

__all__ = ["TestCase"]
