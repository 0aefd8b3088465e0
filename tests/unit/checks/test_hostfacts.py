"""The env-file and model-file checks (P1, P6, P7) on hand-made env files, backups, file facts
and journals: each condition failing alone, each edge just inside and just outside, and what
cannot be proven INCONCLUSIVE. Status and value are asserted, not only the text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shadowgate.checks import preconditions
from shadowgate.checks.preconditions import Backup
from shadowgate.envchain import EnvFileRead, EnvFileRef
from shadowgate.envfile import parse_env
from shadowgate.host import FileFacts
from shadowgate.verdict import Status
from tests.support import envchains
from tests.support.hostfact_scenes import (
    BACKUP,
    CHOSEN,
    FLAG,
    GOOD,
    HEALTHY_ENV,
    LOADED,
    MODEL,
    NAME,
    OK,
    RANDOM,
    READ,
    STARTED,
    TARGET,
    journal,
    live_facts,
    model,
    p6,
    p7,
    unit,
)

US = timedelta(microseconds=1)

# -- P1: what systemd delivers, and the runbook's anchored grep -------------------------------


@pytest.mark.parametrize(
    ("text", "status", "value", "shown"),
    [
        (HEALTHY_ENV, Status.PASS, 1, f"systemd delivers {FLAG}='true' (line 1)"),
        (f"{FLAG}=true  \t\n", Status.PASS, 1, "`PATCHTST_SHADOW_ONLY=true"),  # blanks stripped
        (f"{FLAG}=true\r\n", Status.PASS, 1, "(line 1)"),  # CRLF: both read true
        # each condition failing alone
        (f"{FLAG}=false\n", Status.FAIL, 1, f"delivers {FLAG}='false', not 'true'"),
        (f"{FLAG}=true\n{FLAG}=true\n", Status.FAIL, 2, "2 anchored PATCHTST_SHADOW_ONLY= lines"),
        (f'{FLAG}="true"\n', Status.FAIL, 1, "disagree"),  # systemd true, grep '"true"'
        # the two views apart
        (f"{FLAG}=true\n  {FLAG}=false\n", Status.FAIL, 1, f"{FLAG}='false' (line 2)"),
        (f"# note \\\n{FLAG}=true\n", Status.FAIL, 1, f"systemd delivers no {FLAG}"),
        (f"{FLAG}=true # on\n", Status.FAIL, 1, "'true # on', not 'true'"),
        (f"export {FLAG}=true\n", Status.FAIL, 0, "0 anchored PATCHTST_SHADOW_ONLY= line(s): none"),
        (f"PATCHTST_MODEL_PATH={MODEL}\n", Status.FAIL, 0, "line(s): none"),
        (f"{FLAG}=true\n\0\n", Status.FAIL, 1, "NUL byte"),  # systemd refuses the whole file
    ],
)
def test_p1_needs_systemd_and_grep_to_agree_on_true(text, status, value, shown):
    v = preconditions.p1_shadow_flag(parse_env(text), TARGET, envchains.sole(text))
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()
    assert v.threshold == (
        f"systemd delivers {FLAG}=true; one anchored ^{FLAG}= line; the two agree; "
        f"{TARGET.env_file} decides it (no drop-in or other file overrides it)"
    )


def test_p1_message_shows_both_views_and_the_notes():
    text = f"{FLAG}=true\n  {FLAG}=false\n"
    v = preconditions.p1_shadow_flag(parse_env(text), TARGET, envchains.sole(text))
    assert f"grep '^{FLAG}=' shows 1 anchored {FLAG}= line(s): `{FLAG}=true` (line 1)" in v.measured
    assert "systemd delivers PATCHTST_SHADOW_ONLY='false' (line 2)" in v.measured
    assert "env file notes: grep '^PATCHTST_SHADOW_ONLY=' shows" in v.detail
    text = f"# note \\\n{FLAG}=true\n"
    swallowed = preconditions.p1_shadow_flag(parse_env(text), TARGET, envchains.sole(text))
    assert "the comment ends with a backslash" in swallowed.detail


LOCAL = "/etc/quantum/local.env"  # issue 19: a drop-in adds EnvironmentFile=-LOCAL
OVERRIDDEN = envchains.sole(HEALTHY_ENV, TARGET.env_file, (LOCAL, f"{FLAG}=false\n"))


def test_p1_fails_naming_the_drop_in_that_overrides_the_env_file():
    """The env file says true and grep agrees; a drop-in's env file delivers false."""
    v = preconditions.p1_shadow_flag(parse_env(HEALTHY_ENV), TARGET, OVERRIDDEN)
    assert v.status is Status.FAIL, v.message()
    assert v.detail.startswith(
        f"EnvironmentFile=-{LOCAL} (line 1) in drop-in {envchains.DROP_IN} overrides "
        f"{TARGET.env_file}: systemd delivers {FLAG}='false'; the runbook edits "
        f"{TARGET.env_file} (s.1, s.4, s.6)"
    )
    assert f"gets {FLAG}='false' from EnvironmentFile=-{LOCAL}" in v.measured


