import hashlib
import os

import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier, imagenet_weights_file
from keras_xai.applications import imagenet_weights as imagenet_module
from tests.http_server import serve_directory


def test_offline_missing_imagenet_file_names_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_XAI_OFFLINE", "1")
    expected = os.path.join(
        str(tmp_path), "models", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    assert imagenet_weights_file("vgg16", 32) == expected
    with pytest.raises(FileNotFoundError, match="KERAS_XAI_OFFLINE") as info:
        ImageClassifier("vgg16", (32, 32, 3), 10, weights="imagenet")
    assert expected in str(info.value)
    assert "storage.googleapis.com" in str(info.value)


def test_imagenet_weights_download_like_keras_applications(tmp_path, monkeypatch):
    """The download path end to end, served from 127.0.0.1: the backbone's
    weights file is fetched once into the Keras cache, verified, loaded."""
    source = ImageClassifier("vgg16", (32, 32, 3), 3)
    features = keras.Model(source.input, source.get_layer("block5_pool").output)
    served = tmp_path / "server"
    served.mkdir()
    features.save_weights(str(served / "vgg16_notop.weights.h5"))
    digest = hashlib.sha256((served / "vgg16_notop.weights.h5").read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("KERAS_XAI_OFFLINE", raising=False)
    with serve_directory(served) as (url, requests):
        monkeypatch.setitem(
            imagenet_module.IMAGENET_WEIGHTS,
            "vgg16",
            (
                "vgg16_notop.weights.h5",
                url + "/vgg16_notop.weights.h5",
                digest.hexdigest(),
            ),
        )
        first = ImageClassifier("vgg16", (32, 32, 3), 3, weights="imagenet")
        second = ImageClassifier("vgg16", (32, 32, 3), 3, weights="imagenet")
        assert requests == ["/vgg16_notop.weights.h5"]
        # A changed file on the server is refused and leaves the cache as is.
        monkeypatch.setitem(
            imagenet_module.IMAGENET_WEIGHTS,
            "vgg16",
            ("other.weights.h5", url + "/vgg16_notop.weights.h5", "0" * 64),
        )
        with pytest.raises(ValueError, match="not the expected"):
            ImageClassifier("vgg16", (32, 32, 3), 3, weights="imagenet")
    assert sorted(os.listdir(home / "models")) == ["vgg16_notop.weights.h5"]
    for model in (first, second):
        for name in ("block1_conv1", "block5_conv3"):
            for a, b in zip(
                source.get_layer(name).get_weights(),
                model.get_layer(name).get_weights(),
            ):
                np.testing.assert_array_equal(a, b)


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
    features = keras.Model(source.input, source.get_layer("block5_pool").output)
    features.save_weights(path)
    # keras.applications loads a plain weights file into the backbone.
    loaded = ImageClassifier("vgg16", (32, 32, 3), 3, weights=path)
    for name in ("block1_conv1", "block5_conv3"):
        for a, b in zip(
            source.get_layer(name).get_weights(), loaded.get_layer(name).get_weights()
        ):
            assert (a == b).all()
