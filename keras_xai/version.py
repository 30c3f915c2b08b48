"""The keras_xai version."""

__version__ = "0.1.0"