def test_p1_is_inconclusive_when_a_file_of_the_chain_cannot_be_read():
    unreadable = EnvFileRead(EnvFileRef(LOCAL, True, envchains.DROP_IN), None, "not readable")
    chain = envchains.sole(HEALTHY_ENV)
    chain = replace(chain, files=(*chain.files, unreadable))
    v = preconditions.p1_shadow_flag(parse_env(HEALTHY_ENV), TARGET, chain)
    assert v.status is Status.INCONCLUSIVE and "cannot tell what systemd delivers" in v.detail


# -- P6: the two ways back to shadow ----------------------------------------------------------


AFTER_ACTIVATION = f"PATCHTST_MODEL_PATH={MODEL}\n"  # the runbook's sed removed the flag


@pytest.mark.parametrize(
    ("backups", "live", "writable", "status", "value", "shown"),
    [
        ([GOOD], HEALTHY_ENV, True, Status.PASS, 0, "PATCHTST_MODEL_PATH set"),
        ([GOOD], AFTER_ACTIVATION, True, Status.PASS, 0, "ends with a newline"),
        # the newest backup decides (oldest first, by mtime)
        ([Backup("old", parse_env(AFTER_ACTIVATION)), GOOD], HEALTHY_ENV, True, Status.PASS, 0,
         "(of 2)"),
        ([GOOD, Backup("new", parse_env(AFTER_ACTIVATION))], HEALTHY_ENV, True, Status.FAIL, 2,
         "backup: systemd sets no PATCHTST_SHADOW_ONLY"),
        # each condition failing alone
        ([Backup("b", parse_env(f"{FLAG}=false\nPATCHTST_MODEL_PATH={MODEL}\n"))], HEALTHY_ENV,
         True, Status.FAIL, 1, "backup: systemd delivers PATCHTST_SHADOW_ONLY='false'"),
        ([Backup("b", parse_env(f"{FLAG}=true\n"))], HEALTHY_ENV, True, Status.FAIL, 1,
         "no PATCHTST_MODEL_PATH"),
        ([Backup("b", parse_env(f"# x \\\n{FLAG}=true\nPATCHTST_MODEL_PATH={MODEL}\n"))],
         HEALTHY_ENV, True, Status.FAIL, 2, "the comment ends with a backslash"),
        ([GOOD], HEALTHY_ENV.rstrip("\n"), True, Status.FAIL, 1, "does not end with a newline"),
        ([GOOD], AFTER_ACTIVATION + "EXTRA=a \\\n", True, Status.FAIL, 1,
         "after the rollback's echo systemd would deliver no PATCHTST_SHADOW_ONLY"),
        ([GOOD], HEALTHY_ENV, False, Status.FAIL, 1, "is not writable"),
        ([GOOD], "", True, Status.PASS, 0, "ends with a newline"),  # empty: the echo starts it
    ],
)  # fmt: skip
def test_p6_backup_and_live_file_restore_shadow(backups, live, writable, status, value, shown):
    v = p6(backups, live, writable)
    assert (v.status, v.value, v.sample) == (status, value, len(backups)), v.message()
    assert shown in v.message()


def test_p6_fails_when_a_drop_in_overrides_the_file_the_rollback_echoes_into():
    v = preconditions.p6_rollback_plan(
        [GOOD], parse_env(HEALTHY_ENV), live_facts(), TARGET, OVERRIDDEN
    )
    assert v.status is Status.FAIL and v.detail.startswith(
        f"after the rollback's echo: EnvironmentFile=-{LOCAL} (line 1) in drop-in"
    ), v.message()
    assert "backup copied back" not in v.detail  # the same drop-in, said once


def test_p6_without_backup_names_the_runbooks_cp():
    v = p6([])
    assert (v.status, v.value, v.sample) == (Status.FAIL, 1, 0)
    assert v.measured.startswith("no backup found")
    assert "cp /etc/quantum/ai-engine.env /etc/quantum/ai-engine.env.bak.activation.$(date" in (
        v.detail
    )


def test_p6_unreadable_newest_backup_fails_even_after_a_good_one():
    broken = Backup(f"{BACKUP}.2", None, "is not readable by the user running the checks")
    v = p6([GOOD, broken])
    assert (v.status, v.value) == (Status.FAIL, 1)
    assert "the newest backup cannot be read: is not readable" in v.detail


# -- P7: the model to activate is the model observed ------------------------------------------


