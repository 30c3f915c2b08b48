"""PyTorch implementation of the keras_xai gradient core."""

import keras
import torch


def value_and_grad(fn, x):
    """Value of `fn(x)` and gradient of `sum(fn(x))` with respect to `x`.

    Gradients are enabled locally, so this also works under `predict`
    (which runs in `torch.no_grad()`). When the caller records gradients
    (training, or an outer `grad`), the graph of the gradient is kept
    (`create_graph=True`) so it is differentiable again; otherwise the
    result is detached.

    The contract is the one of every backend (`keras_xai.backend`): `fn`
    and `x` as for `keras_xai.backend.grad`; returns `(fn(x), gradient)`,
    the gradient shaped like `x`.
    """
    outer_records = torch.is_grad_enabled()
    x = keras.ops.convert_to_tensor(x)
    with torch.enable_grad():
        if not x.requires_grad:
            # A leaf we may differentiate with respect to; nothing upstream.
            x = x.detach().requires_grad_(True)
        value = fn(x)
        total = value.float().sum()
        gradient = None
        if total.requires_grad:
            (gradient,) = torch.autograd.grad(
                total, x, create_graph=outer_records, allow_unused=True
            )
    if gradient is None:  # `fn` does not depend on `x`
        gradient = torch.zeros_like(x)
    if not outer_records:
        value = value.detach()
        gradient = gradient.detach()
    return value, gradient


def compile_function(fn, variables):
    """Returns `fn` unchanged: torch runs eagerly (no tracing on the CPU).

    Args:
        fn: callable of tensors.
        variables: list of Keras variables `fn` reads (unused).

    Returns:
        `fn`.
    """
    del variables
    return fn


def no_grad():
    """Context in which the caller's operations are not recorded for autograd.

    `grad` still works inside it (it enables gradients locally) but returns
    detached results, so explainers do not keep graphs alive.
    """
    return torch.no_grad()


def replicas_in_sync():
    """How many replicas add up their gradients: 1 (Keras's distribution on
    this backend computes the loss over the global batch)."""
    return 1
