import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_xai.cli.main import main


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "explain", "evaluate", "export"):
        assert command in out


def test_train_help_lists_methods_and_their_options(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for text in ("--method", "impactx", "abn", "baseline", "--lambda", "--targets"):
        assert text in out


def test_console_module_runs():
    completed = subprocess.run(
        [sys.executable, "-m", "keras_xai.cli", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert completed.returncode == 0
    assert "keras-xai" in completed.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--learning-rate", "-1"], "--learning-rate must be > 0"),
        (["--method", "impactx", "--lambda", "-0.5"], "--lambda must be >= 0"),
        # Non-finite numbers are refused by argparse, before any work.
        (["--learning-rate", "inf"], "--learning-rate: must be a finite number"),
        (["--learning-rate", "nan"], "--learning-rate: must be a finite number"),
        (["--method", "impactx", "--lambda", "nan"], "--lambda: must be a finite"),
        (["--method", "so-loss", "--beta", "x"], "--beta: must be a number"),
        # Checked before stage 1 trains (Ray would retry for minutes).
        (
            ["--method", "impactx", "--ray-address", "127.0.0.1:1"],
            "--ray-address: Could not reach the Ray cluster",
        ),
        (["--method", "impactx", "--ray-address", "nohost"], "must be 'auto'"),
    ],
)
def test_bad_train_arguments_exit_2_with_message(argv, message, tmp_path, capsys):
    base = ["train", "--method", "baseline", "--output-dir", str(tmp_path)]
    argv = base + argv if argv[0] != "--method" else base[:1] + argv + base[3:]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run.json").exists()


def test_downloadable_data_offline_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # No directory given: the dataset would be downloaded; offline it cannot.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_XAI_OFFLINE", "1")
    status, _, err = _run(
        [
            "train",
            "--method",
            "baseline",
            "--data",
            "cifar10",
            "--output-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert status == 2
    assert "--data-dir" in err and "Traceback" not in err
    assert "KERAS_XAI_OFFLINE" in err and "cifar-10-python.tar.gz" in err


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    status, _, err = _run(["explain", "--model", str(tmp_path / "nothing")], capsys)
    assert status == 2
    assert "no trained model" in err


def test_preset_must_match_the_data(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "train",
                "--method",
                "baseline",
                "--data",
                "digits",
                "--preset",
                "lenet5_cifar10",
                "--output-dir",
                str(tmp_path),
            ]
        )
    assert exit_info.value.code == 2
    assert "lenet5_cifar10" in capsys.readouterr().err


@pytest.mark.large
def test_train_explain_evaluate_export_round(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    status, out, _ = _run(
        [
            "train",
            "--method",
            "impactx",
            "--data",
            "digits",
            "--train-size",
            "128",
            "--test-size",
            "64",
            "--epochs",
            "1",
            "--verbose",
            "0",
            "--output-dir",
            run_dir,
        ],
        capsys,
    )
    assert status == 0, out
    with open(os.path.join(run_dir, "run.json")) as file:
        record = json.load(file)
    assert record["method"] == "impactx" and record["data"] == "digits"
    assert 0.0 <= record["test_accuracy"] <= 1.0
    assert os.path.isdir(os.path.join(run_dir, "targets_gradcam"))

    png = str(tmp_path / "explanations.png")
    status, out, err = _run(
        [
            "explain",
            "--model",
            run_dir,
            "--num-images",
            "2",
            "--shap-evals",
            "20",
            "--output",
            png,
        ],
        capsys,
    )
    assert status == 0, err
    with open(png, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    # IMPACTX keeps its feature maps in nested models, so SHAP replaces GradCAM.
    assert "post-hoc shap" in out

    status, out, err = _run(
        [
            "evaluate",
            "--model",
            run_dir,
            "--test-size",
            "64",
            "--num-images",
            "8",
            "--shap-evals",
            "20",
        ],
        capsys,
    )
    assert status == 0, err
    with open(os.path.join(run_dir, "metrics.json")) as file:
        metrics = json.load(file)
    assert metrics["accuracy"] == pytest.approx(record["test_accuracy"])
    assert set(metrics["morf"]) == {"own", "shap"}
    for values in metrics["morf"].values():
        assert np.isfinite(values["aopc_mean"])

    saved = str(tmp_path / "savedmodel")
    status, _, err = _run(["export", "--model", run_dir, "--output", saved], capsys)
    assert status == 0, err
    assert os.path.isfile(os.path.join(saved, "saved_model.pb"))


@pytest.mark.large
def test_baseline_reports_focus_when_the_model_takes_mosaics(tmp_path, capsys):
    # LeNet-5 flattens, so Focus is reported as not applicable with a reason.
    run_dir = str(tmp_path / "run")
    argv = ["train", "--method", "baseline", "--data", "digits", "--output-dir"]
    status, _, _ = _run(
        argv + [run_dir, "--train-size", "64", "--epochs", "1", "--verbose", "0"],
        capsys,
    )
    assert status == 0
    status, _, err = _run(
        [
            "evaluate",
            "--model",
            run_dir,
            "--num-images",
            "4",
            "--post-hoc",
            "gradcam",
            "--focus-mosaics",
            "4",
        ],
        capsys,
    )
    assert status == 0, err
    with open(os.path.join(run_dir, "metrics.json")) as file:
        metrics = json.load(file)
    assert "skipped" in metrics["focus"]["gradcam"]
    assert np.isfinite(metrics["morf"]["gradcam"]["aopc_mean"])


@pytest.mark.large
def test_train_on_cifar10_binary_files(tmp_path, capsys):
    from tests.datasets.format_writers import cifar_binary_records, write_lines

    rng = np.random.default_rng(0)
    directory = tmp_path / "cifar-10-batches-bin"
    directory.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, 4)
        (directory / f"{name}.bin").write_bytes(cifar_binary_records(images, labels))
    write_lines(directory / "batches.meta.txt", [f"class{i}" for i in range(10)])
    run_dir = str(tmp_path / "run")
    status, out, err = _run(
        [
            "train",
            "--method",
            "baseline",
            "--data",
            "cifar10",
            "--data-dir",
            str(tmp_path),
            "--preset",
            "lenet5_cifar10",
            "--epochs",
            "1",
            "--verbose",
            "0",
            "--output-dir",
            run_dir,
        ],
        capsys,
    )
    assert status == 0, err
    assert "20 training and 4 test images of shape (32, 32, 3)" in out
    with open(os.path.join(run_dir, "run.json")) as file:
        assert json.load(file)["class_names"] == [f"class{i}" for i in range(10)]


@pytest.mark.large
@pytest.mark.parametrize(
    "method, extra",
    [
        ("consistency", ["--every", "1"]),
        ("hnm", []),
        ("focal", []),
        ("ensemble", ["--members", "2", "--strategy", "bagging"]),
        ("multitask", []),
        ("so-loss", ["--views", "2", "--beta", "0.5"]),
    ],
)
def test_later_methods_train_from_the_command_line(method, extra, tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    argv = ["train", "--method", method, "--data", "digits", "--train-size", "64"]
    argv += ["--test-size", "16", "--epochs", "2", "--verbose", "0"]
    status, out, err = _run(argv + ["--output-dir", run_dir] + extra, capsys)
    assert status == 0, err
    with open(os.path.join(run_dir, "run.json")) as file:
        assert json.load(file)["method"] == method
    if method == "consistency":
        assert os.path.isfile(
            os.path.join(run_dir, "reweighting", "weight_histograms.png")
        )
    if method == "multitask":
        status, out, err = _run(
            ["explain", "--model", run_dir, "--num-images", "2", "--arrows"], capsys
        )
        assert status == 0, err
        assert "labelled-arrow PNGs written" in out


def test_so_loss_rejects_a_beta_outside_0_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--method", "so-loss", "--beta", "2", "--output-dir", "x"])
    assert exit_info.value.code == 2
    assert "--beta must be in [0, 1]" in capsys.readouterr().err


def test_arrows_need_a_multitask_model(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    argv = ["train", "--method", "baseline", "--data", "digits", "--train-size", "16"]
    argv += ["--test-size", "4", "--epochs", "1", "--verbose", "0"]
    assert _run(argv + ["--output-dir", run_dir], capsys)[0] == 0
    status, _, err = _run(["explain", "--model", run_dir, "--arrows"], capsys)
    assert status == 2 and "--method multitask" in err


def test_unwritable_output_dir_is_found_before_training(tmp_path, capsys, monkeypatch):
    from keras_xai.cli import data as data_module

    def no_loading(*args, **kwargs):
        raise AssertionError("data were loaded before the output directory check")

    monkeypatch.setattr(data_module, "load", no_loading)
    blocker = tmp_path / "file"
    blocker.write_text("")
    for command in (
        ["train", "--method", "baseline"],
        ["benchmark", "shortcut", "--data", "digits"],
    ):
        status, _, err = _run(command + ["--output-dir", str(blocker / "run")], capsys)
        assert status == 2
        assert "--output-dir" in err and "cannot be created or written" in err
        assert "Traceback" not in err


def test_unexpected_errors_are_one_line_unless_debug(tmp_path, capsys, monkeypatch):
    from keras_xai.cli import train_command

    def broken(args):
        raise TypeError("a model file the loader refused")

    monkeypatch.setattr(train_command, "check", broken)
    argv = ["train", "--method", "baseline", "--output-dir", str(tmp_path)]
    status, _, err = _run(argv, capsys)
    assert status == 1
    assert err.count("\n") == 1 and "TypeError: a model file" in err
    assert "--debug" in err and "Traceback" not in err
    with pytest.raises(TypeError, match="a model file"):
        main(["--debug", *argv])
