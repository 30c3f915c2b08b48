"""Benchmark: GradCAM against pytorch-grad-cam.

pytorch-grad-cam (PyPI `grad-cam`) is the GradCAM library PyTorch users
reach for. This runs, in one process, keras_xai's `GradCAM` on the current
Keras backend and pytorch-grad-cam's `GradCAM` on a PyTorch twin of the same
network (`bench/torch_twins.py`: weights copied, logits checked equal), for
two networks with random weights — LeNet-5 and the small VGG — on the same
Fashion-MNIST test images and targets (each network's predicted classes).

The target layer is keras_xai's default, the last 4-D output: LeNet-5's
`pool2` (4x4x16, after the second max pooling) and the small VGG's
`block3_conv2` (7x7x64, a convolution with its ReLU fused). The twin's
target is the module with the same output: the second `MaxPool2d`, and the
`ReLU` after the last `Conv2d` (not the `Conv2d`, whose output is before
the ReLU); the activations pytorch-grad-cam hooks there are checked equal to
keras_xai's feature map. Recorded per network:

- images per second of keras_xai (`GradCAM(model, batch_size=256)`), of
  pytorch-grad-cam as its README shows (the whole batch in one
  `cam(input_tensor=x, targets=[ClassifierOutputTarget(c), ...])` call),
  and of pytorch-grad-cam tuned as an informed user would: the fastest of a
  few batch sizes, with and without the weights frozen
  (`requires_grad_(False)` on the twin's parameters and an input that
  requires grad, so the backward pass computes no weight gradient).
  `torch.no_grad` / `inference_mode` do not apply: GradCAM needs the
  backward pass;
- the agreement of the maps. pytorch-grad-cam returns each map ReLU'd,
  min-max normalised at the feature resolution, resized to the input with
  `cv2.resize` (bilinear, half-pixel centres) and min-max normalised again;
  keras_xai returns the ReLU'd map bilinearly resized, unnormalised. As
  bilinear resizing commutes with `m -> (m - a) / b`, both are the same map
  up to one min-max normalisation. Compared: (1) keras_xai's 28x28 maps
  min-max normalised per image, `(m - min m) / (max m - min m)` (an all-zero
  map stays 0), against pytorch-grad-cam's 28x28 output — the largest
  absolute difference over the largest value (1). Not pytorch-grad-cam's
  `scale_cam_image` once: its epsilon (`/ (1e-7 + max)`) is absolute, so
  one pass on raw maps whose range is ~1e-3 is off by ~1e-4; its own second
  pass, on maps already in [0, 1], removes that; (2) so that the scale is
  checked too, keras_xai's `upsample=False` maps against pytorch-grad-cam's
  own `get_cam_image` on the activations and gradients it stored in the
  documented call, ReLU'd, at the feature resolution, before any
  normalisation — the largest absolute difference over the largest map
  value.

Timings are the best of `--repeats` calls after a warm-up. Needs `grad-cam`,
`ttach`, `opencv-python-headless` and `torch` (benchmark-only dependencies;
see the `bench` extra in `pyproject.toml` for how to install grad-cam).

torchvision: pytorch-grad-cam imports torchvision when it is imported
(`utils/image.py`: `Compose`, `Normalize`, `ToTensor`; `utils/model_targets.py`:
`import torchvision`; `sess.py`: `torchvision.transforms.functional.resize`)
but GradCAM on a classifier never calls it. Where torchvision is not
installed (on this machine the only torchvision wheel is a CUDA build that
cannot sit beside the CPU torch), a stand-in package is registered for the
import only: its functions raise `RuntimeError` if called and any other
attribute raises `AttributeError`, so a run that completes shows the claim
held. The JSON records which torchvision was used. Writes
`bench/results/gradcam_peers_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/gradcam_peers.py [--images 256]
"""

import copy
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
import types

import cv2
import keras
import numpy as np
import torch
from map_agreement import relative_difference
from results_io import write_result
from timing import best_seconds, peer_parser
from torch_twins import check_twin, torch_twin, twin_module

from keras_xai import explainers
from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset

NETWORKS = ("lenet5", "vgg_small")
KERAS_XAI_BATCH_SIZE = 256
# pytorch-grad-cam options tried; `{}` is the README's call (the whole batch,
# weights as loaded).
TUNINGS = (
    {},
    {"batch_size": 32},
    {"batch_size": 128},
    {"frozen_weights": True},
    {"frozen_weights": True, "batch_size": 32},
    {"frozen_weights": True, "batch_size": 128},
)
# What pytorch-grad-cam imports from torchvision: module -> functions.
TORCHVISION_IMPORTS = {
    "torchvision": (),
    "torchvision.transforms": ("Compose", "Normalize", "ToTensor"),
    "torchvision.transforms.functional": ("resize",),
}
TORCHVISION_STAND_IN = (
    "stand-in: not installable here; GradCAM's code path does not call it"
)


