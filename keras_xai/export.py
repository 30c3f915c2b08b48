"""SavedModel export that serves a model's outputs (class and explanation).

The SavedModel reloads with plain TensorFlow (`tf.saved_model.load`), no
keras_xai needed, and its `serve` endpoint returns the model's output dict
(for IMPACTX: `{"class": probabilities, "explanation": map}`). Both `serve`
and `serving_default` check the input's rank, per-image shape and dtype
and refuse a wrong one with an error.

On the TensorFlow and JAX backends Keras exports directly. On PyTorch the
model is saved as `.keras` (backend-neutral) and exported by a TensorFlow
subprocess: `python -m keras_xai.export model.keras out_dir`.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import keras


def export_saved_model(model, path, verbose=False):
    """Exports `model` as a TensorFlow SavedModel at `path`.

    Args:
        model: `keras.Model`. A built model (e.g. `IMPACTX`).
        path: str. Output directory.
        verbose: bool. Print Keras's export summary. Defaults to `False`.

    Returns:
        The path.

    Example:

    ```python
    export_saved_model(impactx, "impactx_savedmodel")
    # elsewhere, without keras_xai:
    outputs = tf.saved_model.load("impactx_savedmodel").serve(images)
    ```
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(
            f"`model` must be a built keras.Model. Received: {type(model).__name__}"
        )
    path = os.fspath(path)
    if importlib.util.find_spec("tensorflow") is None:
        raise ValueError(
            "SavedModel export needs TensorFlow installed "
            "(pip install 'keras-xai[tensorflow-cpu]')"
        )
    if len(model.inputs) != 1:
        raise ValueError(
            "`model` must take one input (a batch of images). Received a model "
            f"with {len(model.inputs)} inputs"
        )
    if keras.backend.backend() in ("tensorflow", "jax"):
        from keras_xai.backend.saved_model import export_checked_saved_model

        return export_checked_saved_model(model, path, verbose=verbose)
    with tempfile.TemporaryDirectory() as scratch:
        keras_file = os.path.join(scratch, "model.keras")
        model.save(keras_file)
        environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        completed = subprocess.run(
            [sys.executable, "-m", "keras_xai.export", keras_file, path],
            env=environment,
            capture_output=True,
            text=True,
        )
    if completed.returncode != 0:
        raise RuntimeError(
            "Exporting through TensorFlow failed:\n" + completed.stderr[-4000:]
        )
    return path


def _main(argv):
    if len(argv) != 2:
        print(
            "usage: python -m keras_xai.export MODEL.keras OUTPUT_DIR", file=sys.stderr
        )
        return 2
    model = keras.saving.load_model(argv[0], safe_mode=True)
    export_saved_model(model, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
