"""A rule reads its thresholds through its catalog row's view: a key outside the row raises at
once, naming the check and the key, and every read comes out with its shipped type."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from shadowgate.checks import catalog
from shadowgate.checks.limits import Limits
from shadowgate.config import Thresholds
from tests.support import children

TH = Thresholds.load()
HERE = Path(__file__).resolve().parent
# The rule tests beside this file, each view's reads recorded (by check ID), printed at the end.
RECORD = """
import json, sys, pytest
from shadowgate.checks.limits import Limits

READ, get = {}, Limits.__getitem__

def recorded(self, key):
    READ.setdefault(self.check_id, set()).add(key)
    return get(self, key)

Limits.__getitem__ = recorded
here = sys.argv[1]
code = pytest.main(["-q", "-p", "no:cacheprovider", here, f"--ignore={here}/test_limits.py",
                    f"--ignore={here}/test_catalog.py"])
print("READ " + json.dumps({check: sorted(keys) for check, keys in READ.items()}))
sys.exit(code)
"""


def test_a_row_reads_its_own_keys_typed():
    limits = catalog.get("S3").limits(TH)
    assert limits.number("stop.s3_hard_disagreement_above") == 0.30
    assert limits.integer("monitor.min_intents") == 20
    assert limits.check_id == "S3"


def test_a_key_outside_the_row_raises_naming_the_check_and_the_key():
    limits = catalog.get("S3").limits(TH)
    with pytest.raises(LookupError, match=r"check S3 reads threshold 'gates\.quorum', which its"):
        limits.integer("gates.quorum")  # a known key, of another row


@pytest.mark.parametrize(
    ("read", "key", "shipped"),
    [
        (Limits.integer, "stop.s3_hard_disagreement_above", "float"),  # a share is no count
        (Limits.number, "monitor.min_intents", "int"),  # a count is no float
        (Limits.integer, "monitor.s5_inconclusive_fails", "bool"),  # a bool is no int
        (Limits.flag, "monitor.min_intents", "int"),
    ],
)
def test_a_key_read_as_another_type_raises(read, key, shipped):
    limits = Limits("X9", (key,), TH)
    with pytest.raises(TypeError, match=rf"threshold '{key}' is {shipped} \(.*\), read as"):
        read(limits, key)


def test_a_flag_reads_as_bool():
    limits = Limits("X9", ("monitor.s5_inconclusive_fails",), TH)
    assert limits.flag("monitor.s5_inconclusive_fails") is False


def test_each_rule_reads_exactly_its_rows_keys():
    """Every rule test of tests/unit/checks run with each view's reads recorded: per check, the
    keys read are the keys its row names (none outside: the view refuses them; none unread:
    a row naming a key its rule never reads would hide which thresholds judge it)."""
    done = children.run([sys.executable, "-c", RECORD, str(HERE)], timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("READ "))
    read = json.loads(line.removeprefix("READ "))
    rows = {c.id: sorted(c.threshold_keys) for c in catalog.CHECKS if c.threshold_keys}
    assert read == rows
