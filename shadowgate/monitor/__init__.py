"""`shadowgate monitor`: the runbook's monitoring snapshot (s.5) as one terminal screen.

snapshot.py   what one screen shows, taken from the library's readers and rules
screen.py     the five sections drawn with rich
command.py    the subcommand: options, exit codes, --watch
"""

from shadowgate.monitor.command import main, register, watch
from shadowgate.monitor.screen import render
from shadowgate.monitor.snapshot import Snapshot, take

__all__ = ["Snapshot", "main", "register", "render", "take", "watch"]
