import pytest

from keras_xai.datasets._binary_records import count_records


@pytest.mark.parametrize("size, expected", [(0, 0), (12, 1), (36, 3)])
def test_count_records_of_a_whole_file(tmp_path, size, expected):
    path = tmp_path / "records.bin"
    path.write_bytes(bytes(size))
    assert count_records(str(path), 12, "Test file", "one record") == expected


def test_count_records_names_a_truncated_file(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(bytes(30))
    message = (
        r"Test file .*short\.bin is truncated or corrupt: its size \(30 bytes\) "
        r"is not a multiple of one record \(12 bytes\)$"
    )
    with pytest.raises(ValueError, match=message):
        count_records(str(path), 12, "Test file", "one record (12 bytes)")
