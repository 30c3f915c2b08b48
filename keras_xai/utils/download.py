"""Files downloaded once into the Keras cache, verified, then used offline."""

import hashlib
import os

import keras

# Set to 1 (or true/yes) to forbid downloads: files must already be cached.
OFFLINE_VARIABLE = "KERAS_XAI_OFFLINE"


def keras_home():
    """The Keras cache root, by `keras.utils.get_file`'s rule: `$KERAS_HOME`
    or `~/.keras`, and `/tmp/.keras` when that is not writable."""
    base = os.path.expanduser(
        os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    )
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return base


def offline():
    """Whether `KERAS_XAI_OFFLINE` forbids downloads."""
    value = os.environ.get(OFFLINE_VARIABLE, "").strip().lower()
    return value in ("1", "true", "yes", "on")


def file_digest(path, algorithm):
    """The hex digest of a file (`"sha256"` or `"md5"`), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_algorithm(file_hash):
    """`"sha256"` for a 64-digit hex hash, `"md5"` for 32 digits (Keras's
    rule for the hashes it publishes)."""
    if not isinstance(file_hash, str) or len(file_hash) not in (32, 64):
        raise ValueError(
            "`file_hash` must be a hex SHA-256 (64 digits) or MD5 (32 digits) "
            f"string. Received: file_hash={file_hash!r}"
        )
    try:
        int(file_hash, 16)
    except ValueError:
        raise ValueError(
            f"`file_hash` must be hexadecimal. Received: file_hash={file_hash!r}"
        ) from None
    return "sha256" if len(file_hash) == 64 else "md5"


def fetch_file(fname, origin, file_hash=None, cache_subdir="models"):
    """The cached path of `fname`, downloaded from `origin` if missing.

    What `keras.utils.get_file` does for `keras.applications` and
    `keras.datasets`, with three guarantees more: a file whose hash does not
    match is never left in the cache (it is downloaded to a temporary name
    and moved into place only once verified); with `KERAS_XAI_OFFLINE=1`
    nothing is downloaded and a missing file is one clear error naming where
    to put it; a failed download is one clear error naming the URL.

    Args:
        fname: str. File name in the cache (no directories).
        origin: str. URL to download from.
        file_hash: str or `None`. Expected SHA-256 (64 hex digits) or MD5
            (32) of the file; `None` skips verification (only for files
            whose publisher gives no hash). Defaults to `None`.
        cache_subdir: str. Directory under the Keras cache. Defaults to
            `"models"`.

    Returns:
        The absolute path of the verified file.

    Raises:
        ValueError: for a bad argument, or when the downloaded file's hash
            differs from `file_hash` (the file is removed).
        FileNotFoundError: when the file is missing and downloads are off.
        ConnectionError: when the download fails.

    Example:

    ```python
    path = fetch_file(
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        file_hash="6d6bbae143d832006294945121d1f1fc",
    )
    ```
    """
    if not isinstance(fname, str) or not fname or os.path.basename(fname) != fname:
        raise ValueError(
            f"`fname` must be a file name without directories. Received: {fname!r}"
        )
    if not isinstance(origin, str) or "://" not in origin:
        raise ValueError(f"`origin` must be a URL. Received: origin={origin!r}")
    algorithm = None if file_hash is None else hash_algorithm(file_hash)
    directory = os.path.join(keras_home(), cache_subdir)
    path = os.path.join(directory, fname)
    if os.path.isfile(path):
        if algorithm is None or file_digest(path, algorithm) == file_hash.lower():
            return path
        stale = f"the cached {fname} does not match its {algorithm} {file_hash}"
    else:
        stale = None
    if offline():
        reason = stale or f"{fname} is not in the Keras cache"
        raise FileNotFoundError(
            f"{reason} and downloads are off ({OFFLINE_VARIABLE} is set). "
            f"Download {origin} on a machine with network access and put it "
            f"at {path}."
        )
    os.makedirs(directory, exist_ok=True)
    partial = f"{fname}.{os.getpid()}.part"
    partial_path = os.path.join(directory, partial)
    try:
        keras.utils.get_file(
            fname=partial,
            origin=origin,
            cache_dir=keras_home(),
            cache_subdir=cache_subdir,
        )
    except Exception as error:  # urllib's errors, re-raised by Keras as Exception
        _remove(partial_path)
        raise ConnectionError(
            f"Could not download {fname} from {origin} ({error}). Check the "
            f"network, or download the file elsewhere and put it at {path}."
        ) from None
    except KeyboardInterrupt:
        _remove(partial_path)
        raise
    if algorithm is not None:
        actual = file_digest(partial_path, algorithm)
        if actual != file_hash.lower():
            _remove(partial_path)
            raise ValueError(
                f"The file downloaded from {origin} has {algorithm} {actual}, "
                f"not the expected {file_hash}: refused and removed (an "
                "incomplete download or a changed file)."
            )
    os.replace(partial_path, path)
    return path


def _remove(path):
    if os.path.exists(path):
        os.remove(path)
