"""Whitespace-separated annotation tables (id lists, labels, splits, parts).

The image datasets ship their annotations as text files with one record a
line (`1 001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg`,
`Abyssinian_100 1 1 1`, ...). These helpers find, read and parse them and
raise errors that name the file and line.
"""

import os


def find_file(candidates, what):
    """Returns the first existing file among `candidates`.

    Args:
        candidates: sequence of str. Paths tried in order.
        what: str. What the file is, for the error message.

    Raises:
        FileNotFoundError: naming every path tried.
    """
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f"{what} not found: tried {' and '.join(candidates)}")


def require_file(path, what):
    """Returns `path` when it is a file, else raises `FileNotFoundError`."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def read_table(path, what, min_fields, max_fields=None, max_splits=None):
    """Reads a whitespace-separated table, skipping blank and `#` lines.

    Args:
        path: str. The text file.
        what: str. What the file is, for error messages.
        min_fields: int. Fewest fields a record may have.
        max_fields: int or `None`. Most fields a record may have; `None`
            means no limit.
        max_splits: int or `None`. Split at most this many times, so the
            last field keeps its inner spaces (`1 left eye`); `None`
            splits everywhere.

    Returns:
        A list of `(line_number, fields)`, `line_number` counting from 1.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if the file is not UTF-8 text or a record has too few or
            too many fields; the message names the file and line.
    """
    return list(iter_table(path, what, min_fields, max_fields, max_splits))


def iter_table(path, what, min_fields, max_fields=None, max_splits=None):
    """Like `read_table`, one record at a time (for files of millions of lines)."""
    require_file(path, what)
    if max_fields is None:
        expected = f"at least {min_fields}"
    elif max_fields == min_fields:
        expected = f"{min_fields}"
    else:
        expected = f"{min_fields} to {max_fields}"
    number = 0
    try:
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):  # noqa: B007
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                if max_splits:
                    fields = stripped.split(None, max_splits)
                else:
                    fields = stripped.split()
                if len(fields) < min_fields or (
                    max_fields is not None and len(fields) > max_fields
                ):
                    raise ValueError(
                        f"{what} {path}, line {number}: expected {expected} "
                        f"whitespace-separated fields. Received: {stripped!r}"
                    )
                yield number, fields
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what} {path} is not UTF-8 text (after line {number}): {error}"
        ) from error


def parse_int(text, path, line_number, field, low=None, high=None):
    """Parses one integer field, optionally checking `low <= value <= high`.

    Raises:
        ValueError: naming the file, line and field.
    """
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"{path}, line {line_number}: {field} must be an integer. "
            f"Received: {text!r}"
        ) from None
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            expected = f">= {low}"
        elif low is None:
            expected = f"<= {high}"
        else:
            expected = f"in [{low}, {high}]"
        raise ValueError(
            f"{path}, line {line_number}: {field} must be {expected}. Received: {value}"
        )
    return value


def parse_float(text, path, line_number, field):
    """Parses one finite float field; raises `ValueError` naming the line."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(
            f"{path}, line {line_number}: {field} must be a finite number. "
            f"Received: {text!r}"
        )
    return value


def read_id_table(path, what, num_values, parse, unique=True):
    """Reads `<id> <value>...` records into a dict `{id: parsed}`.

    Args:
        path: str. The text file.
        what: str. What the file is, for error messages.
        num_values: int. Number of fields after the id (the last keeps its
            inner spaces).
        parse: callable `(fields, line_number) -> value`, given the fields
            after the id.
        unique: bool. Whether a repeated id is an error.

    Returns:
        dict from int id to parsed value, in file order.
    """
    rows = read_table(path, what, 1 + num_values, max_splits=num_values)
    table = {}
    for number, fields in rows:
        key = parse_int(fields[0], path, number, "the id", low=1)
        if unique and key in table:
            raise ValueError(f"{path}, line {number}: id {key} is listed twice")
        table[key] = parse(fields[1:], number)
    return table
