"""PyTorch twins of keras_xai's own classifiers, for the peer benchmarks.

A twin is a `torch.nn.Sequential` that computes the logits of an
`ImageClassifier("lenet5")` or `ImageClassifier("vgg_small")` with its
weights copied: the peers (Captum, pytorch-grad-cam) explain the same
network as keras_xai. Its modules are named after the Keras layers; a Keras
layer with a fused ReLU becomes the module of its name followed by a `ReLU`
named `<name>_relu`, so `twin_module(twin, name)` is the module whose output
equals the Keras layer's output (NCHW instead of NHWC).
"""

import collections

import keras
import numpy as np
import torch

# The architectures whose layers `torch_twin` translates.
ARCHITECTURES = ("lenet5", "vgg_small")


class NHWCFlatten(torch.nn.Module):
    """Flattens NCHW feature maps in the order Keras flattens NHWC ones."""

    def forward(self, x):
        return torch.flatten(x.permute(0, 2, 3, 1), 1)


class GlobalAveragePool(torch.nn.Module):
    """Mean over the spatial axes of NCHW feature maps."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def _activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def _conv2d(layer):
    kernel_size = tuple(layer.kernel_size)
    if (
        tuple(layer.strides) != (1, 1)
        or tuple(layer.dilation_rate) != (1, 1)
        or layer.groups != 1
        or layer.padding not in ("valid", "same")
        or (layer.padding == "same" and any(k % 2 == 0 for k in kernel_size))
    ):
        raise ValueError(f"No twin for the Conv2D options of {layer.name!r}")
    kernel = layer.kernel
    return torch.nn.Conv2d(
        kernel.shape[2],
        kernel.shape[3],
        kernel_size,
        padding=tuple(k // 2 for k in kernel_size) if layer.padding == "same" else 0,
    )


def _max_pool2d(layer):
    if layer.padding != "valid":
        raise ValueError(f"No twin for the padding of {layer.name!r}")
    return torch.nn.MaxPool2d(tuple(layer.pool_size), tuple(layer.strides))


def _copy_weights(layer, module):
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    if kernel.ndim == 4:  # (kh, kw, in, out) -> (out, in, kh, kw)
        kernel = kernel.transpose(3, 2, 0, 1)
    else:  # (in, out) -> (out, in)
        kernel = kernel.T
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
        module.bias.copy_(torch.from_numpy(bias))


def torch_twin(model):
    """A PyTorch network computing the same logits as `model`'s.

    Args:
        model: `keras_xai.applications.ImageClassifier` of architecture
            `"lenet5"` or `"vgg_small"` (channels unchanged by its
            preprocessing, no dropout).

    Returns:
        A `torch.nn.Sequential` in eval mode taking NCHW images and
        returning logits (the final softmax is left out).
    """
    if getattr(model, "architecture", None) not in ARCHITECTURES:
        raise ValueError(
            f"`model` must be an ImageClassifier of architecture in "
            f"{ARCHITECTURES}. Received: "
            f"architecture={getattr(model, 'architecture', None)!r}"
        )
    modules = []
    for layer in model.layers:
        activation = _activation_name(layer)
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layer.name == "preprocessing":
            if layer.mode != "none" or layer.output_channels is not None:
                raise ValueError("No twin for a preprocessing that changes images")
            continue
        if isinstance(layer, keras.layers.Conv2D):
            module = _conv2d(layer)
        elif isinstance(layer, keras.layers.Dense):
            module = torch.nn.Linear(layer.kernel.shape[0], layer.kernel.shape[1])
        elif isinstance(layer, keras.layers.MaxPooling2D):
            module = _max_pool2d(layer)
        elif isinstance(layer, keras.layers.Flatten):
            module = NHWCFlatten()
        elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
            module = GlobalAveragePool()
        elif isinstance(layer, keras.layers.Activation) and activation == "softmax":
            break  # the twin returns logits
        else:
            raise ValueError(f"No twin for layer {layer.name!r} ({type(layer)})")
        modules.append((layer.name, module))
        if activation == "relu":
            modules.append((f"{layer.name}_relu", torch.nn.ReLU()))
        elif activation != "linear":
            raise ValueError(f"No twin for the activation of {layer.name!r}")
    twin = torch.nn.Sequential(collections.OrderedDict(modules))
    for name, module in twin.named_children():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            _copy_weights(model.get_layer(name), module)
    return twin.eval()


def twin_module(twin, layer_name):
    """The module of `twin` whose output is Keras layer `layer_name`'s.

    Args:
        twin: a `torch_twin`.
        layer_name: str. A layer name of the Keras model.

    Returns:
        The `<layer_name>_relu` module if the Keras layer has a fused ReLU,
        else the module named `layer_name`.
    """
    modules = dict(twin.named_children())
    if f"{layer_name}_relu" in modules:
        return modules[f"{layer_name}_relu"]
    return modules[layer_name]


def check_twin(model, twin, images, tolerance=1e-4):
    """Largest logit difference of `twin` and `model` on `images`.

    Args:
        model: the Keras classifier.
        twin: its `torch_twin`.
        images: float32 numpy array `(B, H, W, C)`.
        tolerance: float. Largest difference accepted. Defaults to `1e-4`.

    Returns:
        float. The largest absolute logit difference.

    Raises:
        AssertionError: when the difference reaches `tolerance`.
    """
    logits = keras.Model(model.input, model.get_layer("logits").output)
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    with torch.no_grad():
        gap = np.max(
            np.abs(twin(x).numpy() - keras.ops.convert_to_numpy(logits(images)))
        )
    assert gap < tolerance, f"the PyTorch twin's logits differ by {gap}"
    return float(gap)
