"""`compute_attribution_targets_on_ray`: the target cache's shards as Ray tasks."""

import hashlib
import os
import socket
import tempfile

import keras
from tqdm.auto import tqdm

from keras_xai.explainers.base import Explainer
from keras_xai.explainers.by_name import get_explainer
from keras_xai.training.attribution_targets import (
    _merged_if_complete,
    open_target_cache,
    scale_maps,
    shard_range,
    write_shard,
)
from keras_xai.utils.validation import check_positive_int

# Per Ray worker process: the model and explainer last built, keyed by the
# SHA-256 of the saved model and the explainer's spec, so a worker loads
# the model once however many shards it computes.
_WORKER_STATE = {}


def compute_attribution_targets_on_ray(
    model,
    explainer,
    images,
    labels,
    cache_dir,
    explainer_options=None,
    shard_size=1024,
    scaling="max_abs",
    address=None,
    num_workers=None,
    max_retries=3,
    verbose=True,
):
    """`compute_attribution_targets` with its shards computed on Ray.

    Each missing shard of the cache becomes one Ray task. A worker loads
    the model (shipped once through Ray's object store as a `.keras` file)
    and builds the explainer once, then explains the shards it is given;
    the maps come back to this process, which writes them as the same
    atomic, checksummed shard files the local function writes, under the
    same fingerprinted metadata. Local and Ray runs can therefore fill one
    cache together, and an interrupted run resumes with whichever: shards
    on disk are kept, the rest are computed. A task whose worker dies is
    retried by Ray (`max_retries`).

    Args:
        model: Keras model to explain (the stage-1 classifier).
        explainer: str (a name of `keras_xai.explainers.EXPLAINERS`) or an
            `Explainer` subclass. Built on the model by every worker as
            `explainer(model, **explainer_options)`.
        images: array `(N, H, W, C)` in `[0, 1]`.
        labels: int array `(N,)`. The true classes (the explained targets).
        cache_dir: str. Cache directory on this machine (created if
            needed).
        explainer_options: dict or `None`. Keyword arguments of the
            explainer (e.g. `{"max_evals": 2000}` for SHAP). Defaults to
            `None`.
        shard_size: int. Images per shard (per task). Defaults to 1024.
        scaling: str. Per-image scaling, see `scale_maps`. Defaults to
            `"max_abs"`.
        address: str or `None`. The Ray cluster to join (`"auto"`,
            `"ray://host:10001"`, `"host:6379"`). `None` uses the Ray
            session this process already has, or starts a local one with
            `num_workers` CPUs and shuts it down when done.
        num_workers: int or `None`. CPUs of a local Ray session started
            here. Defaults to `None` (all CPUs).
        max_retries: int >= 0. Retries of a task whose worker died.
            Defaults to 3.
        verbose: bool. Show a progress bar over shards. Defaults to `True`.

    Returns:
        The merged float32 targets `(N, H, W)`.

    Example:

    ```python
    targets = compute_attribution_targets_on_ray(
        classifier, "shap", x_train, y_train, "cache/shap",
        explainer_options={"max_evals": 2000}, address="auto",
    )
    ```
    """
    ray = _import_ray()
    explainer_options = dict(explainer_options or {})
    cls = _explainer_class(explainer)
    local = cls(model, **explainer_options)
    max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
    if num_workers is not None:
        num_workers = check_positive_int(num_workers, "num_workers")
    _check_address(ray, address)
    images, labels, todo = open_target_cache(
        local, images, labels, cache_dir, shard_size, None, scaling
    )
    if todo:
        started = _connect(ray, address, num_workers)
        try:
            _compute_shards(
                ray, model, cls, explainer_options, images, labels, cache_dir,
                todo, shard_size, scaling, max_retries, verbose,
            )  # fmt: skip
        finally:
            if started:
                ray.shutdown()
    return _merged_if_complete(cache_dir)


