"""Backend-specific code: the only part of keras_xai that imports a framework.

Like `keras/src/backend/__init__.py`, this module imports exactly one of
`tensorflow.py`, `jax.py` or `torch.py` (the backend Keras runs on) and each
defines the same public functions:

- `value_and_grad(fn, x)`: `fn(x)` and the gradient of `sum(fn(x))` with
  respect to `x` from a single forward pass, the gradient itself
  differentiable (second order) on every backend.
- `compile_function(fn, variables)`: `fn` compiled once per input signature
  (`tf.function`, `jax.jit` with the variables as arguments, eager torch),
  always reading the variables' current values.
- `no_grad()`: a context that records nothing for autograd (torch), so
  explainers run without keeping graphs.
- `replicas_in_sync()`: how many replicas sum their gradients (a
  `tf.distribute` strategy's replica count on TensorFlow, else 1): a
  `compute_loss` override that averages over its local batch divides by it,
  as Keras's own losses do.

`grad(fn, x)`, the gradient alone, is written once here on top of
`value_and_grad`. Both work eagerly, inside a `Model.compute_loss` override
during `fit` (TF under the trainer's `GradientTape`, JAX under
`jax.value_and_grad` in a stateless scope, torch under autograd) and under
`predict`/no-grad contexts.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from keras_xai.backend.tensorflow import (
        compile_function,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
elif _BACKEND == "jax":
    from keras_xai.backend.jax import (
        compile_function,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
elif _BACKEND == "torch":
    from keras_xai.backend.torch import (
        compile_function,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
else:  # pragma: no cover - keras itself rejects other names first
    raise ValueError(
        "keras_xai supports the tensorflow, jax and torch Keras backends. "
        f"Received: KERAS_BACKEND={_BACKEND!r}"
    )


def grad(fn, x):
    """Gradient of `sum(fn(x))` with respect to `x` (differentiable again).

    The gradient half of the backend's `value_and_grad`, so it holds on
    every backend wherever `value_and_grad` does (eagerly, in
    `compute_loss` during `fit`, under `predict`, nested for second order).

    Args:
        fn: callable. Maps a tensor like `x` to a tensor of any shape.
        x: tensor or array. The point at which to differentiate.

    Returns:
        A tensor shaped like `x`.

    Example:

    ```python
    g = grad(lambda t: keras.ops.sum(t**2, axis=1), x)  # 2 * x
    ```
    """
    return value_and_grad(fn, x)[1]


def backend():
    """Returns the name of the Keras backend keras_xai runs on."""
    return _BACKEND


__all__ = [
    "backend",
    "compile_function",
    "grad",
    "no_grad",
    "replicas_in_sync",
    "value_and_grad",
]
