"""Layer-wise Relevance Propagation (LRP) for chains of Conv2D/Dense layers."""

import keras
import numpy as np
from keras import ops

from keras_xai.backend import compile_function, grad, no_grad
from keras_xai.explainers.base import Explainer
from keras_xai.layers.image_preprocessing import ImagePreprocessing
from keras_xai.models.model_split import logits_tensor
from keras_xai.utils.validation import to_numpy

RULES = ("zB", "epsilon", "alpha1beta0")

# Denominators of the conserving rules (alpha1beta0, zB; average pooling of
# ReLU outputs) are sums of non-negative terms, zero only when every term
# is: `_nonzero` replaces exact zeros (whose relevance is zero anyway) and
# leaves every other value as it is, however small the activations' scale.
# (An absolute stabiliser added to them was not scale-free.)

# Per-pixel maps allowed only before the first Conv2D/Dense: relevance is
# not redistributed through them (see `LRP`), their outputs are what the
# first layer explains.
_PIXELWISE = (
    ImagePreprocessing,
    keras.layers.Rescaling,
    keras.layers.Normalization,
)
# Identity at inference: they add no step.
_IDENTITY = (
    keras.layers.Dropout,  # and SpatialDropout1D/2D/3D
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.AlphaDropout,
)
# Relevance goes where the forward pass takes the value from.
_ROUTED = (
    keras.layers.MaxPooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.Flatten,
)
# Relevance is shared in proportion to the inputs' contributions.
_PROPORTIONAL = (keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling2D)

_SUPPORTED = (
    "InputLayer, Conv2D, Dense, BatchNormalization (folded into the preceding "
    "Conv2D/Dense), Activation('relu'/'linear'), ReLU, MaxPooling2D, "
    "AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D, Flatten, "
    "Dropout-type layers, and at the start ImagePreprocessing, Rescaling, "
    "Normalization"
)


def _stabilize(z, epsilon):
    """`z + ε·sign(z)` with `sign(0) = +1`: never zero, never NaN."""
    return z + epsilon * ops.where(z >= 0, 1.0, -1.0)


def _nonzero(z):
    """`z` with exact zeros replaced by 1 (a sum of non-negative terms)."""
    return ops.where(z == 0, 1.0, z)


def _vjp(fn, a, s):
    """`J_fn(a)^T s`: for a linear `fn`, its transpose applied to `s`."""
    return grad(lambda t: fn(t) * s, a)


def _activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", None)