def _compute_shards(
    ray, model, cls, options, images, labels, cache_dir, todo, shard_size,
    scaling, max_retries, verbose,
):  # fmt: skip
    model_bytes = _saved_model_bytes(model)
    spec = {
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "explainer": cls,
        "options": options,
        "scaling": scaling,
        "backend": keras.backend.backend(),
    }
    model_ref = ray.put(model_bytes)
    task = ray.remote(max_retries=max_retries, num_cpus=1)(_explain_shard)
    pending = {}
    for k in todo:
        part = shard_range(k, shard_size, len(images))
        ref = task.remote(model_ref, spec, images[part], labels[part])
        pending[ref] = k
    with tqdm(
        total=len(todo), unit="shard", desc="attribution targets (ray)",
        disable=not verbose,
    ) as progress:  # fmt: skip
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            k = pending.pop(done[0])
            try:
                maps = ray.get(done[0])
            except ray.exceptions.RayError as error:
                for ref in pending:
                    ray.cancel(ref)
                cause = getattr(error, "cause", None) or error
                raise RuntimeError(
                    f"Explaining shard {k} failed on Ray: {cause!r}; the shards "
                    "written so far are kept, rerun to compute the rest"
                ) from None
            write_shard(cache_dir, k, maps)
            progress.update(1)


def _explain_shard(model_bytes, spec, images, labels):
    """Ray task: the scaled maps of one shard (model loaded once per worker)."""
    if keras.backend.backend() != spec["backend"]:
        raise RuntimeError(
            f"This Ray worker runs Keras on {keras.backend.backend()!r}, the "
            f"driver on {spec['backend']!r}; set KERAS_BACKEND on the cluster"
        )
    key = (
        spec["model_sha256"],
        spec["explainer"],
        repr(sorted(spec["options"].items())),
    )
    if _WORKER_STATE.get("key") != key:
        _WORKER_STATE.clear()
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, "model.keras")
            with open(path, "wb") as file:
                file.write(model_bytes)
            model = keras.saving.load_model(path, compile=False)
        _WORKER_STATE["key"] = key
        _WORKER_STATE["explainer"] = spec["explainer"](model, **spec["options"])
    explainer = _WORKER_STATE["explainer"]
    return scale_maps(explainer(images, targets=labels), spec["scaling"])


def _saved_model_bytes(model):
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "model.keras")
        model.save(path)
        with open(path, "rb") as file:
            return file.read()


def _explainer_class(explainer):
    if isinstance(explainer, str):
        return get_explainer(explainer)
    if isinstance(explainer, type) and issubclass(explainer, Explainer):
        return explainer
    raise ValueError(
        "`explainer` must be an explainer name or an Explainer subclass (each "
        "Ray worker builds its own on the model). "
        f"Received: explainer={explainer!r}"
    )


def check_ray_address(address):
    """Refuses a Ray address that cannot work, in seconds rather than minutes.

    Ray itself keeps retrying an unreachable cluster for minutes; this
    checks the form of the address and that its host accepts a TCP
    connection (within 10 s). `"auto"` and `"local"` are left to Ray.

    Args:
        address: str. `"auto"`, `"local"`, `"host:port"` or
            `"ray://host:port"`.

    Raises:
        ValueError: naming the address and what is wrong with it.
    """
    if not isinstance(address, str):
        raise ValueError(
            f"`address` must be a str or None. Received: address={address!r}"
        )
    if address not in ("auto", "local"):
        _check_reachable(address)


def _check_address(ray, address):
    """Refuses an address that cannot work, before anything is computed."""
    if address is None:
        return
    check_ray_address(address)
    if ray.is_initialized():
        raise ValueError(
            "This process already has a Ray session; pass address=None to use "
            f"it, or shut it down first. Received: address={address!r}"
        )


def _connect(ray, address, num_workers):
    """Joins or starts a Ray session; returns whether it was started here."""
    if address is None and ray.is_initialized():
        return False
    options = {"log_to_driver": False}
    if address is None:
        options.update(num_cpus=num_workers, include_dashboard=False)
        # Workers started here must run Keras on this process's backend.
        os.environ.setdefault("KERAS_BACKEND", keras.backend.backend())
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ValueError(
            f"Could not connect to the Ray cluster at address={address!r}: {error}"
        ) from None
    return True


def _check_reachable(address, timeout=10.0):
    """Refuses an address whose host does not accept a TCP connection.

    Ray keeps retrying an unreachable cluster for minutes; a plain socket
    answers within `timeout` seconds.
    """
    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            "`address` must be 'auto', 'host:port' or 'ray://host:port'. "
            f"Received: address={address!r}"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout).close()
    except OSError as error:
        raise ValueError(
            f"Could not reach the Ray cluster at address={address!r}: {error}"
        ) from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError(
            "compute_attribution_targets_on_ray needs Ray: pip install 'keras-xai[ray]'"
        ) from None
    return ray
