"""Attribution targets for explanation training, cached on disk in shards.

IMPACTX trains its explanation branch on maps `r = R(A, x, y)` of the
stage-1 classifier for the *true* class of every training image. Computing
them (SHAP with 2000 evaluations per image in the paper) is the expensive
step, so it is resumable: maps are written shard by shard, each shard
atomically (temporary file + rename) with a checksum, so an interrupted run
(Ctrl-C, a killed process) loses at most the shard in progress; a rerun
skips finished shards, and a corrupt shard is detected and recomputed.
`shard="i/n"` splits the work across processes or machines that share the
cache directory; `load_attribution_targets` merges the shards.
"""

import hashlib
import io
import json
import logging
import os

import keras
import numpy as np
from tqdm.auto import tqdm

from keras_xai.explainers.base import Explainer
from keras_xai.utils.atomic_write import atomic_write
from keras_xai.utils.validation import check_images, check_labels, check_positive_int

logger = logging.getLogger("keras_xai")

METADATA_FILE = "metadata.json"
_SCALINGS = ("max_abs", "none")


def check_scaling(scaling):
    """Validates the name of a target scaling (`"max_abs"` or `"none"`)."""
    if not isinstance(scaling, str) or scaling not in _SCALINGS:
        raise ValueError(f"`scaling` must be one of {_SCALINGS}. Received: {scaling!r}")
    return scaling


def scale_maps(maps, scaling="max_abs"):
    """Scales each map to `[-1, 1]` by its largest absolute value.

    The paper does not say how SHAP maps are scaled before the MSE; keras_xai
    divides each image's map by its maximum absolute value (all-zero maps
    stay zero), which keeps signs and the zero level.

    Args:
        maps: float array `(N, H, W)`.
        scaling: str. `"max_abs"` or `"none"`. Defaults to `"max_abs"`.

    Returns:
        float32 array `(N, H, W)`.
    """
    check_scaling(scaling)
    maps = np.asarray(maps, dtype="float32")
    if scaling == "none":
        return maps
    peak = np.abs(maps).reshape(len(maps), -1).max(axis=1)
    peak = np.where(peak > 0, peak, 1.0).astype("float32")
    return maps / peak[:, None, None]


def parse_shard(shard):
    """Parses `"i/n"` (or `None` for everything) into `(i, n)`."""
    if shard is None:
        return 0, 1
    try:
        index, count = (int(part) for part in str(shard).split("/"))
    except ValueError:
        raise ValueError(
            f"`shard` must look like 'i/n' (e.g. '0/4'). Received: shard={shard!r}"
        ) from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(
            f"`shard` 'i/n' needs n >= 1 and 0 <= i < n. Received: shard={shard!r}"
        )
    return index, count


# Explainer options that change how maps are batched, never their values.
_BATCHING_OPTIONS = frozenset(
    {
        "batch_size",
        "compile",
        "channel_batch_size",
        "steps_per_call",
        "samples_per_call",
    }
)


def fingerprint_model(model, layer_names=True):
    """SHA-256 of a model's class, configuration and current weights.

    The configuration catches changes that keep the weights' shapes (e.g.
    a ReLU replaced by tanh); models without `get_config` contribute each
    layer's class and configuration instead. The model's own name is left
    out: Keras numbers it per process (`"functional_3"`), so the same model
    built in another process has the same fingerprint.

    Args:
        model: `keras.Model`.
        layer_names: bool. With `False` the configuration is each layer's
            class and configuration without its name (Keras numbers names
            per process, "dense_3", so the same model built twice in one
            process matches only this way). Defaults to `True`.

    Returns:
        str, 64 hex digits.
    """
    if layer_names:
        return _fingerprint(model, _config_text(model, keep_name=False))
    return _fingerprint(model, _unnamed_layers_text(model))


def _fingerprint(model, config_text):
    digest = hashlib.sha256()
    digest.update(type(model).__name__.encode())
    digest.update(config_text.encode())
    for weights in model.get_weights():
        array = np.ascontiguousarray(weights)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _unnamed_layers_text(model):
    described = [
        [
            type(layer).__name__,
            {k: v for k, v in layer.get_config().items() if k != "name"},
        ]
        for layer in _leaf_layers(model)
    ]
    return json.dumps(described, sort_keys=True, default=repr)


def _leaf_layers(model):
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers"):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _config_text(model, keep_name):
    try:
        config = model.get_config()
    except (NotImplementedError, TypeError, AttributeError):
        config = None
    if not config:
        config = [
            [type(layer).__name__, layer.get_config()]
            for layer in getattr(model, "layers", [])
        ]
    elif not keep_name:
        config = {key: value for key, value in config.items() if key != "name"}
    return json.dumps(config, sort_keys=True, default=repr)


def _named_fingerprint(model):
    """The model fingerprint of caches written before the name was left out."""
    return _fingerprint(model, _config_text(model, keep_name=True))


