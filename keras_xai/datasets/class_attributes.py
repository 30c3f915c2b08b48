"""Class-level attributes: every image of a class shares its class's attributes.

Datasets without per-image attribute annotations (Fashion-MNIST) can still
train an attribute head when attributes are defined per class. This module
holds such a table for Fashion-MNIST and turns a table into per-image
multi-hot targets.
"""

import json

import numpy as np

from keras_xai.utils.validation import check_labels

# Fashion-MNIST classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress,
# 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
FASHION_MNIST_ATTRIBUTES = {
    "footwear": (5, 7, 9),
    "upper_body": (0, 2, 4, 6),
    "long_sleeves": (2, 4, 6),
    "two_legs": (1,),
    "has_handle": (8,),
    "covers_ankle": (9,),
    "one_piece": (3,),
}


def class_attribute_matrix(attributes, num_classes):
    """`(num_classes, A)` 0/1 matrix of a table `{attribute: classes}`.

    Args:
        attributes: dict `{name: iterable of class indices}`.
        num_classes: int. Number of classes.

    Returns:
        Tuple `(names, matrix)`: the attribute names (table order) and a
        float32 `(num_classes, len(names))` matrix.
    """
    if not isinstance(attributes, dict) or not attributes:
        raise ValueError(
            "`attributes` must be a non-empty dict {name: class indices}. "
            f"Received: {attributes!r}"
        )
    names = list(attributes)
    matrix = np.zeros((int(num_classes), len(names)), "float32")
    for column, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"Attribute names must be non-empty str. Received {name!r}"
            )
        classes = np.asarray(list(attributes[name]))
        if classes.size == 0:
            raise ValueError(f"Attribute {name!r} has no class")
        classes = check_labels(classes, num_classes, name=f"attributes[{name!r}]")
        matrix[classes, column] = 1.0
    return names, matrix


def image_attributes(labels, attributes, num_classes):
    """Per-image multi-hot attribute targets from class labels.

    Args:
        labels: int array `(N,)`.
        attributes: dict `{name: class indices}`.
        num_classes: int.

    Returns:
        Tuple `(names, float32 (N, A) targets)`.
    """
    names, matrix = class_attribute_matrix(attributes, num_classes)
    labels = check_labels(labels, num_classes, name="labels")
    return names, matrix[labels]


def load_class_attributes(path):
    """Reads a `{attribute: [class indices]}` table from a JSON file."""
    try:
        with open(path) as file:
            table = json.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"Attribute table {path!r} does not exist") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"Attribute table {path!r} is not valid JSON: {error}"
        ) from None
    if not isinstance(table, dict):
        raise ValueError(
            f"Attribute table {path!r} must be a JSON object {{name: [classes]}}"
        )
    return table
