"""Views of a classifier that every script and metric can treat alike."""

import weakref

import keras
import numpy as np

from keras_xai.utils.validation import check_images, check_positive_int

_CLASS_MODELS = weakref.WeakKeyDictionary()


def class_model(model):
    """Returns `model` itself or its image → class-probabilities sub-model.

    Self-explaining models (`IMPACTX`, `ABN`) output a dict with a `"class"`
    entry; explainers and metrics need a single-output classifier whose
    last layer is a softmax. The sub-model shares the weights.

    Args:
        model: `keras.Model`. A single-output classifier or a functional
            model whose output dict has a `"class"` entry.

    Returns:
        A single-output `keras.Model`.

    Example:

    ```python
    GradCAM(class_model(impactx))(images)
    ```
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"`model` must be a keras.Model. Received: {type(model).__name__}"
        )
    output = getattr(model, "output", None)
    if isinstance(output, dict):
        if "class" not in output:
            raise ValueError(
                "`model` outputs a dict without a 'class' entry. Received "
                f"outputs {sorted(output)}"
            )
        # One sub-model per model, so Keras traces its predict function once.
        if model not in _CLASS_MODELS:
            _CLASS_MODELS[model] = keras.Model(
                model.inputs[0], output["class"], name=f"{model.name}_class"
            )
        return _CLASS_MODELS[model]
    return model


def has_own_explanation(model):
    """Whether `model` outputs its own `"explanation"` map (IMPACTX, ABN)."""
    output = getattr(model, "output", None)
    return isinstance(output, dict) and "explanation" in output


def predict_outputs(model, images, batch_size=256):
    """Class probabilities and, if the model has one, its own explanation.

    Args:
        model: `keras.Model`. A classifier or a self-explaining model.
        images: array-like `(N, H, W, C)`.
        batch_size: int. Defaults to 256.

    Returns:
        Tuple `(probabilities (N, K), explanations (N, H, W) or None)`.
    """
    images = check_images(images, expected_shape=model.inputs[0].shape[1:])
    batch_size = check_positive_int(batch_size, "batch_size")
    outputs = model.predict(images, batch_size=batch_size, verbose=0)
    if isinstance(outputs, dict):
        explanation = outputs.get("explanation")
        return np.asarray(outputs["class"]), (
            None if explanation is None else np.asarray(explanation)
        )
    return np.asarray(outputs), None
