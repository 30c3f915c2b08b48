"""JAX implementation of the keras_xai gradient core."""

import contextlib

import jax
import jax.numpy as jnp


def value_and_grad(fn, x):
    """Value of `fn(x)` and gradient of `sum(fn(x))` with respect to `x`.

    `jax.vjp` composes with any enclosing transformation (the trainer's
    `jax.value_and_grad` during `fit`, `jax.jit`, another `grad`), so the
    gradient is differentiable again. `fn` must not update Keras state
    (call models with `training=False`): a state update made under this
    transformation would leak a tracer.

    The contract is the one of every backend (`keras_xai.backend`): `fn`
    and `x` as for `keras_xai.backend.grad`; returns `(fn(x), gradient)`,
    the gradient shaped like `x`.
    """
    x = jnp.asarray(x)
    value, vjp = jax.vjp(fn, x)
    (gradient,) = vjp(jnp.ones_like(value))
    return value, gradient


def compile_function(fn, variables):
    """`jax.jit` of `fn` with the variables passed in, never baked in.

    A plain `jax.jit` would freeze the weights it sees when tracing; here
    the current values of `variables` are arguments of the compiled
    function (through a Keras `StatelessScope`), so later training is seen.

    Args:
        fn: callable of arrays; it may call Keras models.
        variables: list of the Keras variables `fn` reads.

    Returns:
        A callable with the signature of `fn`.
    """
    import keras

    variables = list(variables)

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)

    jitted = jax.jit(pure)

    def call(*args):
        return jitted([v.value for v in variables], *args)

    return call


def no_grad():
    """Context in which the caller's operations are not recorded (a no-op:
    nothing is recorded outside an explicit tape/transformation here)."""
    return contextlib.nullcontext()


def replicas_in_sync():
    """How many replicas add up their gradients: 1 (Keras's distribution on
    this backend computes the loss over the global batch)."""
    return 1
