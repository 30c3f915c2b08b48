import json

import pytest

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