def _refuse(name):
    def refuse(*args, **kwargs):
        raise RuntimeError(
            f"{name} was called, but torchvision is a stand-in in "
            "bench/gradcam_peers.py: the benchmark assumes GradCAM never "
            "calls it. Install torchvision to run this code path."
        )

    return refuse


def _stand_in_module(name, functions):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__path__ = []
    for function in functions:
        setattr(module, function, _refuse(f"{name}.{function}"))

    def missing(attribute):  # module-level __getattr__ (PEP 562)
        raise AttributeError(
            f"{name}.{attribute}: torchvision is a stand-in in "
            "bench/gradcam_peers.py (only what pytorch-grad-cam imports exists)"
        )

    module.__getattr__ = missing
    return module


def import_pytorch_grad_cam():
    """Imports pytorch_grad_cam, over a torchvision stand-in if needed.

    The stand-in modules are in `sys.modules` only during the import:
    pytorch_grad_cam keeps its references to them, nothing else sees them.

    Returns:
        `(GradCAM, ClassifierOutputTarget, torchvision)`, the last a
        description of the torchvision used.
    """
    stand_in = importlib.util.find_spec("torchvision") is None
    if stand_in:
        modules = {
            name: _stand_in_module(name, functions)
            for name, functions in TORCHVISION_IMPORTS.items()
        }
        modules["torchvision"].transforms = modules["torchvision.transforms"]
        modules["torchvision.transforms"].functional = modules[
            "torchvision.transforms.functional"
        ]
        sys.modules.update(modules)
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    finally:
        if stand_in:
            for name in TORCHVISION_IMPORTS:
                del sys.modules[name]
    if stand_in:
        torchvision = TORCHVISION_STAND_IN
    else:
        torchvision = importlib.metadata.version("torchvision")
    return GradCAM, ClassifierOutputTarget, torchvision


GradCAM, ClassifierOutputTarget, TORCHVISION = import_pytorch_grad_cam()


