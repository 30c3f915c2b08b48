"""Tables and plots of a shortcut benchmark's summary."""

import os

import numpy as np

from keras_xai.benchmarks.shortcut.arms import ross_lambda_to_rrr_weight
from keras_xai.benchmarks.shortcut.data import TEST_SPLITS
from keras_xai.visualization.image_grid import save_image_grid
from keras_xai.visualization.plots import plot_per_seed, plot_sweep

_INPUT_GRADIENT_ARMS = ("rrr_decoy", "rrr_background")
_FAITHFULNESS_MAPS = (
    ("aopc_own", "own map"),
    ("aopc_shap", "PartitionSHAP"),
    ("aopc_random", "random"),
)


def _cell(stats, digits=4):
    if stats is None:
        return "–"
    if stats["std"] is None:
        return f"{stats['mean']:.{digits}f}"
    return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"


def _share(value):
    return "–" if value is None else f"{100 * value:.0f} %"


def arm_order(names):
    """Ceiling and floor first, then the other arms by name and weight."""
    first = [name for name in ("ceiling", "floor") if name in names]

    def key(name):
        base, _, weight = name.partition("@")
        return (base, float(weight) if weight else 0.0)

    return first + sorted((n for n in names if n not in first), key=key)


def report_table(summary):
    """A Markdown table: arm × the three test splits × gap share × IoU.

    Args:
        summary: the dict `summarize_runs` returns.

    Returns:
        str.
    """
    lines = [
        "| arm | seeds | random patch | gap share | far-class patch | gap share "
        "| no patch | decoy saliency share | own map on patch | GradCAM IoU | epochs "
        "| cost / CE epoch |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in arm_order(summary["arms"]):
        entry = summary["arms"][name]
        cost = entry["cost_vs_floor"]
        lines.append(
            f"| {name} | {len(entry['seeds'])} | {_cell(entry['test_random'])} "
            f"| {_share(entry['gap_share']['test_random'])} "
            f"| {_cell(entry['test_far'])} | {_share(entry['gap_share']['test_far'])} "
            f"| {_cell(entry['test_none'])} "
            f"| {_cell(entry['decoy_saliency_share'], 3)} "
            f"| {_cell(entry.get('own_explanation_decoy_share'), 3)} "
            f"| {_cell(entry['gradcam_iou'], 3)} "
            f"| {_cell(entry['epochs'], 1)} "
            f"| {'–' if cost is None else f'{cost:.2f}×'} |"
        )
    return "\n".join(lines)


def faithfulness_table(summary):
    """A Markdown table of the arms' MoRF AOPC, or `None` if none was measured.

    Columns: AOPC of the model's own map, of PartitionSHAP and of random
    maps on the same model (higher is more faithful), the own map's mean
    per-image AOPC difference to SHAP, and its correlation with SHAP.

    Args:
        summary: the dict `summarize_runs` returns.

    Returns:
        str or `None`.
    """
    arms = summary["arms"]
    measured = [name for name in arm_order(arms) if arms[name].get("aopc_shap")]
    if not measured:
        return None
    lines = [
        "| arm | seeds | AOPC own map | AOPC PartitionSHAP | AOPC random "
        "| own − SHAP (per image) | corr(own, SHAP) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in measured:
        entry = arms[name]
        lines.append(
            f"| {name} | {entry['aopc_shap']['n']} "
            + " | ".join(
                _cell(entry.get(metric), 3)
                for metric in (
                    "aopc_own",
                    "aopc_shap",
                    "aopc_random",
                    "aopc_own_minus_shap",
                    "own_shap_correlation",
                )
            ).join(("| ", " |"))
        )
    return "\n".join(lines)


def write_report(summary, output_dir):
    """Writes `report.md`, `per_seed.png` and `sweep_<arm>.png` per swept arm.

    With faithfulness measured, `report.md` also holds `faithfulness_table`
    and `faithfulness_per_seed.png` shows each arm's per-seed MoRF AOPC of
    its own map, PartitionSHAP and random maps.

    Args:
        summary: the dict `summarize_runs` returns.
        output_dir: str.

    Returns:
        str: the Markdown table (also in `output_dir/report.md`).
    """
    table = report_table(summary)
    faithfulness = faithfulness_table(summary)
    if faithfulness is not None:
        table += "\n\nMoRF AOPC on the random-patch test split, the predicted "
        table += "class (higher is more faithful):\n\n" + faithfulness
    with open(os.path.join(output_dir, "report.md"), "w") as file:
        file.write(table + "\n")
    arms = summary["arms"]
    for base in sorted({name.split("@")[0] for name in arms if "@" in name}):
        swept = sorted(
            (float(name.split("@")[1]), entry)
            for name, entry in arms.items()
            if name.split("@")[0] == base
        )
        if len(swept) < 2:
            continue
        values = [weight for weight, _ in swept]
        xlabel = "λ (penalty weight)"
        if base in _INPUT_GRADIENT_ARMS:
            # On Ross et al.'s scale (0-255 pixels), as their sweep is shown.
            unit = ross_lambda_to_rrr_weight(1.0)
            values = [float(f"{value / unit:.3g}") for value in values]
            xlabel = "Ross et al.'s λ₁ (0-255 pixels; here λ = λ₁ / 255²)"
        scores, errors = {}, {}
        for metric, label in (
            ("test_random", "test, random patch"),
            ("validation_random", "validation, random patch"),
        ):
            scores[label] = [entry[metric]["mean"] for _, entry in swept]
            errors[label] = [entry[metric]["std"] or 0.0 for _, entry in swept]
        for reference in ("floor", "ceiling"):
            if reference in arms:
                level = arms[reference]["test_random"]["mean"]
                scores[f"{reference} (test)"] = [level] * len(values)
        plot_sweep(
            np.maximum(values, 1e-12),
            scores,
            os.path.join(output_dir, f"sweep_{base}.png"),
            xlabel=xlabel,
            ylabel="accuracy (higher is better)",
            title=base,
            errors_by_series=errors,
            logx=True,
        )
    per_seed = {
        name: arms[name]["test_random"]["values"]
        for name in arm_order(arms)
        if arms[name]["test_random"] is not None
    }
    references = {
        f"{name} mean": arms[name]["test_random"]["mean"]
        for name in ("floor", "ceiling")
        if name in arms
    }
    plot_per_seed(
        per_seed,
        os.path.join(output_dir, "per_seed.png"),
        xlabel="test accuracy, random-class patch (higher is better)",
        references=references,
    )
    faithfulness_seeds = {
        f"{name}: {label}": arms[name][metric]["values"]
        for name in arm_order(arms)
        for metric, label in _FAITHFULNESS_MAPS
        if arms[name].get(metric) is not None
    }
    if faithfulness_seeds:
        plot_per_seed(
            faithfulness_seeds,
            os.path.join(output_dir, "faithfulness_per_seed.png"),
            xlabel="MoRF AOPC (higher = more faithful)",
        )
    return table


def write_examples(data, path, num_images=4):
    """A grid of the variant's splits: each row one image in every split.

    Columns: the training image (patch coding the label), its decoy mask,
    its object mask, then the same test image with a random-class patch, a
    far-class patch and no patch.

    Args:
        data: `ShortcutBenchmarkData`.
        path: str. The PNG to write.
        num_images: int. Rows. Defaults to 4.

    Returns:
        `path`.
    """
    rows = []
    for index in range(num_images):
        row = [
            data.train.images[index],
            data.train.decoy_masks[index],
            data.train.object_masks[index],
        ]
        row += [data.test[name].images[index] for name in TEST_SPLITS]
        rows.append(row)
    titles = ["train", "decoy mask", "object mask"] + [
        f"test: {name}" for name in TEST_SPLITS
    ]
    return save_image_grid(rows, path, titles=titles, cell_size=1.4)
