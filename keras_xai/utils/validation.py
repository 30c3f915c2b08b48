"""Argument validation shared by every public entry point.

Each check raises `ValueError` with a message naming the argument, what was
expected and what was received, so bad input never reaches a backend as a
silent NaN or a deep traceback.
"""

import math

import keras
import numpy as np


def to_numpy(value):
    """Converts a backend tensor, a Keras variable or an array-like to numpy."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and not hasattr(value, "detach"):
        return np.asarray(value.numpy())
    if hasattr(value, "detach"):  # torch tensors
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_image_batch(images, name="images", allow_empty=False, channels=False):
    """Validates a numeric batch of images and returns it, dtype kept.

    Args:
        images: array-like. Shape `(B, H, W)` or `(B, H, W, C)`.
        name: str. Argument name used in error messages.
        allow_empty: bool. Whether `B == 0` is accepted.
        channels: bool. Whether the channels axis is required (shape
            `(B, H, W, C)` only). Defaults to `False`.

    Returns:
        The batch as a numpy array (not copied when already one).
    """
    array = to_numpy(images)
    if channels and array.ndim != 4:
        raise ValueError(
            f"`{name}` must be a batch of channels-last images of shape "
            f"(batch, height, width, channels). Received: {name}.shape={array.shape}"
        )
    if array.ndim not in (3, 4):
        raise ValueError(
            f"`{name}` must be a batch of images of shape (N, H, W) or "
            f"(N, H, W, C). Received: {name}.shape={array.shape}"
        )
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(
            f"`{name}` is an empty batch. Received: {name}.shape={array.shape}"
        )
    if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"`{name}` must be numeric. Received: {name}.dtype={array.dtype}"
        )
    return array


def check_images(images, name="images", expected_shape=None, allow_empty=False):
    """Validates a batch of channels-last images and returns it as float32.

    Args:
        images: array-like. Expected shape `(B, H, W, C)`.
        name: str. Argument name used in error messages.
        expected_shape: tuple or `None`. `(H, W, C)` the batch must match;
            `None` entries are free.
        allow_empty: bool. Whether `B == 0` is accepted.

    Returns:
        A float32 numpy array.
    """
    array = check_image_batch(images, name, allow_empty, channels=True)
    if expected_shape is not None:
        for got, want in zip(array.shape[1:], expected_shape):
            if want is not None and got != want:
                raise ValueError(
                    f"`{name}` must have per-image shape {tuple(expected_shape)}. "
                    f"Received: {name}.shape={array.shape}"
                )
    # Checked before the cast: finite float64 values beyond float32's range
    # would become infinite in it.
    check_finite(array, name)
    if np.issubdtype(array.dtype, np.floating) and array.size:
        largest = float(np.max(np.abs(array)))
        if largest > float(np.finfo("float32").max):
            raise ValueError(
                f"`{name}` must fit in float32. Received a value of magnitude "
                f"{largest:g}"
            )
    return array.astype("float32", copy=False)


def check_real_dtype(array, name):
    """Checks that a numpy array holds real numbers (bool, int or float).

    Args:
        array: numpy array.
        name: str. Argument name used in the error message.

    Raises:
        ValueError: for complex, string, object or other dtypes.
    """
    dtype = array.dtype
    if not (
        dtype == np.bool_
        or np.issubdtype(dtype, np.integer)
        or np.issubdtype(dtype, np.floating)
    ):
        raise ValueError(
            f"`{name}` must hold real numbers. Received: {name}.dtype={dtype}"
        )


def check_finite(array, name):
    """Raises `ValueError` if `array` holds NaN or infinite values."""
    array = to_numpy(array)
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` must contain only finite values. Received {bad} NaN or "
            "infinite value(s)"
        )
    return array


def check_labels(labels, num_classes, name="labels", length=None):
    """Validates integer class indices in `[0, num_classes)`.

    Args:
        labels: array-like of ints, shape `(B,)`.
        num_classes: int. Number of classes.
        name: str. Argument name used in error messages.
        length: int or `None`. The number of labels expected.

    Returns:
        An int32 numpy array of shape `(B,)`.
    """
    array = to_numpy(labels)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(
            f"`{name}` must be one class index per image, shape (batch,). "
            f"Received: {name}.shape={array.shape}"
        )
    if length is not None and array.shape[0] != length:
        raise ValueError(
            f"`{name}` must have one entry per image ({length}). "
            f"Received {array.shape[0]}"
        )
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.floating):
            raise ValueError(
                f"`{name}` must hold integer class indices. Received dtype "
                f"{array.dtype}"
            )
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(
                f"`{name}` must hold integer class indices. Received dtype "
                f"{array.dtype} with non-integer values"
            )
        if np.any(np.abs(array) >= 2.0**62):
            raise ValueError(
                f"`{name}` must be class indices in [0, {num_classes}). "
                f"Received values in [{array.min():g}, {array.max():g}]"
            )
    array = array.astype("int64")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"`{name}` must be class indices in [0, {num_classes}). "
            f"Received values in [{array.min()}, {array.max()}]"
        )
    return array.astype("int32")


def check_positive_int(value, name, minimum=1):
    """Raises `ValueError` unless `value` is an int `>= minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value}")
    return int(value)


def check_num_classes(num_classes):
    """Validates a classifier's number of classes: a Python int `>= 2`.

    A bool, a float or a NumPy integer is refused, so configs hold plain
    ints (`ImageClassifier`, `AttentionBranch`).

    Args:
        num_classes: the argument's value.

    Returns:
        `num_classes`, unchanged.

    Raises:
        ValueError: quoting the value received, unless it is an int `>= 2`.

    Example:

    ```python
    check_num_classes(10)  # 10
    check_num_classes(1)   # ValueError: `num_classes` must be an int >= 2. ...
    ```
    """
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, int)
        or num_classes < 2
    ):
        raise ValueError(
            f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}"
        )
    return num_classes


def check_model(model, name="model"):
    """Raises `ValueError` unless `model` is a `keras.Model`; returns it.

    Args:
        model: the argument's value.
        name: str. Argument name used in the error message. Defaults to
            `"model"`.

    Returns:
        `model`, unchanged.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"`{name}` must be a keras.Model. Received: {type(model).__name__}"
        )
    return model


def check_number(
    value,
    name,
    low=None,
    high=None,
    low_inclusive=True,
    high_inclusive=True,
):
    """Validates a finite real number, optionally within bounds.

    The one check behind every "a number in a range" argument of the
    library (weights, fractions, floors, steps, temperatures, ...).

    Args:
        value: the argument's value.
        name: str. Argument name used in error messages.
        low: number or `None`. Lower bound (`None`: unbounded).
        high: number or `None`. Upper bound (`None`: unbounded).
        low_inclusive: bool. Whether `low` itself is accepted.
        high_inclusive: bool. Whether `high` itself is accepted.

    Returns:
        `value` as a Python float.

    Raises:
        ValueError: naming `name`, for a bool or non-number, a NaN or
            infinite value, or a value outside the bounds.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    number = float(value)
    if low is not None and high is not None:
        expected = (
            f"in {'[' if low_inclusive else '('}{low:g}, "
            f"{high:g}{']' if high_inclusive else ')'}"
        )
    elif low is not None:
        expected = f"a finite number {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        expected = f"a finite number {'<=' if high_inclusive else '<'} {high:g}"
    else:
        expected = "a finite number"
    below = low is not None and (number < low or (number == low and not low_inclusive))
    above = high is not None and (
        number > high or (number == high and not high_inclusive)
    )
    if not math.isfinite(number) or below or above:
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={value}")
    return number


def data_parallel_devices():
    """Devices the batch is split over by the Keras distribution, or 1.

    Reads `keras.distribution.distribution()` (set by
    `keras.distribution.set_distribution`, e.g. `DataParallel`): the size
    of its device mesh along the batch dimension. 1 when no distribution
    is set (a `tf.distribute` strategy splits uneven batches itself).
    """
    distribution = keras.distribution.distribution()
    mesh = getattr(distribution, "device_mesh", None)
    name = getattr(distribution, "batch_dim_name", None)
    if mesh is None or name not in list(mesh.axis_names):
        return 1
    return int(mesh.shape[list(mesh.axis_names).index(name)])


def check_batch_for_devices(x, batch_size, validation_split=0.0):
    """Checks that every batch of `fit` splits evenly over the devices.

    Under a Keras distribution (JAX's `DataParallel`) each batch is cut
    into one equal share per device; a batch that does not divide stops
    training with a sharding error deep in the backend, possibly at the
    last batch of an epoch. With in-memory `x`, both the batch size and
    the epoch's last, shorter batch are checked before training starts.

    Args:
        x: what `fit` received: an array, a dict/list of arrays, or
            anything else (a dataset: not checked, its batches are its own).
        batch_size: int or `None` (Keras's default of 32 for arrays).
        validation_split: float. `fit`'s; when set, Keras trains on fewer
            rows, so only the batch size is checked. Defaults to `0.0`.

    Raises:
        ValueError: naming `batch_size` and the device count.
    """
    devices = data_parallel_devices()
    if devices <= 1:
        return
    leaves = list(x.values()) if isinstance(x, dict) else x
    if isinstance(leaves, (list, tuple)) and leaves:
        leaves = leaves[0]
    if not hasattr(leaves, "shape") or not len(getattr(leaves, "shape", ())):
        return
    size = 32 if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return  # Keras's own check of `batch_size` reports it
    rows = int(leaves.shape[0])
    if size % devices:
        raise ValueError(
            f"`batch_size` must be a multiple of the {devices} devices the "
            f"Keras distribution splits each batch over. Received: "
            f"batch_size={batch_size!r}"
        )
    last = rows % size
    if not validation_split and last % devices:
        raise ValueError(
            f"The last batch of the epoch ({rows} samples in batches of "
            f"{size}: {last} left) does not split over the {devices} "
            "devices of the Keras distribution. Choose a `batch_size` for "
            f"which the remainder is a multiple of {devices}, or drop "
            f"{last % devices} sample(s)."
        )
