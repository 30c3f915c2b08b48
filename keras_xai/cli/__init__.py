"""The `keras-xai` command: train, explain, evaluate and export.

`python -m keras_xai.cli --help` works too. Each training method lives in
`keras_xai/cli/methods/` (one file per method) and registers its options
there, so a new method plugs in as a further `--method` value.
"""

from keras_xai.cli.main import main

__all__ = ["main"]