class _LinearStep:
    """Conv2D or Dense, with folded BatchNormalizations and an optional ReLU."""

    def __init__(self, layer, input_nonnegative):
        self.layer = layer
        self.name = layer.name
        self.is_conv = isinstance(layer, keras.layers.Conv2D)
        self.input_nonnegative = input_nonnegative
        self.batch_norms = []
        self.relu = _activation_name(layer) == "relu"
        self.rule = None  # set once the whole chain is known

    @property
    def output_nonnegative(self):
        return self.relu

    def apply(self, a, kernel):
        """The layer's linear map (no bias) with `kernel` in place of its own."""
        if self.is_conv:
            return self.layer.convolution_op(a, kernel)
        return ops.matmul(a, kernel)

    def weights(self):
        """float32 `(kernel, bias)` with every BatchNormalization folded in."""
        kernel = ops.cast(self.layer.kernel, "float32")
        units = kernel.shape[-1]
        if self.layer.use_bias:
            bias = ops.cast(self.layer.bias, "float32")
        else:
            bias = ops.zeros((units,), "float32")
        for bn in self.batch_norms:
            # y = γ (z - μ) / sqrt(σ² + ε) + β, per output channel.
            scale = ops.rsqrt(ops.cast(bn.moving_variance, "float32") + bn.epsilon)
            if bn.scale:
                scale = scale * ops.cast(bn.gamma, "float32")
            bias = (bias - ops.cast(bn.moving_mean, "float32")) * scale
            if bn.center:
                bias = bias + ops.cast(bn.beta, "float32")
            kernel = kernel * scale
        return kernel, bias

    def forward(self, a):
        kernel, bias = self.weights()
        z = self.apply(a, kernel) + bias
        return ops.relu(z) if self.relu else z

    def relevance(self, a, r, epsilon, bounds):
        """Relevance of the inputs `a` from the relevance `r` of the outputs.

        The ReLU passes relevance unchanged (an inactive unit has zero
        relevance already: its relevance is its activation times a factor).
        """
        kernel, bias = self.weights()
        if self.rule == "epsilon":
            z = self.apply(a, kernel) + bias
            s = r / _stabilize(z, epsilon)
            return a * _vjp(lambda t: self.apply(t, kernel), a, s)
        positive = ops.relu(kernel)
        negative = kernel - positive
        if self.rule == "alpha1beta0" and self.input_nonnegative:
            z = self.apply(a, positive)
            s = r / _nonzero(z)
            return a * _vjp(lambda t: self.apply(t, positive), a, s)
        # Both rules sum non-negative contributions u_i w⁺_ij + v_i w⁻_ij,
        # bias ignored: alpha1beta0 with u = a⁺, v = a⁻; zB with u = a - l,
        # v = a - h (a·w - l·w⁺ - h·w⁻ regrouped, as w = w⁺ + w⁻).
        if self.rule == "zB":
            low, high = bounds
            u, v = a - low, a - high
            # The bounds are one image: two cheap maps instead of a full one.
            z = (
                self.apply(a, kernel)
                - self.apply(low, positive)
                - self.apply(high, negative)
            )
        else:
            u = ops.relu(a)
            v = a - u
            z = self._apply_pair(u, v, positive, negative)
        s = r / _nonzero(z)
        c_positive, c_negative = self._transpose_pair(a, s, positive, negative)
        return u * c_positive + v * c_negative

    def _stacked(self, positive, negative):
        # Input channels are the kernel's axis -2 for Dense and Conv2D; a
        # grouped convolution cannot take twice its channels.
        if getattr(self.layer, "groups", 1) != 1:
            return None
        return ops.concatenate([positive, negative], axis=-2)

    def _apply_pair(self, u, v, positive, negative):
        """`u·w⁺ + v·w⁻`, as one map of the stacked kernel when possible."""
        stacked = self._stacked(positive, negative)
        if stacked is None:
            return self.apply(u, positive) + self.apply(v, negative)
        return self.apply(ops.concatenate([u, v], axis=-1), stacked)

    def _transpose_pair(self, a, s, positive, negative):
        """`(w⁺ s, w⁻ s)` (transposed maps), as one when possible."""
        stacked = self._stacked(positive, negative)
        if stacked is None:
            return (
                _vjp(lambda t: self.apply(t, positive), a, s),
                _vjp(lambda t: self.apply(t, negative), a, s),
            )
        channels = a.shape[-1]
        both = _vjp(
            lambda t: self.apply(t, stacked), ops.concatenate([a, a], axis=-1), s
        )
        return both[..., :channels], both[..., channels:]


class _LayerStep:
    """A parameter-free layer: ReLU, pooling or Flatten."""

    def __init__(self, layer, input_nonnegative, kind):
        self.layer = layer
        self.name = layer.name
        self.kind = kind  # "relu", "routed" or "proportional"
        self.output_nonnegative = kind == "relu" or input_nonnegative

    def forward(self, a):
        # `call`, not `__call__`: no autocast, so float32 stays float32.
        return self.layer.call(a)

    def relevance(self, a, r, epsilon, bounds):
        if self.kind == "relu":
            return r
        if self.kind == "routed":
            window = _tiling_window(self.layer, a.shape)
            if window is not None:
                return _winner_take_all(a, r, window)
            # Flatten, or overlapping pooling windows: where the gradient
            # routes (for max pooling, one winner per window, by backend).
            return _vjp(self.forward, a, r)
        s = r / _nonzero(self.forward(a))
        return a * _vjp(self.forward, a, s)


