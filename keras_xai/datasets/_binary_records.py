"""Binary files of fixed-size records (CIFAR's and STL-10's binary versions)."""

import os


def count_records(path, record_bytes, what, record):
    """Number of records in a file of fixed-size records, checked whole.

    A file whose size is not a multiple of the record size was cut short
    (or is not the file it claims to be); reading it would silently drop
    or misalign bytes, so it is refused with a message naming it.

    Args:
        path: str. The binary file.
        record_bytes: int. Size of one record in bytes.
        what: str. What the file is, opening the error message
            (`"STL-10 image file"`).
        record: str. What one record is, closing the error message
            (`"one image (3x96x96 = 27648 bytes)"`).

    Returns:
        int. `size // record_bytes`.

    Raises:
        ValueError: if the file's size is not a multiple of `record_bytes`.

    Example:

    ```python
    count = count_records(path, 27648, "STL-10 image file", "one image")
    images = np.fromfile(path, np.uint8).reshape(count, 27648)
    ```
    """
    size = os.path.getsize(path)
    if size % record_bytes:
        raise ValueError(
            f"{what} {path} is truncated or corrupt: its size ({size} bytes) "
            f"is not a multiple of {record}"
        )
    return size // record_bytes
