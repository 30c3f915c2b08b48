"""Argument types and checks shared by the `keras-xai` commands."""

import argparse
import math
import os
import tempfile

from keras_xai.cli.data import CommandError


def add_command_parser(subparsers, name, help, description, epilog):
    """Adds a command whose description and examples print as written.

    Args:
        subparsers: the `add_subparsers()` action to add to.
        name: str. The command's name.
        help: str. The one line shown in the parent's list of commands.
        description: str. Shown above the options, line breaks kept.
        epilog: str. Shown below the options (examples), line breaks kept.

    Returns:
        The command's `argparse.ArgumentParser`.
    """
    return subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def finite_float(text):
    """An argparse `type`: a finite float (no `inf`, `nan`).

    Args:
        text: str. The option's value.

    Returns:
        float.

    Raises:
        argparse.ArgumentTypeError: for text that is not a finite number,
            which argparse reports as a usage error (exit status 2).
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def check_output_dir(path, flag="--output-dir"):
    """Creates `path` if needed and checks a file can be written in it.

    Called before any work starts, so a directory that cannot be written
    (under a regular file, read-only) is reported at once, not after
    training.

    Args:
        path: str. The directory.
        flag: str. The option named in the error. Defaults to
            `"--output-dir"`.

    Returns:
        `path`.

    Raises:
        CommandError: naming the option and the reason.
    """
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as error:
        raise CommandError(
            f"{flag} {path!r} cannot be created or written: {error.strerror or error}"
        ) from None
    return path
