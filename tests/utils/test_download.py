import hashlib
import os

import pytest

from keras_xai.utils.download import fetch_file, hash_algorithm, keras_home
from tests.http_server import serve_directory

CONTENT = b"weights of a small test model\n" * 100


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A file on a local server, and an empty Keras cache."""
    source = tmp_path / "server"
    source.mkdir()
    (source / "weights.h5").write_bytes(CONTENT)
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("KERAS_XAI_OFFLINE", raising=False)
    with serve_directory(source) as (url, requests):
        yield url + "/weights.h5", requests, home / "models"


def _leftovers(directory):
    return sorted(os.listdir(directory)) if directory.exists() else []


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_downloads_once_verified_then_offline(served, algorithm):
    url, requests, cache = served
    digest = hashlib.new(algorithm, CONTENT).hexdigest()
    path = fetch_file("weights.h5", url, file_hash=digest)
    assert path == str(cache / "weights.h5")
    assert open(path, "rb").read() == CONTENT
    assert requests == ["/weights.h5"]
    # Cached and verified: no second request.
    assert fetch_file("weights.h5", url, file_hash=digest.upper()) == path
    assert requests == ["/weights.h5"]
    assert _leftovers(cache) == ["weights.h5"]


def test_wrong_hash_is_refused_and_leaves_no_file(served):
    url, _, cache = served
    wrong = hashlib.sha256(b"another file").hexdigest()
    with pytest.raises(ValueError, match="not the expected") as info:
        fetch_file("weights.h5", url, file_hash=wrong)
    assert url in str(info.value) and wrong in str(info.value)
    assert _leftovers(cache) == []


def test_damaged_cached_file_is_downloaded_again(served):
    url, requests, cache = served
    cache.mkdir(parents=True)
    (cache / "weights.h5").write_bytes(b"truncated")
    digest = hashlib.sha256(CONTENT).hexdigest()
    path = fetch_file("weights.h5", url, file_hash=digest)
    assert open(path, "rb").read() == CONTENT and len(requests) == 1


def test_offline_names_the_file_and_where_to_put_it(served, monkeypatch):
    url, requests, cache = served
    monkeypatch.setenv("KERAS_XAI_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="KERAS_XAI_OFFLINE") as info:
        fetch_file("weights.h5", url, file_hash=hashlib.md5(CONTENT).hexdigest())
    assert str(cache / "weights.h5") in str(info.value) and url in str(info.value)
    assert requests == []


def test_failed_download_is_one_clear_error(served):
    url, _, cache = served
    missing = url.replace("weights.h5", "missing.h5")
    with pytest.raises(ConnectionError, match="Could not download missing.h5"):
        fetch_file("missing.h5", missing)
    assert _leftovers(cache) == []


def test_no_hash_downloads_unverified(served):
    url, _, _ = served
    assert open(fetch_file("weights.h5", url), "rb").read() == CONTENT


def test_bad_arguments(served):
    url, requests, _ = served
    with pytest.raises(ValueError, match="`fname` must be a file name"):
        fetch_file("../weights.h5", url)
    with pytest.raises(ValueError, match="`origin` must be a URL"):
        fetch_file("weights.h5", "weights.h5")
    with pytest.raises(ValueError, match="`file_hash` must be a hex"):
        fetch_file("weights.h5", url, file_hash="abc")
    with pytest.raises(ValueError, match="hexadecimal"):
        hash_algorithm("z" * 64)
    assert requests == []


def test_keras_home_follows_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert keras_home() == str(tmp_path)
    # Not writable (here: missing): Keras falls back to /tmp/.keras.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "absent"))
    assert keras_home() == os.path.join("/tmp", ".keras")
