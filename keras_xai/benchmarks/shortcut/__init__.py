"""A shortcut benchmark: does explanation-guided training remove a decoy?

Builds decoy datasets (`shortcut_benchmark_data`), trains arms (CE floor,
clean ceiling, input-gradient penalties, the segment-overlap loss,
consistency reweighting) to convergence with early stopping on a
validation split, measures them on three test splits and keeps every run
on disk (`ShortcutBenchmark`).
"""

from keras_xai.benchmarks.shortcut.architectures import (
    SHORTCUT_ARCHITECTURES,
    ross_mlp,
    shortcut_classifier,
)
from keras_xai.benchmarks.shortcut.arms import (
    ARM_NAMES,
    ShortcutArm,
    ross_lambda_to_rrr_weight,
    shortcut_arm,
)
from keras_xai.benchmarks.shortcut.benchmark import ShortcutBenchmark
from keras_xai.benchmarks.shortcut.data import (
    TEST_SPLITS,
    ShortcutBenchmarkData,
    shortcut_benchmark_data,
)
from keras_xai.benchmarks.shortcut.evaluation import evaluate_arm
from keras_xai.benchmarks.shortcut.stage_one_cache import StageOneCache
from keras_xai.benchmarks.shortcut.summary import (
    paired_bootstrap_ci,
    summarize_runs,
)
from keras_xai.benchmarks.shortcut.training import guidance_masks, train_arm

__all__ = [
    "ARM_NAMES",
    "SHORTCUT_ARCHITECTURES",
    "ShortcutArm",
    "ShortcutBenchmark",
    "ShortcutBenchmarkData",
    "StageOneCache",
    "TEST_SPLITS",
    "evaluate_arm",
    "guidance_masks",
    "paired_bootstrap_ci",
    "ross_lambda_to_rrr_weight",
    "ross_mlp",
    "shortcut_arm",
    "shortcut_benchmark_data",
    "shortcut_classifier",
    "summarize_runs",
    "train_arm",
]
