"""Entry point of the `keras-xai` console command."""

import argparse
import sys

from keras_xai.cli import (
    benchmark_command,
    evaluate_command,
    explain_command,
    export_command,
    train_command,
)
from keras_xai.cli.data import CommandError

DESCRIPTION = """keras-xai: train image classifiers with explanations, explain
them, measure the explanations and export SavedModels.

Start with
  keras-xai train --method impactx --output-dir runs/impactx
  keras-xai explain --model runs/impactx
  keras-xai evaluate --model runs/impactx
  keras-xai export --model runs/impactx --output runs/impactx/savedmodel
  keras-xai benchmark shortcut --variant ross --output-dir runs/shortcut
and `keras-xai COMMAND --help` for each command's options."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-xai",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an unexpected error",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in (
        train_command,
        explain_command,
        evaluate_command,
        export_command,
        benchmark_command,
    ):
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    """Runs `keras-xai` with `argv` (default `sys.argv[1:]`); returns the status.

    Bad arguments and missing data print one line and return 2; any other
    error prints one line and returns 1. Neither ends in a traceback unless
    `--debug` is given.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, ValueError, FileNotFoundError) as error:
        print(f"keras-xai {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"keras-xai {args.command}: interrupted (cached attribution targets "
            "are kept; rerun the same command to resume)",
            file=sys.stderr,
        )
        return 130
    except Exception as error:  # noqa: BLE001 - one line, not a traceback
        if args.debug:
            raise
        print(
            f"keras-xai {args.command}: unexpected error: "
            f"{type(error).__name__}: {error} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
