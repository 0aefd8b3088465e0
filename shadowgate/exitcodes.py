"""The one exit-code table of every command (ARCHITECTURE.md "Exit codes", README's table), and the
argument parser that keeps argparse's own usage errors to it (argparse alone exits 2, which
here means "refused")."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

OK, NO, REFUSED, USAGE = 0, 1, 2, 4


class UsageParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 4; its subparsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def epilog(yes: str, no: str, refused: str | None = None) -> str:
    """One command's row of the table, for its --help: what each exit code means there."""
    codes = [f"0 {yes}", f"1 {no}", *([f"2 {refused}"] if refused else []), "4 a usage error"]
    return f"Exit codes: {'; '.join(codes)}."
