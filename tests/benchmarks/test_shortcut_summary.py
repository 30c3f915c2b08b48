import numpy as np
import pytest

from keras_xai.benchmarks.shortcut import paired_bootstrap_ci, summarize_runs


def _run(arm, seed, random, far=None, none=None, seconds=1.0):
    return {
        "arm": arm.split("@")[0],
        "seed": seed,
        "test_random": random,
        "test_far": random if far is None else far,
        "test_none": 0.8 if none is None else none,
        "validation": 0.9,
        "validation_random": random,
        "decoy_saliency_share": 0.1,
        "gradcam_iou": None,
        "epochs": 10,
        "seconds_per_epoch": seconds,
    }


def test_gap_share_and_paired_differences():
    runs = {}
    for seed, (low, high, mid) in enumerate([(0.40, 0.80, 0.70), (0.50, 0.90, 0.60)]):
        runs[f"floor/seed{seed}"] = _run("floor", seed, low)
        runs[f"ceiling/seed{seed}"] = _run("ceiling", seed, high)
        runs[f"rrr_decoy@0.1/seed{seed}"] = _run(
            "rrr_decoy@0.1", seed, mid, seconds=2.0
        )
    runs["rrr_decoy@1/seed0"] = _run("rrr_decoy@1", 0, 0.75)
    summary = summarize_runs(runs)
    arm = summary["arms"]["rrr_decoy@0.1"]
    # Means: floor 0.45, ceiling 0.85, arm 0.65 -> half the gap.
    assert arm["gap_share"]["test_random"] == pytest.approx(0.5)
    assert arm["test_random"]["mean"] == pytest.approx(0.65)
    assert arm["test_random"]["std"] == pytest.approx(np.std([0.7, 0.6], ddof=1))
    difference = arm["difference_to_floor"]["test_random"]
    assert difference["mean"] == pytest.approx(0.2) and difference["n"] == 2
    low, high = difference["ci95"]
    assert 0.1 - 1e-9 <= low <= high <= 0.3 + 1e-9
    assert arm["cost_vs_floor"] == pytest.approx(2.0)
    # λ picked on the random-patch validation split (here 1 beats 0.1).
    assert summary["selected"]["rrr_decoy"]["arm"] == "rrr_decoy@1"
    assert summary["arms"]["rrr_decoy@1"]["test_random"]["std"] is None


def test_no_gap_gives_no_share():
    runs = {
        "floor/seed0": _run("floor", 0, 0.8),
        "ceiling/seed0": _run("ceiling", 0, 0.7),
    }
    assert summarize_runs(runs)["arms"]["floor"]["gap_share"]["test_random"] is None


def test_clean_benchmark_has_no_gap_shares_but_paired_differences():
    runs = {
        "floor/seed0": _run("floor", 0, 0.80),
        "ceiling/seed0": _run("ceiling", 0, 0.81),
        "impactx/seed0": _run("impactx", 0, 0.85),
    }
    # A 0.01 "gap" between two identical trainings would make +0.05 "500 %".
    assert summarize_runs(runs)["arms"]["impactx"]["gap_share"]["test_random"] > 4
    arm = summarize_runs(runs, gap_shares=False)["arms"]["impactx"]
    assert arm["gap_share"]["test_random"] is None
    assert arm["difference_to_floor"]["test_random"]["mean"] == pytest.approx(0.05)


def test_paired_bootstrap_ci():
    low, high = paired_bootstrap_ci([1.0, 1.0, 1.0])
    assert low == high == 1.0
    low, high = paired_bootstrap_ci([0.0, 1.0, 2.0, 3.0])
    assert 0.0 <= low < 1.5 < high <= 3.0
    assert np.isnan(paired_bootstrap_ci([1.0])[0])


def test_decoy_share_closed_form():
    from keras_xai.benchmarks.shortcut.evaluation import decoy_share

    maps = np.zeros((3, 4, 4))
    maps[0, 0, 0], maps[0, 2, 2] = 3.0, -1.0  # 3 of 4 units on the patch
    maps[1, 3, 3] = 2.0  # none on it
    decoys = np.zeros((3, 4, 4))
    decoys[:, :2, :2] = 1.0
    # The third map is empty: it counts as 0.
    assert decoy_share(maps, decoys) == pytest.approx((0.75 + 0.0 + 0.0) / 3)


def test_report_orders_arms_and_weights():
    from keras_xai.benchmarks.shortcut.report import arm_order

    names = ["so_1view", "rrr_decoy@10", "floor", "rrr_decoy@0.5", "ceiling"]
    assert arm_order(names) == [
        "ceiling",
        "floor",
        "rrr_decoy@0.5",
        "rrr_decoy@10",
        "so_1view",
    ]


def test_faithfulness_table_only_when_measured():
    from keras_xai.benchmarks.shortcut.report import faithfulness_table

    runs = {f"floor/seed{seed}": _run("floor", seed, 0.8) for seed in (0, 1)}
    assert faithfulness_table(summarize_runs(runs, gap_shares=False)) is None
    for seed, (own, shap) in enumerate([(0.30, 0.20), (0.34, 0.22)]):
        run = _run("impactx", seed, 0.8)
        run.update(
            aopc_own=own,
            aopc_shap=shap,
            aopc_random=0.1,
            aopc_own_minus_shap=own - shap,
            own_shap_correlation=0.5,
        )
        runs[f"impactx/seed{seed}"] = run
    summary = summarize_runs(runs, gap_shares=False)
    assert summary["arms"]["impactx"]["aopc_own"]["mean"] == pytest.approx(0.32)
    assert summary["arms"]["floor"]["aopc_own"] is None
    table = faithfulness_table(summary).splitlines()
    assert len(table) == 3  # the floor was not measured: no row
    assert table[2].startswith("| impactx | 2 | 0.320 ± 0.028 | 0.210 ± 0.014 |")
