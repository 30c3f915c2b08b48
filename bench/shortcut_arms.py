"""Benchmark: the training step of every shortcut-benchmark arm against CE.

On LeNet-5 (28x28x1, 10 classes, random weights) and one batch of 64
Ross-style decoy images, measures `train_on_batch` of each guided arm of
`keras_xai.benchmarks.shortcut` (input-gradient penalty on the patch and on
the background, GradCAM penalty, GradCAM fit, segment-overlap loss with 1
and 8 views) and of IMPACTX's stage 2, against the same classifier's CE
step. After a warm-up the configurations run round-robin, one step each per
round, so load from other processes hits them alike; the median over rounds
is reported with its ratio to CE. Goals (issue): an RRR step <= 3x a CE
step, a 1-view SO step <= 2.5x. Consistency reweighting trains with CE
steps plus a reweighting pass per round (see `bench/consistency.py`).

The wall time of each arm as trained in the benchmark (epochs to
convergence x seconds per epoch) is read from the stored runs under
`applications/shortcut_benchmark/*/results.json` and written alongside.
Writes `bench/results/shortcut_arms_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/shortcut_arms.py [--rounds 40]
"""

import glob
import json
import os

import keras
import numpy as np
from results_io import write_step_result
from timing import round_robin_step_times, step_timing_parser

from keras_xai.applications import ExplanationGuidedClassifier, ImageClassifier
from keras_xai.applications.impactx import IMPACTX
from keras_xai.benchmarks.shortcut import guidance_masks, shortcut_arm
from keras_xai.datasets.shortcut import make_shortcut_split

ARMS = (
    "rrr_decoy",
    "rrr_background",
    "rrr_gradcam_decoy",
    "cam_fit",
    "so_1view",
    "so_8views",
)
GOALS = {"rrr_decoy": 3.0, "rrr_background": 3.0, "so_1view": 2.5}
RUNS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "applications",
    "shortcut_benchmark",
)


def stored_wall_times():
    """Mean train seconds, epochs and seconds/epoch of each stored arm."""
    table = {}
    for path in sorted(glob.glob(os.path.join(RUNS, "*", "results.json"))):
        with open(path) as file:
            runs = json.load(file)["runs"]
        by_arm = {}
        for key, run in runs.items():
            by_arm.setdefault(key.rpartition("/seed")[0], []).append(run)
        experiment = os.path.basename(os.path.dirname(path))
        table[experiment] = {
            arm: {
                "seeds": len(rows),
                "train_seconds": float(np.mean([r["train_seconds"] for r in rows])),
                "epochs": float(np.mean([r["epochs"] for r in rows])),
                "seconds_per_epoch": float(
                    np.mean([r["seconds_per_epoch"] for r in rows])
                ),
            }
            for arm, rows in sorted(by_arm.items())
        }
    return table


def main(argv=None):
    args = step_timing_parser(__doc__).parse_args(argv)

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = np.zeros((args.batch_size, 28, 28), "uint8")
    images[:, 6:22, 8:20] = rng.integers(40, 255, (args.batch_size, 16, 12))
    labels = rng.integers(0, 10, args.batch_size)
    split = make_shortcut_split(images, labels, "ross", "train", num_classes=10)
    x = split.images[..., None].astype("float32") / 255.0

    classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
    )
    rows = [("ce", classifier, labels)]
    for name in ARMS:
        arm = shortcut_arm(name)
        model = ExplanationGuidedClassifier(classifier, **arm.options)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        rows.append(
            (name, model, {"label": labels, "mask": guidance_masks(arm, split)})
        )
    # IMPACTX freezes the classifier it wraps (M): give it its own copy, so
    # the other rows keep training theirs.
    impactx = IMPACTX(ImageClassifier("lenet5", (28, 28, 1), 10))
    impactx.compile()
    maps = rng.random((args.batch_size, 28, 28)).astype("float32")
    rows.append(("impactx_stage2", impactx, {"class": labels, "explanation": maps}))

    times = round_robin_step_times(
        {
            name: (lambda m=model, t=targets: m.train_on_batch(x, t))
            for name, model, targets in rows
        },
        args.rounds,
        args.warmup,
    )

    ce_ms = 1000 * float(np.median(times["ce"]))
    results = []
    print(f"{'arm':>20s} {'median ms':>10s} {'ratio':>7s}")
    for name, _, _ in rows:
        median_ms = 1000 * float(np.median(times[name]))
        row = {
            "arm": name,
            "median_ms": median_ms,
            "min_ms": 1000 * float(np.min(times[name])),
            "ratio_to_ce": median_ms / ce_ms,
        }
        note = ""
        if name in GOALS:
            row["goal_ratio"] = GOALS[name]
            row["meets_goal"] = row["ratio_to_ce"] <= GOALS[name]
            note = f"  goal <= {GOALS[name]}x"
        results.append(row)
        print(f"{name:>20s} {median_ms:10.2f} {row['ratio_to_ce']:6.2f}x{note}")

    return write_step_result(
        "shortcut_arms", args, ce_ms, results, stored_runs_wall_time=stored_wall_times()
    )


if __name__ == "__main__":
    main()
