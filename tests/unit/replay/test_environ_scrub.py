"""A process environment in a bundle keeps the read keys whole and nothing else: a value with
blanks or newlines (a double-quoted env-file value spans lines) once left all but its first
word in the bundle."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate.host import chain, unit
from shadowgate.replay.capture import RecordingHost, Tape
from shadowgate.replay.serve import ReplayHost
from tests.support.canned_host import canned
from tests.support.hostfact_scenes import unit as unit_state

FLAG, MODEL = "PATCHTST_SHADOW_ONLY", "PATCHTST_MODEL_PATH"
READ_KEYS = frozenset({FLAG, MODEL})
SECRET = "Zq7SeCrEt9Xw"
names = st.sampled_from(["API_TOKEN", "DB_PASS", "A", "LANG"])
# what a value may hold around the secret: blanks, newlines, quotes, "=", another KEY=
around = st.text(string.ascii_letters + " \t\n\r'\"=\\$" + "_", max_size=8) | st.sampled_from(
    [f" {FLAG}=false", f"\n{MODEL}=/tmp/x.pt", " two words"]
)
read_values = st.sampled_from(["true", "false", "", "true \n", "/models/a b.pt"])


@st.composite
def environments(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A process environment: the read keys (or not) and values with the secret in them."""
    planted = [
        (draw(names), draw(around) + SECRET + draw(around)) for _ in range(draw(st.integers(1, 4)))
    ]
    read = [(key, draw(read_values)) for key in sorted(READ_KEYS) if draw(st.booleans())]
    return draw(st.permutations(planted + read))


@settings(max_examples=200, deadline=None)
@given(environments())
def test_a_process_environment_keeps_the_read_keys_and_no_secret(env):
    environ = b"".join(f"{key}={value}\0".encode() for key, value in env)
    live = canned({"/environ": (0, environ, b"")})
    tape = Tape()
    state = unit_state()
    recorded = unit.process_environment(RecordingHost(live, tape), state)
    bundle = tape.bundle((), READ_KEYS, phase="preactivation")
    assert SECRET not in bundle.to_json()
    replayed = unit.process_environment(ReplayHost(bundle, "replay"), state)
    assert recorded.env is not None and replayed.env is not None
    for key in READ_KEYS:
        assert replayed.env.get(key) == recorded.env.get(key)


def test_the_managers_environment_hides_whole_lines_but_the_read_keys():
    shown = f"LANG=C\nAPI=two {SECRET}\r\nJUNK {SECRET}\n{FLAG}=true\x1cB={SECRET}\n"
    live = canned({"show-environment": (0, shown.encode(), b"")})
    tape = Tape()
    RecordingHost(live, tape).run(chain.MANAGER_COMMAND)
    (_, result), *_ = tape.bundle((), READ_KEYS, phase="preactivation").host["runs"]
    assert result["stdout"] == f"LANG=***\nAPI=***\r\n***\n{FLAG}=true\x1cB=***\n"
