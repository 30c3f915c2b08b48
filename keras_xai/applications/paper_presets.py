"""The IMPACTX paper's grid of backbones and datasets.

IMPACTX and the ABN baseline it is compared with are evaluated on the same
twelve backbone/dataset pairs; both preset tables are built from this one
grid, each adding its own model-specific configuration.
"""

# dataset -> (image shape, classes, display name)
DATASETS = {
    "fashion_mnist": ((28, 28, 1), 10, "Fashion-MNIST"),
    "cifar10": ((32, 32, 3), 10, "CIFAR-10"),
    "cifar100": ((32, 32, 3), 100, "CIFAR-100"),
    "stl10": ((96, 96, 3), 10, "STL-10"),
}
ARCHITECTURE_NAMES = {
    "lenet5": "LeNet-5",
    "mobilenet": "MobileNet",
    "efficientnet_b2": "EfficientNet-B2",
    "vgg16": "VGG16",
    "resnet50": "ResNet50",
}
PAIRS = (
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
)


def paper_presets(model_name, model_config):
    """The preset table of one model over the paper's grid.

    Args:
        model_name: the model's name as it appears in the descriptions,
            e.g. `"IMPACTX"`.
        model_config: a callable `(architecture, dataset) -> dict` giving the
            model-specific entries of each preset's config.

    Returns:
        A dict from preset name (`"{architecture}_{dataset}"`) to
        `{"description": str, "config": dict}`; every config holds
        `architecture`, `image_shape` and `num_classes` plus the entries of
        `model_config`.
    """
    presets = {}
    for architecture, dataset in PAIRS:
        image_shape, num_classes, dataset_name = DATASETS[dataset]
        height, width, channels = image_shape
        presets[f"{architecture}_{dataset}"] = {
            "description": (
                f"{model_name} on {ARCHITECTURE_NAMES[architecture]} for "
                f"{dataset_name} ({height}x{width}x{channels}, "
                f"{num_classes} classes); untrained."
            ),
            "config": {
                "architecture": architecture,
                "image_shape": image_shape,
                "num_classes": num_classes,
                **model_config(architecture, dataset),
            },
        }
    return presets
