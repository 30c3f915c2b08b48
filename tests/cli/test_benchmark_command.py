import json

import pytest

from keras_xai.cli.main import main
from tests.cli.test_main import _run


def test_shortcut_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "shortcut", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in ("--variant", "--arms", "rrr_decoy", "results.json"):
        assert text in out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--arms", "floor", "bogus"], "Unknown shortcut arm 'bogus'"),
        (["--variant", "tint"], "`variant` must be one of"),
        (["--architecture", "resnet"], "`architecture` must be one of"),
        (["--validation-size", "5000"], "`validation_size` must leave"),
        (["--data", "fashion_mnist", "--data-dir", "/nonexistent"], "Fashion-MNIST"),
        (["--faithfulness-images", "-1"], "`faithfulness_images` must be >= 0"),
    ],
)
def test_bad_arguments_exit_2(extra, message, tmp_path, capsys):
    argv = ["benchmark", "shortcut", "--data", "digits", "--output-dir", str(tmp_path)]
    status, _, err = _run(argv + extra, capsys)
    assert status == 2
    assert message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_shortcut_run_resume_and_report(tmp_path, capsys):
    argv = [
        "benchmark", "shortcut", "--data", "digits", "--architecture", "mlp",
        "--arms", "ceiling", "floor", "rrr_decoy@0.001", "rrr_decoy@0.1",
        "--seeds", "0", "--validation-size", "100", "--test-size", "200",
        "--max-epochs", "2", "--output-dir", str(tmp_path),
    ]  # fmt: skip
    status, out, _ = _run(argv, capsys)
    assert status == 0
    assert "| floor | 1 |" in out and "rrr_decoy@0.1" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["arms"]) == {
        "ceiling",
        "floor",
        "rrr_decoy@0.001",
        "rrr_decoy@0.1",
    }
    assert summary["selected"]["rrr_decoy"]["arm"] in (
        "rrr_decoy@0.001",
        "rrr_decoy@0.1",
    )
    assert (tmp_path / "sweep_rrr_decoy.png").stat().st_size > 1000
    assert (tmp_path / "examples.png").stat().st_size > 1000
    assert (tmp_path / "report.md").read_text().startswith("| arm |")
    assert not (tmp_path / "faithfulness_per_seed.png").exists()
    status, out, _ = _run(argv, capsys)
    assert status == 0 and out.count(": stored") == 4
    status, out, _ = _run(argv + ["--report-only"], capsys)
    assert status == 0 and ": stored" not in out and "| ceiling |" in out


def test_shortcut_faithfulness_table(tmp_path, capsys):
    argv = [
        "benchmark", "shortcut", "--data", "digits", "--architecture", "mlp",
        "--arms", "floor", "--seeds", "0", "--validation-size", "100",
        "--test-size", "100", "--max-epochs", "1", "--faithfulness-images", "4",
        "--output-dir", str(tmp_path),
    ]  # fmt: skip
    status, out, _ = _run(argv, capsys)
    assert status == 0
    assert "| floor | 1 | – | " in out  # no own map, SHAP and random measured
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["arms"]["floor"]["aopc_shap"]["n"] == 1
    assert "AOPC PartitionSHAP" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "faithfulness_per_seed.png").stat().st_size > 1000