def fingerprint_explainer(explainer):
    """The explainer's class and every option that shapes its maps, as a string.

    Options are the explainer's public attributes: numbers and strings as
    they are, arrays (e.g. an IntegratedGradients baseline) by a SHA-256 of
    their shape, dtype and values, the explained layer of CAM methods by
    its name. Batching options (`batch_size`, `compile`, ...) change the
    cost, not the maps, and are left out; so is the model (see
    `fingerprint_model`).
    """
    options = {}
    for key, value in sorted(vars(explainer).items()):
        if key.startswith("_") or key == "model" or key in _BATCHING_OPTIONS:
            continue
        options[key] = _option_value(value)
    return f"{type(explainer).__name__}{json.dumps(options, sort_keys=True)}"


def _option_value(value):
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return [_option_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _option_value(v) for k, v in sorted(value.items())}
    if hasattr(value, "layer_name"):  # a ModelSplit: the explained layer
        return {"layer": value.layer_name}
    if isinstance(value, np.generic):
        return value.item()
    try:
        array = np.ascontiguousarray(keras.ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001 - anything else: by its type name
        return type(value).__name__
    digest = hashlib.sha256(f"{array.shape}{array.dtype}".encode())
    digest.update(array.tobytes())
    return {"array": digest.hexdigest()}


def fingerprint_data(images, labels):
    """SHA-256 of the images and labels."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).astype("int64").tobytes())
    return digest.hexdigest()


def compute_attribution_targets(
    explainer,
    images,
    labels,
    cache_dir,
    shard_size=1024,
    shard=None,
    scaling="max_abs",
    verbose=True,
):
    """Computes (or resumes) true-class attribution maps into a disk cache.

    Args:
        explainer: `keras_xai.explainers.Explainer` on the stage-1 model.
        images: array `(N, H, W, C)` in `[0, 1]`.
        labels: int array `(N,)`. The true classes (the explained targets).
        cache_dir: str. Cache directory (created if needed).
        shard_size: int. Images per shard file. Defaults to 1024.
        shard: str or `None`. `"i/n"`: compute only the shards `k` with
            `k % n == i` (for parallel workers). Defaults to `None` (all).
        scaling: str. Per-image scaling, see `scale_maps`. Defaults to
            `"max_abs"`.
        verbose: bool. Show a progress bar with rate and ETA. Defaults to
            `True`.

    Returns:
        The merged float32 targets `(N, H, W)` when every shard is on disk,
        otherwise `None` (other workers still have shards to write).

    Example:

    ```python
    targets = compute_attribution_targets(
        GradCAM(classifier), x_train, y_train, "cache/gradcam"
    )
    ```
    """
    images, labels, todo = open_target_cache(
        explainer, images, labels, cache_dir, shard_size, shard, scaling
    )
    sizes = {k: min(shard_size, len(images) - k * shard_size) for k in todo}
    with tqdm(
        total=sum(sizes.values()),
        unit="img",
        desc=f"attribution targets ({fingerprint_explainer(explainer).split('{')[0]})",
        disable=not verbose,
    ) as progress:
        for k in todo:
            part = shard_range(k, shard_size, len(images))
            maps = explainer(images[part], targets=labels[part])
            write_shard(cache_dir, k, scale_maps(maps, scaling))
            progress.update(sizes[k])
    return _merged_if_complete(cache_dir)


def open_target_cache(explainer, images, labels, cache_dir, shard_size, shard, scaling):
    """Checks the arguments, opens the cache and lists the shards to compute.

    The cache's metadata (fingerprints of the model, the explainer and the
    data, the shard layout and the scaling) is written on first use and
    must match afterwards; shards on disk that are damaged are removed.
    Shared by `compute_attribution_targets` and its Ray twin
    (`compute_attribution_targets_on_ray`).

    Args:
        explainer: `Explainer`.
        images: array `(N, H, W, C)`.
        labels: int array `(N,)`.
        cache_dir: str.
        shard_size: int >= 1.
        shard: str `"i/n"` or `None`.
        scaling: str. See `scale_maps`.

    Returns:
        A tuple `(images, labels, todo)`: the checked arrays and the indices
        of the shards (of this worker's `shard`) still missing.
    """
    if not isinstance(explainer, Explainer):
        raise ValueError(
            "`explainer` must be a keras_xai Explainer. "
            f"Received: {type(explainer).__name__}"
        )
    images = check_images(images, expected_shape=explainer.model.inputs[0].shape[1:])
    labels = check_labels(
        labels, explainer.num_classes, name="labels", length=len(images)
    )
    shard_size = check_positive_int(shard_size, "shard_size")
    index, count = parse_shard(shard)
    if scaling not in _SCALINGS:
        raise ValueError(f"`scaling` must be one of {_SCALINGS}. Received: {scaling!r}")
    num_shards = -(-len(images) // shard_size)
    metadata = {
        "model": fingerprint_model(explainer.model),
        "explainer": fingerprint_explainer(explainer),
        "data": fingerprint_data(images, labels),
        "num_images": len(images),
        "map_shape": list(images.shape[1:3]),
        "shard_size": shard_size,
        "num_shards": num_shards,
        "scaling": scaling,
    }
    os.makedirs(cache_dir, exist_ok=True)
    # A cache written when the fingerprint still held the model's name.
    _check_or_write_metadata(
        cache_dir,
        metadata,
        also_accepted={"model": _named_fingerprint(explainer.model)},
    )

    mine = [k for k in range(num_shards) if k % count == index]
    todo = [k for k in mine if _read_shard(cache_dir, k, metadata) is None]
    return images, labels, todo


def shard_range(k, shard_size, num_images):
    """The slice of the images shard `k` holds."""
    return slice(k * shard_size, min((k + 1) * shard_size, num_images))


def _merged_if_complete(cache_dir):
    """The merged targets if every shard is on disk, else `None`."""
    metadata = _read_metadata(os.path.join(cache_dir, METADATA_FILE))
    num_shards = metadata["num_shards"]
    if all(os.path.isfile(_shard_path(cache_dir, k)) for k in range(num_shards)):
        return load_attribution_targets(cache_dir)
    return None


def load_attribution_targets(cache_dir):
    """Merges the shards of a complete cache into one `(N, H, W)` array.

    Args:
        cache_dir: str. A directory written by `compute_attribution_targets`.

    Returns:
        float32 array `(N, H, W)`.
    """
    path = os.path.join(cache_dir, METADATA_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No attribution-target cache in {cache_dir!r}")
    metadata = _read_metadata(path)
    shards, missing = [], []
    for k in range(metadata["num_shards"]):
        maps = _read_shard(cache_dir, k, metadata)
        if maps is None:
            missing.append(k)
        shards.append(maps)
    if missing:
        raise ValueError(
            f"The cache {cache_dir!r} is incomplete: shards {missing} of "
            f"{metadata['num_shards']} are missing or corrupt; run "
            "compute_attribution_targets again to finish it"
        )
    return np.concatenate(shards, axis=0)


def _check_or_write_metadata(cache_dir, metadata, also_accepted=None):
    path = os.path.join(cache_dir, METADATA_FILE)
    also_accepted = also_accepted or {}
    if os.path.isfile(path):
        existing = _read_metadata(path)
        different = [
            key
            for key in metadata
            if existing.get(key) != metadata[key]
            and (key not in also_accepted or existing.get(key) != also_accepted[key])
        ]
        if different:
            raise ValueError(
                f"The cache {cache_dir!r} was computed for a different "
                f"{', '.join(different)}; use another directory or delete it"
            )
        return
    with atomic_write(path) as file:
        json.dump(metadata, file, indent=2)


def _read_metadata(path):
    try:
        with open(path) as file:
            metadata = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"The cache's {path} is damaged ({error}); delete the cache "
            "directory to compute the targets afresh"
        ) from None
    if not isinstance(metadata, dict):
        raise ValueError(f"The cache's {path} is damaged: not a JSON object")
    return metadata


def _shard_path(cache_dir, k):
    return os.path.join(cache_dir, f"shard_{k:05d}.npz")


def _shard_checksum(k, maps):
    """SHA-256 of the shard's index and maps: a valid copy of another
    shard does not pass for shard `k`."""
    digest = hashlib.sha256(f"shard {k}".encode())
    digest.update(np.ascontiguousarray(maps).tobytes())
    return digest.hexdigest()


def write_shard(cache_dir, k, maps):
    """Writes shard `k` atomically with its checksum (whole or absent)."""
    buffer = io.BytesIO()
    np.savez(buffer, maps=maps, checksum=np.array(_shard_checksum(k, maps)))
    with atomic_write(_shard_path(cache_dir, k), "wb", fsync=True) as file:
        file.write(buffer.getvalue())


def _read_shard(cache_dir, k, metadata):
    """The shard's maps, or `None` when absent or corrupt (then removed)."""
    path = _shard_path(cache_dir, k)
    if not os.path.isfile(path):
        return None
    expected = min(
        metadata["shard_size"], metadata["num_images"] - k * metadata["shard_size"]
    )
    try:
        with np.load(path, allow_pickle=False) as data:
            maps = data["maps"]
            checksum = str(data["checksum"])
        valid = (
            maps.shape == (expected, *metadata["map_shape"])
            and _shard_checksum(k, maps) == checksum
        )
    except Exception:  # any unreadable file is treated as corrupt
        valid = False
    if not valid:
        logger.warning("attribution-target shard %s is corrupt; recomputing it", path)
        os.remove(path)
        return None
    return maps
