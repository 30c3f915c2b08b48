import json

import numpy as np
import pytest

from keras_xai.datasets.class_attributes import (
    FASHION_MNIST_ATTRIBUTES,
    class_attribute_matrix,
    image_attributes,
    load_class_attributes,
)


def test_matrix_marks_the_classes_of_each_attribute():
    names, matrix = class_attribute_matrix({"a": [0, 2], "b": [1]}, 3)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(matrix, [[1, 0], [0, 1], [1, 0]])


def test_fashion_mnist_table_covers_every_class():
    names, matrix = class_attribute_matrix(FASHION_MNIST_ATTRIBUTES, 10)
    assert matrix.sum(axis=1).min() >= 1  # every class has an attribute
    assert matrix[9, names.index("footwear")] == 1  # ankle boot
    assert matrix[8, names.index("has_handle")] == 1  # bag


def test_image_attributes_follow_labels():
    _, targets = image_attributes([1, 0], {"a": [0], "b": [1]}, 2)
    np.testing.assert_array_equal(targets, [[0, 1], [1, 0]])


def test_json_table_round_trip(tmp_path):
    path = tmp_path / "attributes.json"
    path.write_text(json.dumps({"a": [0, 1]}))
    assert load_class_attributes(path) == {"a": [0, 1]}
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        load_class_attributes(path)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_class_attributes(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "table, match",
    [({}, "non-empty dict"), ({"a": []}, "no class"), ({"a": [5]}, "attributes")],
)
def test_bad_tables(table, match):
    with pytest.raises(ValueError, match=match):
        class_attribute_matrix(table, 3)