def min_max(maps):
    """Each `(H, W)` map of `maps` scaled to [0, 1]; a constant map to 0."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def grad_cam_maps(cam, x, targets, batch_size=None, input_grad=False):
    """pytorch-grad-cam's maps for `x`, `batch_size` images per call.

    Args:
        cam: a pytorch_grad_cam `GradCAM`.
        x: float32 torch tensor `(B, C, H, W)`.
        targets: int numpy array `(B,)`.
        batch_size: int or `None` (the whole batch in one call).
        input_grad: bool. Give each call an input that requires grad (for
            a twin whose weights are frozen).

    Returns:
        float32 numpy array `(B, H, W)`.
    """
    step = batch_size or len(x)
    maps = []
    for start in range(0, len(x), step):
        chunk = x[start : start + step]
        if input_grad:
            chunk = chunk.detach().requires_grad_(True)
        chunk_targets = [
            ClassifierOutputTarget(int(c)) for c in targets[start : start + step]
        ]
        maps.append(cam(input_tensor=chunk, targets=chunk_targets))
    return np.concatenate(maps)


def compare(architecture, images, x, repeats):
    """One network: rates, tuning and agreement of the two GradCAMs."""
    keras.utils.set_random_seed(0)
    model = ImageClassifier(architecture, images.shape[1:], 10)
    twin = torch_twin(model)
    logits_gap = check_twin(model, twin, images)
    ours = explainers.GradCAM(model, batch_size=KERAS_XAI_BATCH_SIZE)
    layer = ours.split.layer_name
    targets = ours.predict_classes(images)
    ours_maps = ours(images, targets)
    ours_raw = explainers.GradCAM(
        model, upsample=False, batch_size=KERAS_XAI_BATCH_SIZE
    )(images, targets)
    features = keras.ops.convert_to_numpy(ours.split(images)[0])
    rate = len(images) / best_seconds(lambda: ours(images, targets), repeats)
    # The networks alone, forward passes per second: the Keras model
    # (compiled predict step on the whole batch) and the PyTorch twin. A
    # GradCAM is bounded by its network's forward rate, whoever drives it.

    def twin_forward():
        with torch.no_grad():
            twin(x)

    forward = {
        "keras_model_images_per_second": len(images)
        / best_seconds(lambda: model.predict_on_batch(images), repeats),
        "pytorch_twin_images_per_second": len(images)
        / best_seconds(twin_forward, repeats),
    }

    # pytorch-grad-cam's hooks stay on the module until released; two CAMs
    # on one module would both run, so the frozen-weights CAM gets a copy.
    # (No `with` block: its `__exit__` swallows an IndexError.)
    frozen = copy.deepcopy(twin).requires_grad_(False)
    cams = {
        False: GradCAM(model=twin, target_layers=[twin_module(twin, layer)]),
        True: GradCAM(model=frozen, target_layers=[twin_module(frozen, layer)]),
    }
    try:
        cam = cams[False]
        theirs_maps = grad_cam_maps(cam, x, targets)
        activations = cam.activations_and_grads.activations[0].numpy()
        gradients = cam.activations_and_grads.gradients[0].numpy()
        theirs_raw = np.maximum(
            cam.get_cam_image(x, None, None, activations, gradients), 0
        )

        def run(options):
            frozen_weights = options.get("frozen_weights", False)
            return grad_cam_maps(
                cams[frozen_weights],
                x,
                targets,
                options.get("batch_size"),
                input_grad=frozen_weights,
            )

        rates = {
            str(options): len(images) / best_seconds(lambda o=options: run(o), repeats)
            for options in TUNINGS
        }
        tuned = max(rates, key=rates.get)
        tuned_maps = run(next(o for o in TUNINGS if str(o) == tuned))
    finally:
        for cam in cams.values():
            cam.activations_and_grads.release()

    documented = rates["{}"]
    return {
        "keras_layer": layer,
        "pytorch_target_module": type(twin_module(twin, layer)).__name__,
        "feature_map": "x".join(str(d) for d in features.shape[1:]),
        "logits_max_difference": logits_gap,
        "target_layer_max_difference": float(
            np.max(np.abs(activations - features.transpose(0, 3, 1, 2)))
        ),
        "keras_xai_images_per_second": rate,
        "forward_passes": forward,
        "grad_cam_documented_images_per_second": documented,
        "grad_cam_tuned_images_per_second": rates[tuned],
        "grad_cam_tuned_options": tuned,
        "grad_cam_images_per_second": rates,
        "ratio_vs_documented": rate / documented,
        "ratio_vs_tuned": rate / rates[tuned],
        "normalised_max_relative_difference": relative_difference(
            min_max(ours_maps), theirs_maps
        ),
        "feature_resolution_max_relative_difference": relative_difference(
            ours_raw, theirs_raw
        ),
        "tuned_vs_documented_max_difference": float(
            np.max(np.abs(tuned_maps - theirs_maps))
        ),
        "all_zero_maps": int(np.sum(np.max(ours_raw, axis=(1, 2)) == 0)),
    }


def main(argv=None):
    args = peer_parser(__doc__).parse_args(argv)

    data = load_default_dataset()
    images = data.x_test[: args.images].astype("float32")
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    backend = keras.backend.backend()
    print(f"backend {backend}, data {data.name}, {args.images} images")

    table = {}
    for architecture in NETWORKS:
        row = compare(architecture, images, x, args.repeats)
        table[architecture] = row
        print(
            f"{architecture:>10s} at {row['keras_layer']} "
            f"({row['feature_map']}): keras_xai "
            f"{row['keras_xai_images_per_second']:8.0f} img/s, pytorch-grad-cam "
            f"{row['grad_cam_documented_images_per_second']:8.0f} (docs) / "
            f"{row['grad_cam_tuned_images_per_second']:8.0f} (tuned "
            f"{row['grad_cam_tuned_options']}) -> {row['ratio_vs_documented']:.2f}x "
            f"docs, {row['ratio_vs_tuned']:.2f}x tuned; maps differ by "
            f"{row['normalised_max_relative_difference']:.1e} (normalised), "
            f"{row['feature_resolution_max_relative_difference']:.1e} (raw); "
            f"forward passes {row['forward_passes']}"
        )
    result = {
        "grad_cam": importlib.metadata.version("grad-cam"),
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "torchvision": TORCHVISION,
        "torch_threads": torch.get_num_threads(),
        "models": "ImageClassifier lenet5 and vgg_small, 28x28x1, 10 classes, "
        "random weights (Keras seed 0); PyTorch twins (bench/torch_twins.py)",
        "data": data.name,
        "images": args.images,
        "targets": "each network's predicted classes",
        "keras_xai_batch_size": KERAS_XAI_BATCH_SIZE,
        "timing_method": f"best of {args.repeats} after a warm-up",
        "agreement": (
            "normalised: keras_xai's 28x28 maps min-max normalised per image "
            "((m - min) / (max - min)) vs pytorch-grad-cam's output (ReLU, "
            "min-max at the feature resolution, cv2.resize bilinear, min-max), "
            "max |difference| over max value; feature resolution: keras_xai "
            "upsample=False vs ReLU(pytorch-grad-cam get_cam_image on the "
            "activations and gradients it stored), max |difference| over max "
            "value"
        ),
        "networks": table,
    }
    write_result(result, "gradcam_peers", backend, args.output)
    return result


if __name__ == "__main__":
    main()
