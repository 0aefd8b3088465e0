"""The `shadowgate` command: entry point for the operator's subcommands."""

from __future__ import annotations

import argparse
import sys

from shadowgate import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shadowgate",
        description="The PatchTST activation runbook as a live pytest suite.",
    )
    parser.add_argument("--version", action="version", version=f"shadowgate {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