def _tiling_window(layer, shape):
    """`(p, q)` when `layer` max-pools non-overlapping windows, else `None`."""
    height, width = shape[1], shape[2]
    if isinstance(layer, keras.layers.GlobalMaxPooling2D):
        return height, width
    if not isinstance(layer, keras.layers.MaxPooling2D):
        return None
    p, q = layer.pool_size
    if tuple(layer.strides) != (p, q):
        return None
    if layer.padding == "valid" or (height % p == 0 and width % q == 0):
        return p, q
    return None


def _winner_take_all(a, r, window):
    """Relevance of each max-pooling window given to its maximum.

    Tied maxima share it equally, the same on every backend (the gradient
    picks one winner on some backends and shares on others); explicit
    tiling also compiles far faster than the max-pooling gradient in XLA.
    """
    p, q = window
    height, width, channels = a.shape[1:]
    rows, cols = height // p, width // q
    tiles = ops.reshape(a[:, : rows * p, : cols * q], (-1, rows, p, cols, q, channels))
    winners = ops.cast(tiles == ops.max(tiles, axis=(2, 4), keepdims=True), "float32")
    winners = winners / ops.sum(winners, axis=(2, 4), keepdims=True)
    shared = winners * ops.reshape(r, (-1, rows, 1, cols, 1, channels))
    shared = ops.reshape(shared, (-1, rows * p, cols * q, channels))
    # Rows and columns a "valid" pooling drops get no relevance.
    return ops.pad(
        shared, ((0, 0), (0, height - rows * p), (0, width - cols * q), (0, 0))
    )


def _check_bound(value, name, image_shape):
    try:
        array = np.asarray(value, dtype="float32")
        array = np.broadcast_to(array, image_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be a float or an array broadcastable to the image "
            f"shape {image_shape}. Received: {name}={value!r}"
        ) from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}")
    return array[None]


