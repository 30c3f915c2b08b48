import json
import os

import numpy as np
import pytest

from keras_xai.utils.atomic_write import atomic_write


def test_text_and_bytes_replace_the_file_whole(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text("old")
    with atomic_write(path) as file:
        json.dump({"a": 1}, file)
        assert path.read_text() == "old"  # not replaced before the block ends
    assert json.loads(path.read_text()) == {"a": 1}
    arrays = tmp_path / "weights.npz"
    with atomic_write(arrays, "wb", fsync=True) as file:
        np.savez(file, np.arange(3))
    with np.load(arrays) as stored:
        np.testing.assert_array_equal(stored["arr_0"], np.arange(3))
    assert sorted(os.listdir(tmp_path)) == ["metadata.json", "weights.npz"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_write(str(path)) as file:
            file.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["state.json"]
