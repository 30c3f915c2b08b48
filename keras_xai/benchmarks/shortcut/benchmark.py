"""`ShortcutBenchmark`: every arm x seed trained, measured and kept on disk."""

import hashlib
import json
import os
import time

from keras_xai.benchmarks.shortcut.architectures import (
    SHORTCUT_ARCHITECTURES,
    shortcut_classifier,
)
from keras_xai.benchmarks.shortcut.arms import CAM_ARMS, shortcut_arm
from keras_xai.benchmarks.shortcut.evaluation import evaluate_arm
from keras_xai.benchmarks.shortcut.stage_one_cache import StageOneCache
from keras_xai.benchmarks.shortcut.summary import summarize_runs
from keras_xai.benchmarks.shortcut.training import train_arm
from keras_xai.utils.results_store import ResultsStore
from keras_xai.utils.validation import check_positive_int


class ShortcutBenchmark:
    """Trains arms on a shortcut dataset and keeps each finished run.

    Every (arm, seed) pair trains a fresh classifier with `train_arm`
    (early stopping on the validation split) and is measured with
    `evaluate_arm` on the three test splits. Runs are stored in
    `results.json` under `output_dir` as they finish, keyed by arm and seed
    and fingerprinted by the benchmark's settings, so an interrupted
    benchmark rerun with the same settings resumes where it stopped and a
    rerun with other settings starts afresh. The two-stage arms of a seed
    share one CE first stage, kept in `output_dir/stage_one`
    (`StageOneCache`), and a run of most arms killed mid-way resumes from
    its last finished epoch (kept in `output_dir/in_progress`).

    Args:
        data: `ShortcutBenchmarkData`.
        architecture: str. One of `SHORTCUT_ARCHITECTURES`.
        output_dir: str. Where `results.json` lives.
        max_epochs: int. Defaults to 30.
        patience: int. Early-stopping patience. Defaults to 3.
        batch_size: int. Defaults to 64.
        learning_rate: float. Defaults to 1e-3.
        settings: dict. More settings that shaped the data (dataset name,
            sizes) to fingerprint. Defaults to `{}`.
        faithfulness_images: int >= 0. Test images on which every run's
            maps are compared by MoRF AOPC (`explanation_faithfulness`:
            the model's own map, PartitionSHAP and random maps on the same
            model); 0 skips it. Part of the results' fingerprint but not of
            the first stages', so a directory measured without it can lend
            its `stage_one` to one measured with it. Defaults to 0.

    Example:

    ```python
    data = shortcut_benchmark_data(x, y, xt, yt, variant="ross")
    bench = ShortcutBenchmark(data, "mlp", "runs/ross_mlp")
    bench.run(["ceiling", "floor", "rrr_decoy"], seeds=[0, 1, 2])
    bench.summary()["arms"]["rrr_decoy@0.0153787"]["gap_share"]["test_random"]
    ```
    """

    def __init__(
        self,
        data,
        architecture,
        output_dir,
        max_epochs=30,
        patience=3,
        batch_size=64,
        learning_rate=1e-3,
        settings=None,
        faithfulness_images=0,
    ):
        if architecture not in SHORTCUT_ARCHITECTURES:
            raise ValueError(
                f"`architecture` must be one of {SHORTCUT_ARCHITECTURES}. "
                f"Received: architecture={architecture!r}"
            )
        self.data = data
        self.architecture = architecture
        self.training = {
            "max_epochs": check_positive_int(max_epochs, "max_epochs"),
            "patience": check_positive_int(patience, "patience"),
            "batch_size": check_positive_int(batch_size, "batch_size"),
            "learning_rate": float(learning_rate),
        }
        fingerprint = {
            **(settings or {}),
            **self.training,
            "variant": data.variant,
            "patch_size": data.patch_size,
            "pad": data.pad,
            "architecture": architecture,
            "image_shape": list(data.train.images.shape[1:]),
            "train_images": int(len(data.train.labels)),
            "validation_images": int(len(data.validation.labels)),
            "test_images": int(len(data.test["random"].labels)),
        }
        self.faithfulness_images = check_positive_int(
            faithfulness_images, "faithfulness_images", minimum=0
        )
        # The first stages do not depend on how the runs are measured.
        self.stage_one = StageOneCache(
            os.path.join(output_dir, "stage_one"), dict(fingerprint)
        )
        if self.faithfulness_images:
            fingerprint["faithfulness_images"] = self.faithfulness_images
        self.store = ResultsStore(os.path.join(output_dir, "results.json"), fingerprint)
        self.store_dir = output_dir
        # Names the runs in progress: a backup made under other settings
        # is never resumed.
        self.settings_hash = hashlib.sha256(
            json.dumps(fingerprint, sort_keys=True).encode()
        ).hexdigest()[:12]

    def run(self, arms, seeds, log=print):
        """Trains and measures every arm for every seed not yet stored.

        Args:
            arms: iterable of arm names (`shortcut_arm`), e.g. `"floor"`,
                `"rrr_decoy@0.03"`.
            seeds: iterable of ints.
            log: callable taking one line of progress (a line when a run
                starts, one per epoch, one with its results). Defaults to
                `print`.

        Returns:
            dict run key -> stored result, for the runs asked for.
        """
        arms = [shortcut_arm(name) for name in arms]
        if self.architecture == "mlp":
            needs_cam = [arm.name for arm in arms if arm.name.split("@")[0] in CAM_ARMS]
            if needs_cam:
                raise ValueError(
                    f"Arms {needs_cam} need a convolutional feature map; "
                    "architecture='mlp' has none"
                )
        layered = [arm for arm in arms if "feature_layer" in arm.options]
        if layered:
            layers = {
                layer.name
                for layer in shortcut_classifier(
                    self.architecture,
                    self.data.train.images.shape[1:],
                    self.data.num_classes,
                ).layers
            }
            missing = [
                arm.name
                for arm in layered
                if arm.options["feature_layer"] not in layers
            ]
            if missing:
                raise ValueError(
                    f"Arms {missing} explain a layer that "
                    f"architecture={self.architecture!r} does not have"
                )
        seeds = [int(seed) for seed in seeds]
        todo = [(arm, seed) for arm in arms for seed in seeds]
        results = {}
        start = time.time()
        for index, (arm, seed) in enumerate(todo, 1):
            key = f"{arm.name}/seed{seed}"
            stored = self.store.get(key)
            if stored is not None and stored.get("options") == arm.options:
                results[key] = stored
                log(f"[{index}/{len(todo)}] {key}: stored")
                continue
            log(f"[{index}/{len(todo)}] {key}: training")
            classifier, info = train_arm(
                arm,
                self.data,
                self.architecture,
                seed,
                progress=log,
                stage_one=self.stage_one,
                backup_dir=os.path.join(
                    self.store_dir,
                    "in_progress",
                    f"{self.settings_hash}_{key.replace('/', '_')}",
                ),
                **self.training,
            )
            # IMPACTX's backbone is a nested model: no top-level CAM layer.
            measured = evaluate_arm(
                classifier,
                self.data,
                has_feature_map=self.architecture != "mlp" and arm.kind != "impactx",
                faithfulness_images=self.faithfulness_images,
            )
            results[key] = self.store.put(
                key,
                {
                    "arm": arm.name.split("@")[0],
                    "seed": seed,
                    "options": arm.options,
                    **info,
                    **measured,
                },
            )
            elapsed = time.time() - start
            log(
                f"[{index}/{len(todo)}] {key}: random {measured['test_random']:.4f} "
                f"far {measured['test_far']:.4f} none {measured['test_none']:.4f} "
                f"({info['epochs']} epochs, {info['train_seconds']:.0f} s; "
                f"{elapsed:.0f} s so far)"
            )
        return results

    def summary(self):
        """`summarize_runs` of every stored run (see there)."""
        return summarize_runs(self.store.runs, gap_shares=self.data.variant != "clean")
