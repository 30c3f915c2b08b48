"""Benchmark: cost of a CE + segment-overlap training step against a CE step.

On LeNet-5 (28x28x1, 10 classes, random weights) with one batch of 64
random images and masks, measures `train_on_batch` of:

- the plain classifier compiled with sparse cross-entropy (the CE step);
- `ExplanationGuidedClassifier` with the segment-overlap term for 1, 2, 4
  and 8 dihedral views (`cam_mode="target"`, the paper's setting);
- for reference: `beta=1` (the wrapper with the guidance skipped),
  `cam_mode="all_classes"` at 8 views and `guidance="rrr"`;
- the floor for V views: a CE step on the `V·B` images of the views
  (`ce_<V>x_batch`, a copy of the classifier), against which each SO step
  is also reported (the overhead beyond the work the views add).

All models share the classifier's weights. After a warm-up (tracing), the
configurations are timed round-robin, one step each per round, so load from
other processes on a shared machine hits all of them alike; the median over
rounds is reported (the minimum too) and divided by the CE step's. Goal: 8
views <= 9x a CE step, 1 view <= 2.5x. Writes
`bench/results/so_loss_<backend>.json`.

On a machine shared with other jobs, torch's CPU thread pool makes single
steps wildly uneven (a median CE step of 445 ms against a minimum of 12 ms
here); run it with `OMP_NUM_THREADS=1` (recorded in the JSON).

    KERAS_BACKEND=tensorflow python bench/so_loss.py [--rounds 40]
    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python bench/so_loss.py
"""

import os

import keras
import numpy as np
from results_io import write_step_result
from timing import round_robin_step_times, step_timing_parser

from keras_xai.applications import ImageClassifier
from keras_xai.applications.explanation_guided import ExplanationGuidedClassifier

GOALS = {1: 2.5, 8: 9.0}


def configurations(classifier):
    """(name, views, model, fit targets) for every timed configuration."""
    rows = [("ce", None, classifier, "labels")]
    for views in (2, 4, 8):
        # The floor for V views: a CE step on the V·B images of the views.
        twin = ImageClassifier("lenet5", (28, 28, 1), 10)
        twin.set_weights(classifier.get_weights())
        twin.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        rows.append((f"ce_{views}x_batch", views, twin, f"labels_{views}"))
    for views in (1, 2, 4, 8):
        model = ExplanationGuidedClassifier(classifier, views=views)
        rows.append((f"so_{views}_views", views, model, "dict"))
    rows.append(
        (
            "guided_beta_1",
            None,
            ExplanationGuidedClassifier(classifier, beta=1.0),
            "dict",
        )
    )
    rows.append(
        (
            "so_8_views_all_classes",
            8,
            ExplanationGuidedClassifier(classifier, views=8, cam_mode="all_classes"),
            "dict",
        )
    )
    rows.append(
        ("rrr", None, ExplanationGuidedClassifier(classifier, guidance="rrr"), "dict")
    )
    return rows


def main(argv=None):
    args = step_timing_parser(__doc__).parse_args(argv)

    keras.utils.set_random_seed(0)
    classifier = ImageClassifier("lenet5", (28, 28, 1), 10)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(0)
    x = rng.random((args.batch_size, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, args.batch_size).astype("int32")
    masks = (x[..., 0] > 0.5).astype("float32")
    targets = {"labels": y, "dict": {"label": y, "mask": masks}}
    inputs = {"labels": x, "dict": x}
    for views in (2, 4, 8):
        inputs[f"labels_{views}"] = np.concatenate([x] * views)
        targets[f"labels_{views}"] = np.concatenate([y] * views)

    rows = configurations(classifier)
    for _, _, model, _ in rows:
        if isinstance(model, ExplanationGuidedClassifier):
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
    times = round_robin_step_times(
        {
            name: (lambda m=model, k=kind: m.train_on_batch(inputs[k], targets[k]))
            for name, _, model, kind in rows
        },
        args.rounds,
        args.warmup,
    )

    ce_ms = 1000 * float(np.median(times["ce"]))
    ce_min_ms = 1000 * float(np.min(times["ce"]))
    results = []
    header = ("configuration", "median ms", "ratio", "min ms", "ratio")
    print("{:>24s} {:>10s} {:>7s} {:>8s} {:>7s}".format(*header))
    for name, views, _, _ in rows:
        median_ms = 1000 * float(np.median(times[name]))
        min_ms = 1000 * float(np.min(times[name]))
        row = {
            "configuration": name,
            "views": views,
            "median_ms": median_ms,
            "ratio_to_ce": median_ms / ce_ms,
            "min_ms": min_ms,
            "min_ratio_to_ce": min_ms / ce_min_ms,
        }
        floor = f"ce_{views}x_batch"
        note = ""
        if name.startswith("so_") and floor in times:
            # Overhead beyond the V-fold work the views inherently add.
            row["ratio_to_ce_on_views_batch"] = median_ms / (
                1000 * float(np.median(times[floor]))
            )
            note += f"  ({row['ratio_to_ce_on_views_batch']:.2f}x {floor})"
        if name == f"so_{views}_views" and views in GOALS:
            row["goal_ratio"] = GOALS[views]
            row["meets_goal"] = row["ratio_to_ce"] <= GOALS[views]
            note += f"  goal <= {GOALS[views]}x"
        results.append(row)
        print(
            f"{name:>24s} {median_ms:10.2f} {row['ratio_to_ce']:6.2f}x "
            f"{min_ms:8.2f} {row['min_ratio_to_ce']:6.2f}x" + note
        )

    return write_step_result(
        "so_loss",
        args,
        ce_ms,
        results,
        omp_num_threads=os.environ.get("OMP_NUM_THREADS"),
    )


if __name__ == "__main__":
    main()