class LRP(Explainer):
    """Layer-wise Relevance Propagation with composite rules.

    Relevance starts at the output as the target logit (zero for the other
    classes; a final softmax is skipped) and flows back layer by layer:
    through every Conv2D/Dense with that layer's rule, through ReLUs
    unchanged, through max pooling winner-take-all (all of a window's
    relevance to its maximum; tied maxima share it equally; overlapping
    windows follow the gradient's routing), through average pooling in
    proportion to the inputs, through Flatten by reshaping. The map is the
    input relevance summed over channels, `(B, H, W)`, signed.

    Rules, for `z_j = Σ_i a_i w_ij (+ b_j)` and `s_j = R_j / z_j`:

    - `"epsilon"`: `R_i = a_i Σ_j w_ij R_j / (z_j + ε·sign(z_j))`, the bias in
      `z_j`. Relevance is conserved up to what biases and ε absorb.
    - `"alpha1beta0"` (z⁺ rule): only positive contributions `(a_i w_ij)⁺`,
      bias ignored. Conserves relevance and keeps its sign.
    - `"zB"` (first layer only): `z_j = Σ_i a_i w_ij − l_i w⁺_ij − h_i w⁻_ij`
      for inputs in the box `[low, high]`, i.e. the α1β0 rule on
      `(a − l)·w⁺ + (a − h)·w⁻`, every term ≥ 0 inside the box. Conserves
      relevance and keeps its sign for inputs inside the box (outside it,
      terms can be negative; relevance is still conserved).

    Default placement as in the Focus paper: z^B on the first layer, ε on
    dense layers, α1β0 on convolutions.

    The model must be a chain (every layer has one input, no skip
    connections; nested models are expanded) of: Conv2D, Dense (activation
    ReLU or linear), BatchNormalization (folded into the Conv2D/Dense it
    follows — that layer must have no activation; a BatchNormalization at
    the start acts as a per-pixel preprocessing), Activation("relu" or
    "linear"), ReLU (no options), Max/Average/GlobalMax/GlobalAverage
    pooling 2D, Flatten, Dropout-type layers (identity at inference), and,
    before the first Conv2D/Dense only, per-pixel preprocessing
    (`ImagePreprocessing` in any mode, `Rescaling`, `Normalization`).
    Anything else raises `ValueError` naming the layer, at construction.

    Per-pixel preprocessing is not given a rule: the first layer explains
    its output (the z^B box is `low`/`high` mapped through it) and the map
    sums that relevance over channels, which is the same sum whichever way
    relevance were shared among a pixel's input channels.

    Args:
        model: `keras.Model`. A functional or Sequential classifier as above.
        epsilon: float. ε of the `"epsilon"` rule, > 0. Defaults to `1e-6`.
        first_rule: str. Rule of the first Conv2D/Dense: `"zB"`,
            `"epsilon"` or `"alpha1beta0"`. Defaults to `"zB"`.
        low: float or array broadcastable to the image shape. Lowest input
            pixel value for z^B (raw pixels, before preprocessing).
            Defaults to `0.0`.
        high: float or array broadcastable to the image shape. Highest input
            pixel value for z^B. Defaults to `1.0`.
        conv_rule: str. Rule of the other Conv2D layers: `"alpha1beta0"` or
            `"epsilon"`. Defaults to `"alpha1beta0"`.
        dense_rule: str. Rule of the other Dense layers: `"epsilon"` or
            `"alpha1beta0"`. Defaults to `"epsilon"`.
        **kwargs: `Explainer` options (`batch_size`, `compile`).

    Example:

    ```python
    model = keras_xai.applications.ImageClassifier("lenet5", (28, 28, 1), 10)
    maps = keras_xai.explainers.LRP(model)(images, targets=labels)
    layers = keras_xai.explainers.LRP(model).explain_layers(images, labels)
    ```

    Reference:
        Bach et al., "On Pixel-Wise Explanations for Non-Linear Classifier
        Decisions by Layer-Wise Relevance Propagation", PLoS ONE 2015;
        Montavon et al., "Explaining nonlinear classification decisions with
        deep Taylor decomposition", Pattern Recognition 2017.
    """

    name = "lrp"

    def __init__(
        self,
        model,
        epsilon=1e-6,
        first_rule="zB",
        low=0.0,
        high=1.0,
        conv_rule="alpha1beta0",
        dense_rule="epsilon",
        **kwargs,
    ):
        super().__init__(model, **kwargs)
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, (int, float, np.floating, np.integer))
            or not np.isfinite(epsilon)
            or epsilon <= 0
        ):
            raise ValueError(
                f"`epsilon` must be a finite float > 0. Received: epsilon={epsilon!r}"
            )
        for name, rule, allowed in (
            ("first_rule", first_rule, RULES),
            ("conv_rule", conv_rule, RULES[1:]),
            ("dense_rule", dense_rule, RULES[1:]),
        ):
            if rule not in allowed:
                extra = " (zB needs input bounds: first layer only)" * (rule == "zB")
                raise ValueError(
                    f"`{name}` must be one of {allowed}{extra}. "
                    f"Received: {name}={rule!r}"
                )
        image_shape = tuple(model.input.shape[1:])
        if len(image_shape) != 3 or None in image_shape:
            raise ValueError(
                "LRP needs a model input of fixed shape (height, width, "
                f"channels). Received: input shape {model.input.shape}"
            )
        self._low = _check_bound(low, "low", image_shape)
        self._high = _check_bound(high, "high", image_shape)
        if np.any(self._low >= self._high):
            raise ValueError(
                f"`low` must be < `high` everywhere. Received: low={low!r}, "
                f"high={high!r}"
            )

        # === Chain ===
        self.prefix, self.steps = _build_chain(model)
        linear = [s for s in self.steps if isinstance(s, _LinearStep)]
        for index, step in enumerate(linear):
            if index == 0:
                step.rule = first_rule
            else:
                step.rule = conv_rule if step.is_conv else dense_rule
        self._first_linear = self.steps.index(linear[0])
        self._compiled_layers = None

        # === Config ===
        self.epsilon = float(epsilon)
        self.first_rule = first_rule
        self.low = low
        self.high = high
        self.conv_rule = conv_rule
        self.dense_rule = dense_rule

    @property
    def layer_names(self):
        """Names under which `explain_layers` returns relevances, input first."""
        if self.prefix:
            first = self.prefix[-1].name
        else:
            first = self.model.inputs[0]._keras_history.operation.name
        names = [first] + [step.name for step in self.steps]
        unique = []
        for name in names:
            key, n = name, 1
            while key in unique:
                key, n = f"{name}_{n}", n + 1
            unique.append(key)
        return unique

    def _bounds(self):
        """The z^B box at the first Conv2D/Dense's input."""
        low = ops.convert_to_tensor(self._low, "float32")
        high = ops.convert_to_tensor(self._high, "float32")
        for step in self.prefix:
            low = ops.cast(step(low, training=False), "float32")
            high = ops.cast(step(high, training=False), "float32")
        for step in self.steps[: self._first_linear]:
            low, high = step.forward(low), step.forward(high)
        # Every map on the way is monotone per coordinate (increasing or,
        # for a negative scale, decreasing) and the bounds are constant.
        return ops.minimum(low, high), ops.maximum(low, high)

    def _propagate(self, images, targets):
        """Relevances at every step boundary, input first, logits last."""
        a = ops.cast(images, "float32")
        for layer in self.prefix:
            a = ops.cast(layer(a, training=False), "float32")
        inputs = []
        for step in self.steps:
            inputs.append(a)
            a = step.forward(a)
        r = ops.one_hot(ops.cast(targets, "int32"), a.shape[-1], dtype="float32") * a
        bounds = self._bounds() if self.first_rule == "zB" else None
        relevances = [r]
        for index in reversed(range(len(self.steps))):
            r = self.steps[index].relevance(
                inputs[index],
                r,
                self.epsilon,
                bounds if index == self._first_linear else None,
            )
            relevances.append(r)
        return relevances[::-1]

    def explain_batch(self, images, targets):
        return ops.sum(self._propagate(images, targets)[0], axis=-1)

    def explain_layers(self, images, targets=None):
        """Relevance at the output of every layer of the chain.

        Args:
            images, targets: as for `__call__` (`targets=None` explains the
                predicted classes).

        Returns:
            dict from layer name (`layer_names`, in order, input first) to a
            float32 numpy array of relevances shaped like that layer's
            output. The first entry is the relevance of the first layer's
            input (after any per-pixel preprocessing); the last is the target
            logit one-hot at the logits layer.
        """
        images, targets = self.validate(images, targets)
        if self._compiled_layers is None:
            self._compiled_layers = (
                compile_function(self._propagate, self.model.variables)
                if self.compile
                else self._propagate
            )
        batches = []
        with no_grad():
            for i in range(0, images.shape[0], self.batch_size):
                relevances = self._compiled_layers(
                    images[i : i + self.batch_size], targets[i : i + self.batch_size]
                )
                batches.append([to_numpy(r) for r in relevances])
        return {
            name: np.concatenate([batch[k] for batch in batches]).astype("float32")
            for k, name in enumerate(self.layer_names)
        }


