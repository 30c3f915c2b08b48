import hashlib
import io
import os
import tarfile

import numpy as np
import pytest

from keras_xai.datasets import downloads
from keras_xai.datasets.cifar import load_cifar10
from keras_xai.datasets.downloads import (
    DATASET_ARCHIVES,
    dataset_directory,
    extract_archive,
    fetch_dataset,
)
from tests.datasets.test_cifar import cifar10  # noqa: F401 (a fixture)
from tests.http_server import serve_directory


def _tar_gz(path, root, member_dir):
    with tarfile.open(path, "w:gz") as archive:
        archive.add(os.path.join(root, member_dir), arcname=member_dir)
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def served_cifar10(cifar10, tmp_path, monkeypatch):  # noqa: F811
    """A tiny CIFAR-10 archive (the original python layout) on 127.0.0.1."""
    root, train, test = cifar10
    server = tmp_path / "server"
    server.mkdir()
    md5 = _tar_gz(server / "cifar-10-python.tar.gz", root, "cifar-10-batches-py")
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("KERAS_XAI_OFFLINE", raising=False)
    with serve_directory(server) as (url, requests):
        entry = (("cifar-10-python.tar.gz", url + "/cifar-10-python.tar.gz", md5),)
        monkeypatch.setitem(DATASET_ARCHIVES, "cifar10", entry)
        yield home, requests, train, test


def test_loader_without_path_downloads_once_then_reads_offline(served_cifar10):
    home, requests, (x_train, y_train), (x_test, y_test) = served_cifar10
    data = load_cifar10()
    np.testing.assert_array_equal(data.x_train, x_train)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert requests == ["/cifar-10-python.tar.gz"]
    directory = dataset_directory("cifar10")
    assert directory == str(home / "datasets" / "cifar10")
    assert os.path.isdir(os.path.join(directory, "cifar-10-batches-py"))
    # Extracted and marked complete: no second download, the same data.
    again = load_cifar10()
    np.testing.assert_array_equal(again.x_test, x_test)
    assert requests == ["/cifar-10-python.tar.gz"]
    assert not [n for n in os.listdir(home / "datasets") if n.endswith(".partial")]


def test_incomplete_directory_is_extracted_again_from_the_cache(served_cifar10):
    _, requests, (x_train, _), _ = served_cifar10
    directory = fetch_dataset("cifar10")
    os.remove(os.path.join(directory, downloads._MARKER))
    os.remove(os.path.join(directory, "cifar-10-batches-py", "data_batch_3"))
    assert fetch_dataset("cifar10") == directory
    np.testing.assert_array_equal(load_cifar10(directory).x_train, x_train)
    assert requests == ["/cifar-10-python.tar.gz"]  # the archive was cached


def test_offline_without_the_archive(served_cifar10, monkeypatch):
    _, requests, _, _ = served_cifar10
    monkeypatch.setenv("KERAS_XAI_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        load_cifar10()
    assert requests == []


def test_unsafe_archive_is_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as bundle:
        payload = b"outside"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(payload)
        bundle.addfile(info, io.BytesIO(payload))
    with pytest.raises(ValueError, match="Refusing to extract"):
        extract_archive(str(archive), str(tmp_path / "out"))
    assert not (tmp_path / "escaped.txt").exists()
    (tmp_path / "plain.txt").write_text("not a tar")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        extract_archive(str(tmp_path / "plain.txt"), str(tmp_path / "out2"))


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="`name` must be one of"):
        fetch_dataset("imagenet")


def test_every_archive_has_a_url_and_an_md5():
    for name, archives in DATASET_ARCHIVES.items():
        assert archives, name
        for fname, origin, md5 in archives:
            assert origin.startswith(("http://", "https://")) and "/" not in fname
            assert len(md5) == 32 and int(md5, 16) >= 0
