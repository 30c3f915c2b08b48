"""Guided backpropagation and Guided GradCAM.

Guided backpropagation changes the backward pass of every ReLU: the gradient
passes only where the forward input was positive (the ordinary ReLU
gradient) *and* the incoming gradient is positive. Since the ordinary
backward pass of `y = ReLU(z)` already multiplies by `[z > 0]`, clamping the
incoming gradient to its positive part just after the ReLU gives exactly
that rule. So the guided network is the user's network with one extra
identity layer, `PositiveGradient` (forward: identity; backward:
`max(g, 0)`), after each ReLU — the ReLU itself, and the layer computing
it, are left alone.

How the model is changed, and why this way:

- The custom backward pass is `keras.ops.custom_gradient`, which works on
  TensorFlow (`tf.custom_gradient`), JAX (`jax.custom_gradient`, also under
  `jit`) and PyTorch (an `autograd.Function`) in Keras 3, so no
  backend-specific code is needed.
- The guided network is `keras.models.clone_model` of the logits model with
  a `clone_function` that returns each layer itself (weights are shared, so
  it always sees the current weights and costs no memory) and a
  `call_function` that appends `PositiveGradient` after layers that apply a
  ReLU: `ReLU` layers (without negative slope), `Activation("relu")`, and
  any layer built with `activation="relu"` (`Conv2D`, `Dense`, ...).
  Nested functional and sequential sub-models are rebuilt the same way. The
  user's model object, its layers' configuration and its outputs do not
  change; its layers gain one extra call node (as for any shared layer).
  The guided network is built once per model and cached.
- Alternatives rejected: swapping `layer.activation` (mutates the user's
  model, unsafe across threads and traced functions); copying layers with
  `from_config` and assigning weights (duplicates memory, and goes stale
  when the model trains); gradient hooks per backend (three code paths).

ReLUs inside subclassed layers or models with their own `call` are not
reached (the graph cannot be seen); a model with no reachable ReLU raises a
`ValueError`, since its guided gradient would silently equal the plain one.
"""

import weakref

import keras
from keras import ops

from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import grad_cam
from keras_xai.explainers.gradients import input_gradients
from keras_xai.models.model_split import logits_model, model_split

_GUIDED_MODELS = weakref.WeakKeyDictionary()


@ops.custom_gradient
def positive_gradient(x):
    """Identity whose backward pass keeps only the positive gradient."""

    def backward(*args, upstream=None):
        # TensorFlow and JAX call `backward(upstream)`; torch passes the
        # saved inputs first and `upstream` by keyword.
        if upstream is None:
            (upstream,) = args
        return ops.relu(upstream)

    return ops.copy(x), backward