def _build_chain(model):
    """Splits `model` into per-pixel prefix layers and LRP steps."""
    prefix, steps = [], []
    for layer, layer_input in _chain_layers(logits_tensor(model), model):
        last = steps[-1] if steps else None
        nonnegative = bool(last and last.output_nonnegative)
        activation = _activation_name(layer)
        if isinstance(layer, keras.layers.InputLayer) or isinstance(layer, _IDENTITY):
            continue
        if isinstance(layer, _PIXELWISE) or (
            isinstance(layer, keras.layers.BatchNormalization) and not steps
        ):
            if steps:
                raise _unsupported(
                    layer, "; it is allowed only before the first Conv2D/Dense"
                )
            prefix.append(layer)
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            if type(layer) not in (keras.layers.Conv2D, keras.layers.Dense):
                raise _unsupported(layer, " (a subclass may change the layer's map)")
            if activation not in ("relu", "linear"):
                raise _unsupported(layer, f" with activation {activation!r}")
            if getattr(layer, "quantization_mode", None):
                raise _unsupported(layer, f" quantized ({layer.quantization_mode})")
            if getattr(layer, "data_format", "channels_last") != "channels_last":
                raise _unsupported(layer, " with data_format='channels_first'")
            steps.append(_LinearStep(layer, nonnegative))
        elif isinstance(layer, keras.layers.BatchNormalization):
            if not isinstance(last, _LinearStep) or last.relu:
                raise _unsupported(
                    layer,
                    " here: it must directly follow a Conv2D or Dense layer "
                    "with no activation, to be folded into it",
                )
            rank = len(layer_input.shape)
            if layer.axis % rank != rank - 1:
                raise _unsupported(layer, f" on axis {layer.axis} (not channels)")
            last.batch_norms.append(layer)
            last.name = layer.name
        elif _is_relu(layer, activation):
            if isinstance(last, _LinearStep) and not last.relu:
                last.relu = True
                last.name = layer.name
            else:
                steps.append(_LayerStep(layer, nonnegative, "relu"))
        elif isinstance(layer, keras.layers.Activation) and activation == "linear":
            continue
        elif isinstance(layer, _ROUTED + _PROPORTIONAL):
            if getattr(layer, "data_format", "channels_last") != "channels_last":
                raise _unsupported(layer, " with data_format='channels_first'")
            kind = "routed" if isinstance(layer, _ROUTED) else "proportional"
            steps.append(_LayerStep(layer, nonnegative, kind))
        elif isinstance(layer, keras.layers.ReLU):
            raise _unsupported(
                layer,
                f" with max_value={layer.max_value}, negative_slope="
                f"{layer.negative_slope}, threshold={layer.threshold} (only a "
                "plain ReLU)",
            )
        else:
            detail = f" with activation {activation!r}" if activation else ""
            raise _unsupported(layer, detail)
    if not any(isinstance(step, _LinearStep) for step in steps):
        raise ValueError(
            f"LRP needs at least one Conv2D or Dense layer. Model {model.name!r} "
            "has none between its input and its logits"
        )
    return prefix, steps


