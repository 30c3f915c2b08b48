"""Backend-specific code: the only part of keras_xai that imports a framework.

Like `keras/src/backend/__init__.py`, this module imports exactly one of
`tensorflow.py`, `jax.py` or `torch.py` (the backend Keras runs on) and each
defines the same public functions:

- `grad(fn, x)`: gradient of `sum(fn(x))` with respect to `x`, itself
  differentiable (second order) on every backend.
- `value_and_grad(fn, x)`: `(fn(x), grad(fn, x))` from a single forward pass.
- `compile_function(fn, variables)`: `fn` compiled once per input signature
  (`tf.function`, `jax.jit` with the variables as arguments, eager torch),
  always reading the variables' current values.
- `no_grad()`: a context that records nothing for autograd (torch), so
  explainers run without keeping graphs.
- `replicas_in_sync()`: how many replicas sum their gradients (a
  `tf.distribute` strategy's replica count on TensorFlow, else 1): a
  `compute_loss` override that averages over its local batch divides by it,
  as Keras's own losses do.

Both work eagerly, inside a `Model.compute_loss` override during `fit` (TF
under the trainer's `GradientTape`, JAX under `jax.value_and_grad` in a
stateless scope, torch under autograd) and under `predict`/no-grad contexts.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from keras_xai.backend.tensorflow import (
        compile_function,
        grad,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
elif _BACKEND == "jax":
    from keras_xai.backend.jax import (
        compile_function,
        grad,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
elif _BACKEND == "torch":
    from keras_xai.backend.torch import (
        compile_function,
        grad,
        no_grad,
        replicas_in_sync,
        value_and_grad,
    )
else:  # pragma: no cover - keras itself rejects other names first
    raise ValueError(
        "keras_xai supports the tensorflow, jax and torch Keras backends. "
        f"Received: KERAS_BACKEND={_BACKEND!r}"
    )


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
