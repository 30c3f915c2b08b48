"""Summary statistics of a shortcut benchmark's runs."""

import numpy as np

from keras_xai.benchmarks.shortcut.data import TEST_SPLITS

METRICS = (
    "test_random",
    "test_far",
    "test_none",
    "validation",
    "validation_random",
    "decoy_saliency_share",
    "gradcam_iou",
    "own_explanation_decoy_share",
    "aopc_own",
    "aopc_shap",
    "aopc_random",
    "aopc_own_minus_shap",
    "own_shap_correlation",
    "epochs",
    "seconds_per_epoch",
)
_SPLIT_METRICS = tuple(f"test_{name}" for name in TEST_SPLITS)


def paired_bootstrap_ci(differences, confidence=0.95, resamples=10000, seed=0):
    """Percentile bootstrap interval of the mean of paired differences.

    Args:
        differences: array-like `(n,)`, e.g. arm minus floor per seed.
        confidence: float in (0, 1). Defaults to 0.95.
        resamples: int. Defaults to 10,000.
        seed: int. Defaults to 0.

    Returns:
        Tuple `(low, high)`; `(nan, nan)` for fewer than two differences.
    """
    values = np.asarray(differences, dtype="float64")
    if values.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(1)
    tail = (1.0 - confidence) / 2.0
    return float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail))


def _stats(values):
    values = np.asarray(values, dtype="float64")
    return {
        "mean": float(values.mean()),
        # Sample standard deviation (ddof = 1) over seeds.
        "std": float(values.std(ddof=1)) if values.size > 1 else None,
        "n": int(values.size),
        "values": values.tolist(),
    }


def summarize_runs(runs, gap_shares=True):
    """Per-arm means, sample stds, gap shares and paired CIs against CE.

    Args:
        runs: dict `"<arm name>/seed<k>"` -> stored result (as written by
            `ShortcutBenchmark`).
        gap_shares: bool. `False` leaves every gap share `None` (the
            `"clean"` variant: ceiling and floor are the same training, so
            their difference is noise, not a gap). Defaults to `True`.

    Returns:
        dict with `arms`: arm name -> {`seeds`, each metric's `{"mean",
        "std" (sample std, ddof = 1), "n", "values" (per seed, in seed
        order)}`, `gap_share` per test split
        (`(arm − floor) / (ceiling − floor)` of the means; `None` without a
        positive gap), `difference_to_floor` per test split (mean paired
        difference over shared seeds and its 95 % bootstrap interval),
        `cost_vs_floor` (seconds per epoch relative to the floor)}; and
        `selected`: swept arm -> the weight with the best mean accuracy on
        the random-patch *validation* split (never the test split).
    """
    by_arm = {}
    for key, result in runs.items():
        name, _, _ = key.rpartition("/seed")
        by_arm.setdefault(name, {})[int(result["seed"])] = result
    summary = {}
    for name, seeds in sorted(by_arm.items()):
        entry = {"seeds": sorted(seeds)}
        for metric in METRICS:
            values = [
                seeds[seed][metric]
                for seed in sorted(seeds)
                if seeds[seed].get(metric) is not None
            ]
            entry[metric] = _stats(values) if values else None
        summary[name] = entry
    floor, ceiling = by_arm.get("floor"), by_arm.get("ceiling")
    for name, entry in summary.items():
        entry["gap_share"], entry["difference_to_floor"] = {}, {}
        for metric in _SPLIT_METRICS:
            share = None
            if gap_shares and floor and ceiling:
                low = summary["floor"][metric]["mean"]
                gap = summary["ceiling"][metric]["mean"] - low
                if gap > 0:
                    share = (entry[metric]["mean"] - low) / gap
            entry["gap_share"][metric] = share
            if floor:
                shared = sorted(set(by_arm[name]) & set(floor))
                diffs = [by_arm[name][s][metric] - floor[s][metric] for s in shared]
                low, high = paired_bootstrap_ci(diffs)
                entry["difference_to_floor"][metric] = {
                    "mean": float(np.mean(diffs)) if diffs else None,
                    "ci95": [low, high],
                    "n": len(diffs),
                }
        entry["cost_vs_floor"] = (
            entry["seconds_per_epoch"]["mean"]
            / summary["floor"]["seconds_per_epoch"]["mean"]
            if floor
            else None
        )
    selected = {}
    for name, entry in summary.items():
        base, _, weight = name.partition("@")
        if not weight or entry["validation_random"] is None:
            continue
        score = entry["validation_random"]["mean"]
        if base not in selected or score > selected[base]["validation_random"]:
            selected[base] = {"arm": name, "validation_random": score}
    return {"arms": summary, "selected": selected}