@pytest.mark.parametrize(
    ("lines", "status", "value", "shown"),
    [
        (LOADED, Status.PASS, 0, f"weights loaded from {NAME}; 0 load failure line(s); agent "
         "loaded with weight 20%"),
        # the [OK] line alone proves nothing
        (journal(OK), Status.INCONCLUSIVE, 2, "cannot prove the weights were read"),
        ([], Status.INCONCLUSIVE, 2, "journal since the start: 0 lines"),
        (journal(CHOSEN, OK), Status.INCONCLUSIVE, 1, f"no `Model weights loaded from {NAME}`"),
        (journal(READ, OK), Status.INCONCLUSIVE, 1, "names the file the agent chose"),
        # each failure alone
        (journal(CHOSEN, READ, RANDOM, OK), Status.FAIL, 1, "load failure (random weights)"),
        (journal(CHOSEN, READ, OK, exception="RuntimeError: [PatchTST] Model loading failed: x"),
         Status.FAIL, 1, "load failure (model loading failed)"),
        (journal(CHOSEN.replace("/opt/quantum/ai_engine", "/app"), READ, OK), Status.FAIL, 1,
         f"the agent chose /app/models/{NAME}, not {MODEL}"),
        (journal(CHOSEN, READ.replace(NAME, "patchtst_model.pth"), OK), Status.FAIL, 1,
         f"weights loaded from patchtst_model.pth, not {NAME}"),
        # the bad file as the real agent logs it: not found, random weights, still [OK]
        (journal(CHOSEN, f"[PatchTST] ⚠️ Model file not found: {MODEL}", RANDOM, OK), Status.FAIL,
         2, "load failure (model file not found)"),
    ],
)  # fmt: skip
def test_p7_journal_since_the_start_must_show_this_file_loaded(lines, status, value, shown):
    v = p7(lines=lines)
    assert (v.status, v.value, v.sample) == (status, value, len(lines)), v.message()
    assert shown in v.message()


@pytest.mark.parametrize(
    ("facts", "status", "value", "shown"),
    [
        (model(changed=STARTED), Status.PASS, 0, "sha256=" + "cd" * 32),  # at the start: inside
        (model(changed=STARTED + US), Status.FAIL, 1, "changed at 2026-11-25 06:00:00.000001 UTC"),
        # mtime set back (cp -p) does not hide a change: ctime decides
        (model(mtime=STARTED - timedelta(days=9), changed=STARTED + US), Status.FAIL, 1,
         "after quantum-ai-engine.service started"),
        (model(size=1), Status.PASS, 0, "size=1"),
        (model(size=0), Status.FAIL, 1, f"{MODEL} is empty"),
        (model(readable=False, sha256=None), Status.FAIL, 1, "is not readable"),
        (model(is_file=False, sha256=None), Status.FAIL, 1, "is not a regular file"),
        (FileFacts(MODEL, False, False, False, None, None), Status.FAIL, 1, "exists=False"),
    ],
)  # fmt: skip
def test_p7_file_must_be_there_and_unchanged_since_the_start(facts, status, value, shown):
    v = p7(facts=facts)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()


@pytest.mark.parametrize(
    ("facts", "state", "shown"),
    [
        (model(), unit(started=None), "start -)"),
        (model(changed=None), unit(), "(change -, start 2026-11-25 06:00:00.000000 UTC)"),
        (model(sha256=None), unit(), "no sha256 of"),
    ],
)
def test_p7_what_cannot_be_proven_is_inconclusive(facts, state, shown):
    v = p7(facts=facts, state=state)
    assert (v.status, v.value) == (Status.INCONCLUSIVE, 1), v.message()
    assert shown in v.detail


@pytest.mark.parametrize(
    ("env_text", "facts", "value", "shown"),
    [
        # unset: the model_file fixture inspects nothing
        (f"{FLAG}=true\n", None, 3, "systemd sets no PATCHTST_MODEL_PATH"),
        (f"{FLAG}=true\nPATCHTST_MODEL_PATH=\n", None, 2, "PATCHTST_MODEL_PATH is empty"),
        (f"  PATCHTST_MODEL_PATH={MODEL}\n", model(), 2, "0 anchored PATCHTST_MODEL_PATH="),
        (f"PATCHTST_MODEL_PATH=/x.pth\nPATCHTST_MODEL_PATH={MODEL}\n", model(), 1, "2 anchored"),
    ],
)
def test_p7_path_must_be_set_once_and_seen_alike_by_grep_and_systemd(env_text, facts, value, shown):
    env, chain = parse_env(env_text), envchains.sole(env_text)
    v = preconditions.p7_model_observed(env, facts, unit(), LOADED, TARGET, chain)
    assert (v.status, v.value) == (Status.FAIL, value), v.message()
    assert shown in v.message()


def test_p7_fails_when_a_drop_in_decides_the_model_path():
    """The engine loads what a later env file names, not the path the activation keeps."""
    other = (LOCAL, "PATCHTST_MODEL_PATH=/other.pth\n")
    chain = envchains.sole(HEALTHY_ENV, TARGET.env_file, other)
    v = p7(chain=chain)
    overridden = (
        f"EnvironmentFile=-{LOCAL} (line 1) in drop-in {envchains.DROP_IN} overrides "
        f"{TARGET.env_file}: systemd delivers PATCHTST_MODEL_PATH='/other.pth'"
    )
    assert v.status is Status.FAIL and overridden in v.detail, v.message()
