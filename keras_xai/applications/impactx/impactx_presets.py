"""IMPACTX presets: architecture, input size, classes, decoder and λ.

Presets describe configurations (nothing is downloaded): `from_preset(name)`
builds an untrained stage-1 classifier and the IMPACTX around it. Decoder
depth follows the paper: 3 blocks from a 4×4 grid at 32×32 (CIFAR), one
more at 96×96 (STL-10), 2 blocks from 7×7 at 28×28 (Fashion-MNIST).
"""

_DATASETS = {
    "fashion_mnist": ((28, 28, 1), 10, "Fashion-MNIST"),
    "cifar10": ((32, 32, 3), 10, "CIFAR-10"),
    "cifar100": ((32, 32, 3), 100, "CIFAR-100"),
    "stl10": ((96, 96, 3), 10, "STL-10"),
}
_ARCHITECTURES = {
    "lenet5": ("lenet5", "LeNet-5"),
    "mobilenet": ("mobilenet", "MobileNet"),
    "efficientnet_b2": ("efficientnet_b2", "EfficientNet-B2"),
    "vgg16": ("vgg16", "VGG16"),
    "resnet50": ("resnet50", "ResNet50"),
}
_NAMES = [
    ("lenet5", "fashion_mnist"),
    ("lenet5", "cifar10"),
    ("lenet5", "cifar100"),
    ("lenet5", "stl10"),
    ("mobilenet", "cifar10"),
    ("mobilenet", "cifar100"),
    ("mobilenet", "stl10"),
    ("efficientnet_b2", "cifar10"),
    ("efficientnet_b2", "cifar100"),
    ("efficientnet_b2", "stl10"),
    ("vgg16", "cifar10"),
    ("resnet50", "cifar10"),
]


def _preset(architecture, dataset):
    image_shape, num_classes, dataset_name = _DATASETS[dataset]
    arch, arch_name = _ARCHITECTURES[architecture]
    # 28x28 needs only two decoder blocks (7 -> 14 -> 28); narrower ones
    # keep Fashion-MNIST runs short on CPUs.
    filters = (32, 16) if dataset == "fashion_mnist" else (64, 32, 16)
    return {
        "description": (
            f"IMPACTX on {arch_name} for {dataset_name} "
            f"({image_shape[0]}x{image_shape[1]}x{image_shape[2]}, "
            f"{num_classes} classes); untrained."
        ),
        "config": {
            "architecture": arch,
            "image_shape": image_shape,
            "num_classes": num_classes,
            "latent_dim": 512,
            "decoder_filters": filters,
            "explanation_weight": 1.0,
        },
    }


backbone_presets = {f"{a}_{d}": _preset(a, d) for a, d in _NAMES}
