"""`atomic_write`: a file that is replaced whole or not at all."""

import contextlib
import os


@contextlib.contextmanager
def atomic_write(path, mode="w", fsync=False):
    """Opens a temporary file that replaces `path` when the block ends.

    The data goes to a temporary file beside `path` (named with the process
    id, so concurrent writers never share one), which `os.replace` renames
    over `path` once the block finishes: a reader sees the old file or the
    new one, never a partial write. If the block raises, the temporary file
    is removed and `path` is left as it was.

    Args:
        path: str or path-like. The file to write.
        mode: str. The `open` mode: `"w"` for text, `"wb"` for bytes.
            Defaults to `"w"`.
        fsync: bool. Flush the data to disk before the rename, so the new
            file also survives a crash of the machine. Defaults to `False`.

    Yields:
        The open temporary file.

    Example:

    ```python
    with atomic_write("metadata.json") as file:
        json.dump(metadata, file, indent=2)
    ```
    """
    path = os.fspath(path)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, mode) as file:
            yield file
            if fsync:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
