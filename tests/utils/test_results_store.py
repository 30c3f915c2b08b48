import argparse
import json
import subprocess
import sys

import pytest

from keras_xai.utils import results_store
from keras_xai.utils.results_store import ResultsStore


def test_runs_survive_a_restart_with_the_same_settings(tmp_path):
    path = tmp_path / "results.json"
    store = ResultsStore(path, {"epochs": 3})
    store.put("ce/0", {"accuracy": 0.5})
    again = ResultsStore(path, {"epochs": 3})
    assert again.get("ce/0") == {"accuracy": 0.5}
    assert again.get("ce/1") is None


def test_runs_under_other_settings_are_not_reused(tmp_path):
    path = tmp_path / "results.json"
    ResultsStore(path, {"epochs": 3}).put("ce/0", {"accuracy": 0.5})
    assert ResultsStore(path, {"epochs": 4}).get("ce/0") is None


def test_extra_fields_are_written_beside_the_runs(tmp_path):
    path = tmp_path / "sub" / "results.json"
    store = ResultsStore(path, {"a": (1, 2)})
    store.extra = {"table": {"ce": 1}}
    store.save()
    saved = json.loads(path.read_text())
    assert saved == {"settings": {"a": [1, 2]}, "runs": {}, "table": {"ce": 1}}
    assert ResultsStore(path, {"a": (1, 2)}).settings == {"a": [1, 2]}


def test_corrupt_file_and_bad_settings(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ResultsStore(path, {})
    with pytest.raises(ValueError, match="`settings` must be a dict"):
        ResultsStore(tmp_path / "other.json", [1])


def test_for_experiment_keeps_how_runs_are_done_not_which(tmp_path):
    def namespace(**kwargs):
        return argparse.Namespace(
            output_dir=str(tmp_path), report_only=False, epochs=3, **kwargs
        )

    store = ResultsStore.for_experiment(namespace(seeds=[0]), ignore=("seeds",))
    assert store.path == str(tmp_path / "results.json")
    assert store.settings == {"epochs": 3}
    store.put("ce/0", {"accuracy": 0.5})
    # Other seeds reuse the stored runs; another epoch count does not.
    again = ResultsStore.for_experiment(namespace(seeds=[0, 1]), ignore=("seeds",))
    assert again.get("ce/0") == {"accuracy": 0.5}
    other = argparse.Namespace(output_dir=str(tmp_path), report_only=True, epochs=4)
    assert ResultsStore.for_experiment(other).get("ce/0") is None


def test_finish_writes_the_summary_time_and_machine(tmp_path):
    store = ResultsStore(tmp_path / "results.json", {"epochs": 3})
    store.put("ce/0", {"accuracy": 0.5})
    store.finish(table={"ce": 0.5})
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["runs"] == {"ce/0": {"accuracy": 0.5}}
    assert saved["table"] == {"ce": 0.5}
    assert saved["finished"] and saved["machine"]
    store.finish()
    assert "table" not in json.loads((tmp_path / "results.json").read_text())


def test_two_stores_on_one_file_keep_each_others_runs(tmp_path):
    path = tmp_path / "results.json"
    first = ResultsStore(path, {"epochs": 3})
    second = ResultsStore(path, {"epochs": 3})
    first.put("ce/0", {"accuracy": 0.5})
    second.put("rrr/0", {"accuracy": 0.8})
    first.put("ce/1", {"accuracy": 0.6})
    saved = json.loads(path.read_text())["runs"]
    assert saved == {
        "ce/0": {"accuracy": 0.5},
        "rrr/0": {"accuracy": 0.8},
        "ce/1": {"accuracy": 0.6},
    }
    # A store's own value wins for a key both hold.
    second.put("ce/0", {"accuracy": 0.7})
    assert json.loads(path.read_text())["runs"]["ce/0"] == {"accuracy": 0.7}
    # Runs under other settings are not merged in.
    ResultsStore(path, {"epochs": 4}).put("x/0", {"accuracy": 0.1})
    assert json.loads(path.read_text())["runs"] == {"x/0": {"accuracy": 0.1}}


# The workers load the module file alone (it needs only the standard
# library), not the keras_xai package, whose import starts a backend.
_PUT_MANY = """
import importlib.util
import sys
spec = importlib.util.spec_from_file_location("results_store", sys.argv[3])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
store = module.ResultsStore(sys.argv[1], {"epochs": 3})
for index in range(25):
    store.put(f"{sys.argv[2]}/{index}", {"accuracy": index})
"""


def test_concurrent_processes_lose_no_run(tmp_path):
    path = tmp_path / "results.json"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _PUT_MANY, str(path), name, results_store.__file__]
        )
        for name in ("a", "b", "c")
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    runs = json.loads(path.read_text())["runs"]
    assert len(runs) == 75
    assert runs["b/24"] == {"accuracy": 24}


def test_add_arguments_are_the_ones_for_experiment_leaves_out(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    ResultsStore.add_arguments(parser, "runs/default")
    args = parser.parse_args([])
    assert args.output_dir == "runs/default" and args.report_only is False
    args = parser.parse_args(["--output-dir", str(tmp_path), "--report-only"])
    store = ResultsStore.for_experiment(args)
    assert store.settings == {"epochs": 3} and args.report_only


@pytest.mark.parametrize("report_only", [False, True])
def test_run_experiment_measures_unless_report_only(tmp_path, report_only):
    calls, logged = [], []

    def measure(store, args):
        calls.append("measure")
        store.put("ce/0", {"accuracy": 0.5})

    def report(store, args):
        calls.append("report")
        store.finish(table={"runs": len(store.runs)})

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    ResultsStore.add_arguments(parser, str(tmp_path))
    args = parser.parse_args(["--report-only"] if report_only else [])
    store = ResultsStore.run_experiment(
        args, measure, report, ignore=("seeds",), log=logged.append
    )
    assert calls == (["report"] if report_only else ["measure", "report"])
    assert store.settings == {} and logged[0].startswith("done in ")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["table"] == {"runs": 0 if report_only else 1}