class PositiveGradient(keras.layers.Layer):
    """Identity layer whose gradient is clamped to its positive part.

    Placed after a ReLU it turns the ReLU's backward pass into the guided
    backpropagation rule.
    """

    def call(self, inputs):
        return positive_gradient(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


def is_relu_layer(layer):
    """Whether `layer`'s output is a plain ReLU of something.

    True for `keras.layers.ReLU` without negative slope or threshold (a
    `max_value` is fine), and for layers whose `activation` is `relu` or
    `relu6` (`Activation("relu")`, `Conv2D(..., activation="relu")`,
    `Dense(..., activation="relu")`, ...).
    """
    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and not layer.threshold
    return getattr(getattr(layer, "activation", None), "__name__", "") in (
        "relu",
        "relu6",
    )


def _is_functional(layer):
    return isinstance(layer, keras.Model) and getattr(layer, "outputs", None)


def _guided_copy(model, counter):
    """A weight-sharing copy of a functional `model` with guided ReLUs."""

    def call_function(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        if is_relu_layer(layer):
            counter.append(layer.name)
            outputs = PositiveGradient(
                dtype=layer.dtype_policy, name=f"{layer.name}_guided"
            )(outputs)
        return outputs

    def clone_function(layer):
        if isinstance(layer, keras.Sequential) and _is_functional(layer):
            # `clone_model` does not pass `call_function` into Sequential
            # models; rebuild them as functional chains of the same layers.
            inputs = keras.Input(
                batch_shape=layer.inputs[0].shape, dtype=layer.inputs[0].dtype
            )
            outputs = inputs
            for inner in layer.layers:
                outputs = call_function(clone_function(inner), outputs)
            return keras.Model(inputs, outputs, name=f"{layer.name}_guided")
        if _is_functional(layer):
            return _guided_copy(layer, counter)
        return layer

    return keras.models.clone_model(
        model, clone_function=clone_function, call_function=call_function
    )


def guided_backprop_model(model):
    """The (cached) guided logits network of a classifier.

    Args:
        model: `keras.Model`. A functional classifier; a final softmax is
            skipped (see `keras_xai.applications.logits_tensor`).

    Returns:
        A `keras.Model` from images to logits that shares `model`'s layers
        and weights and whose ReLUs backpropagate guided gradients.
    """
    if model in _GUIDED_MODELS:
        return _GUIDED_MODELS[model]
    guided = []
    guided_model = _guided_copy(logits_model(model), guided)
    if not guided:
        raise ValueError(
            f"`model` {model.name!r} has no ReLU that guided backpropagation can "
            "modify (ReLU layers, Activation('relu') or layers built with "
            "activation='relu' in its functional graph); its guided gradient "
            "would be the plain gradient"
        )
    _GUIDED_MODELS[model] = guided_model
    return guided_model


class GuidedBackprop(Explainer):
    """Guided backpropagation: the input gradient through guided ReLUs.

    The gradient of the target logit where every ReLU passes back only
    positive gradients at positive inputs, summed over channels (signed).
    The user's model is not modified: see the module docstring of
    `keras_xai.explainers.guided_backprop` for how the guided network is
    built (a weight-sharing copy with `keras.ops.custom_gradient`).

    Args:
        model: `keras.Model`. A functional classifier with ReLUs.
        **kwargs: `Explainer` options (`batch_size`, `compile`).

    Example:

    ```python
    maps = keras_xai.explainers.GuidedBackprop(model)(images)
    ```

    Reference:
        Springenberg et al., "Striving for Simplicity: The All Convolutional
        Net", ICLR Workshops 2015.
    """

    name = "guided_backprop"

    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)
        self.guided_model = guided_backprop_model(model)

    def guided_gradients(self, images, targets):
        """Guided gradients `(b, H, W, C)` of the target logits."""
        return input_gradients(
            lambda x: self.guided_model(x, training=False), images, targets
        )[1]

    def explain_batch(self, images, targets):
        return ops.sum(self.guided_gradients(images, targets), axis=-1)


class GuidedGradCAM(GuidedBackprop):
    """Guided GradCAM: GradCAM times guided backpropagation.

    `map = GradCAM_t ⊙ Σ_c GuidedBackprop_t,c`: the GradCAM map at `layer`
    (ReLU, bilinearly upsampled to the input) multiplies the guided gradient
    pixel by pixel. The paper multiplies each channel of the guided gradient;
    since the CAM is the same for all channels, summing afterwards over
    channels (this library's convention) gives this map. Signed: the guided
    gradient can be negative at the input.

    Args:
        model: `keras.Model`. A functional classifier with ReLUs.
        layer: str or `None`. Layer of the GradCAM. Defaults to `None` (the
            last layer with a 4-D output).
        **kwargs: `Explainer` options (`batch_size`, `compile`).

    Example:

    ```python
    maps = keras_xai.explainers.GuidedGradCAM(model)(images, targets=labels)
    ```

    Reference:
        The Grad-CAM paper (Selvaraju et al., ICCV 2017), as `GradCAM`.
    """

    name = "guided_gradcam"

    def __init__(self, model, layer=None, **kwargs):
        super().__init__(model, **kwargs)
        self.split = model_split(model, layer)

    def explain_batch(self, images, targets):
        cam = grad_cam(self.split, images, targets)
        return cam * super().explain_batch(images, targets)
