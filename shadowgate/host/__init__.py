"""The engine's host as the checks see it: unit state, journal lines, env and model files.

Every command runs through a pytest-testinfra Host: `connect("local://")` on the VPS itself,
`connect("ssh://user@vps?sudo=true")` from elsewhere (the journal needs root or the
systemd-journal group). Whatever goes wrong on the host is a HostError whose message tells the
operator what to fix; output is parsed from bytes, so odd encodings never crash a run.

unit (systemctl show, automatic restarts, the main process's environment), chain (what
systemd delivers: unit file, drop-ins, every env file), journal (lines by time or
invocation), files (facts, text, backups) read the host; forms says what a journal line
means, without a host.
"""

from shadowgate.host._base import HostError, connect, first_of, host_now
from shadowgate.host.chain import env_chain
from shadowgate.host.files import FileFacts, backups, file_facts, read_text
from shadowgate.host.forms import (
    LOAD_ERROR,
    NOT_FOUND,
    RANDOM_WEIGHTS,
    is_shadow_line,
    load_failure,
    loaded_weight,
    model_path_used,
    weights_loaded_from,
)
from shadowgate.host.journal import (
    JournalLine,
    journal_lines,
    journal_reaches_back,
    restarts_scheduled,
)
from shadowgate.host.unit import (
    AutoRestart,
    ProcessEnv,
    UnitState,
    auto_restart_since,
    journal_since_start,
    process_environment,
    unit_state,
)

__all__ = [
    "LOAD_ERROR",
    "NOT_FOUND",
    "RANDOM_WEIGHTS",
    "AutoRestart",
    "FileFacts",
    "HostError",
    "JournalLine",
    "ProcessEnv",
    "UnitState",
    "auto_restart_since",
    "backups",
    "connect",
    "env_chain",
    "file_facts",
    "first_of",
    "host_now",
    "is_shadow_line",
    "journal_lines",
    "journal_reaches_back",
    "journal_since_start",
    "load_failure",
    "loaded_weight",
    "model_path_used",
    "process_environment",
    "read_text",
    "restarts_scheduled",
    "unit_state",
    "weights_loaded_from",
]