def _is_relu(layer, activation):
    if isinstance(layer, keras.layers.Activation):
        return activation == "relu"
    if isinstance(layer, keras.layers.ReLU):
        return (
            layer.max_value is None and not layer.negative_slope and not layer.threshold
        )
    return False


def _unsupported(layer, detail=""):
    return ValueError(
        f"LRP does not support layer {layer.name!r} ({type(layer).__name__})"
        f"{detail}. Supported: {_SUPPORTED}"
    )


def _chain_layers(tensor, model):
    """`(layer, input tensor)` from `model`'s input to `tensor`, in order.

    Raises `ValueError` unless every layer on the way has a single input;
    nested models are expanded into their own layers.
    """
    layers = []
    while True:
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, keras.layers.InputLayer):
            break
        node = operation._inbound_nodes[node_index]
        inputs = node.input_tensors
        if len(inputs) != 1:
            raise ValueError(
                "LRP needs a chain of single-input layers from the input to the "
                f"logits, but layer {operation.name!r} ({type(operation).__name__}) "
                f"takes {len(inputs)} inputs (a skip connection or merge). "
                f"Supported: {_SUPPORTED}"
            )
        if isinstance(operation, keras.Model):
            if len(operation.inputs) != 1 or len(operation.outputs) != 1:
                raise ValueError(
                    f"LRP expands nested models with one input and one output. "
                    f"Received: layer {operation.name!r} "
                    f"({type(operation).__name__}) with {len(operation.inputs)} "
                    f"inputs and {len(operation.outputs)} outputs"
                )
            layers.extend(reversed(_chain_layers(operation.outputs[0], operation)))
        else:
            layers.append((operation, inputs[0]))
        tensor = inputs[0]
    if tensor is not model.inputs[0]:
        raise ValueError(
            f"LRP needs the logits of {model.name!r} to depend on its single "
            f"input only. Received an input layer {operation.name!r} that is "
            "not the model's input"
        )
    return layers[::-1]
