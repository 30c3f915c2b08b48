"""ABN presets: the IMPACTX paper's backbones and datasets (its ABN baseline).

Presets describe configurations (nothing is downloaded): `from_preset(name)`
builds an untrained ABN on a fresh classifier; ABN trains end to end.

Where the attention branch sits: the ABN paper reads the feature map before
the backbone's last stage (ResNet's stage 3 of 4 on ImageNet, 14×14), so the
perception branch keeps that stage. The ImageNet backbones here downsample
by 32, leaving a 1×1 map for 32×32 CIFAR images, which would make the
attention map a constant; their presets therefore cut at the end of the
stride-16 stage (2×2 at 32×32, 6×6 at 96×96), as the paper does. LeNet-5
keeps its default, the last pooling layer (4×4 at 28×28, 5×5 at 32×32,
21×21 at 96×96), and a narrower attention branch.
"""

_DATASETS = {
    "fashion_mnist": ((28, 28, 1), 10, "Fashion-MNIST"),
    "cifar10": ((32, 32, 3), 10, "CIFAR-10"),
    "cifar100": ((32, 32, 3), 100, "CIFAR-100"),
    "stl10": ((96, 96, 3), 10, "STL-10"),
}
# architecture -> (display name, feature layer, attention-branch filters)
_ARCHITECTURES = {
    "lenet5": ("LeNet-5", None, (32,)),
    "mobilenet": ("MobileNet", "conv_pw_11_relu", (256,)),
    "efficientnet_b2": ("EfficientNet-B2", "block5d_add", (256,)),
    "vgg16": ("VGG16", "block4_pool", (256,)),
    "resnet50": ("ResNet50", "conv4_block6_out", (256,)),
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
    arch_name, feature_layer, filters = _ARCHITECTURES[architecture]
    return {
        "description": (
            f"ABN on {arch_name} for {dataset_name} "
            f"({image_shape[0]}x{image_shape[1]}x{image_shape[2]}, "
            f"{num_classes} classes); untrained."
        ),
        "config": {
            "architecture": architecture,
            "image_shape": image_shape,
            "num_classes": num_classes,
            "filters": filters,
            "feature_layer": feature_layer,
        },
    }


backbone_presets = {f"{a}_{d}": _preset(a, d) for a, d in _NAMES}
