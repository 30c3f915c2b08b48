"""TensorFlow implementation of the keras_xai gradient core."""

import contextlib

import tensorflow as tf


def value_and_grad(fn, x):
    """Value of `fn(x)` and gradient of `sum(fn(x))` with respect to `x`.

    A nested `tf.GradientTape` records onto any enclosing tape (the trainer's
    during `fit`), so the gradient is differentiable again.

    The contract is the one of every backend (`keras_xai.backend`): `fn`
    and `x` as for `keras_xai.backend.grad`; returns `(fn(x), gradient)`,
    the gradient shaped like `x`.
    """
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
        total = tf.reduce_sum(tf.cast(value, tf.float32))
    gradient = tape.gradient(
        total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO
    )
    return value, gradient


def compile_function(fn, variables):
    """Compiles `fn` once per input signature; variables are read live.

    Args:
        fn: callable of tensors.
        variables: list of Keras variables `fn` reads (unused here:
            `tf.function` reads variables at call time).

    Returns:
        A callable with the signature of `fn`.
    """
    del variables
    return tf.function(fn, reduce_retracing=True)


def no_grad():
    """Context in which the caller's operations are not recorded (a no-op:
    nothing is recorded outside an explicit tape/transformation here)."""
    return contextlib.nullcontext()


def replicas_in_sync():
    """How many replicas add up their gradients (1 outside `tf.distribute`).

    Under a `tf.distribute` strategy every replica computes the loss of its
    share of the global batch and the gradients are summed, so a loss that
    averages over the local batch must be divided by this number to train
    like one device on the global batch (what Keras's own losses do).
    """
    return tf.distribute.get_strategy().num_replicas_in_sync
