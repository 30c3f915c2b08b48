import os

import pytest

from keras_xai.applications import ImageClassifier, imagenet_weights_file


def test_missing_imagenet_file_names_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    expected = os.path.join(
        str(tmp_path), "models", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    assert imagenet_weights_file("vgg16", 32) == expected
    with pytest.raises(FileNotFoundError, match="never downloads") as info:
        ImageClassifier("vgg16", (32, 32, 3), 10, weights="imagenet")
    assert expected in str(info.value)


def test_mobilenet_file_depends_on_size(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert imagenet_weights_file("mobilenet", 160).endswith(
        "mobilenet_1_0_160_tf_no_top.h5"
    )
    assert imagenet_weights_file("mobilenet", 96).endswith(
        "mobilenet_1_0_224_tf_no_top.h5"
    )


def test_weights_path_must_exist():
    with pytest.raises(FileNotFoundError, match="no such file"):
        ImageClassifier("mobilenet", (32, 32, 3), 10, weights="/nonexistent/w.h5")


def test_weights_file_is_loaded(tmp_path):
    source = ImageClassifier("vgg16", (32, 32, 3), 3)
    path = str(tmp_path / "vgg16_notop.weights.h5")
    import keras

    features = keras.Model(source.input, source.get_layer("block5_pool").output)
    features.save_weights(path)
    # keras.applications loads a plain weights file into the backbone.
    loaded = ImageClassifier("vgg16", (32, 32, 3), 3, weights=path)
    for name in ("block1_conv1", "block5_conv3"):
        for a, b in zip(
            source.get_layer(name).get_weights(), loaded.get_layer(name).get_weights()
        ):
            assert (a == b).all()
