"""An env file in a bundle holds no secret, wherever the operator left it (a value, a comment, a
continuation line, a quoted span, a line systemd drops), and its masked text judges as the
original does: the same flag and model path, the same grep lines, agreement and notes."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shadowgate.envfile import parse_env
from shadowgate.replay.envmask import masked_env_text
from tests.support.envfile_reference import ENDS, FLAG, env_texts

MODEL = "PATCHTST_MODEL_PATH"
READ_KEYS = frozenset({FLAG, MODEL})
# what the checks read, in every form grep and systemd read differently (none continues a line,
# so a secret after it stays outside the read keys' values)
READ_LINES = (
    f"{FLAG}=true",
    f"{FLAG}=false",
    f"{FLAG} = true ",
    f'{FLAG}="true"',
    f"export {FLAG}=true",
    f"# {FLAG}=true",
    f"\t{FLAG}=true # note",
    f"{FLAG.lower()}=true",
    f"{MODEL}=/models/p.pt",
    f"{MODEL}='/models/a b.pt'",
)
# where an operator leaves a secret; the filler is what the mask leaves as it is ("x", "0",
# punctuation), so the notes of both texts differ only where they quote the secret
SECRET_LINES = (
    "API_TOKEN={s}",
    "API_TOKEN='{s} x'",
    'API_TOKEN="x{s}"',
    "API_TOKEN=x \\\n{s}",
    f"API_TOKEN=x \\\n  {{s}} \\\n{FLAG}=false",
    'API_TOKEN="x\n{s}\n"',
    "API_TOKEN='{s}",
    "# xxx: {s}",
    f"# {{s}} \\\n{FLAG}=false",
    "; {s} \\",
    "{s}",
    "xxxx {s} xxxxx",
    "export API_TOKEN={s}",
    f"API_TOKEN={{s}}\r{FLAG}=false",
    "{s} \\",
    "0xx={s}",
)
secrets = st.text(string.ascii_letters + string.digits, min_size=12, max_size=12).filter(
    lambda s: any(c in "123456789" for c in s)  # so no masked text ("x", "0") can spell it
)


def _mask(text: str) -> str:
    return masked_env_text(text, frozenset())


def _judged(text: str, key: str, quoted: Callable[[str], str] = str) -> tuple[object, ...]:
    """What P1 and P6 read of `key`, each line and note grep or a note quotes passed by `quoted`."""
    env = parse_env(text)
    state = env.flag_state(key)
    return (
        state.systemd_value,
        state.systemd_lineno,
        [(line.lineno, quoted(line.raw), quoted(line.value)) for line in state.grep_lines],
        state.runbook_match,
        state.agree,
        list(map(quoted, state.notes)),
        env.systemd_error,
    )


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str]:
    """An env file with read lines and a secret in places the checks do not read."""
    secret = draw(secrets)
    pieces = draw(st.lists(st.sampled_from(READ_LINES) | st.sampled_from(SECRET_LINES), max_size=8))
    body = ["\ufeff" if draw(st.booleans()) else ""]
    for piece in [*pieces, draw(st.sampled_from(SECRET_LINES))]:
        body.append(piece.format(s=secret) + draw(st.sampled_from(ENDS)))
    return "".join(body), secret


@settings(max_examples=400, deadline=None)
@given(planted())
@example(("API_TOKEN=x \\\nSeCrEt123456\n", "SeCrEt123456"))
@example(("# old: x \\\nSeCrEt123456\nPATCHTST_SHADOW_ONLY=true\n", "SeCrEt123456"))
@example(('A="x\nSeCrEt123456 \\"\n"\nPATCHTST_SHADOW_ONLY=true\r\n', "SeCrEt123456"))
def test_a_planted_secret_never_reaches_the_bundle_and_the_file_judges_the_same(case):
    text, secret = case
    scrubbed = masked_env_text(text, READ_KEYS)
    assert secret not in scrubbed
    for key in READ_KEYS:  # grep lines and notes may quote the secret: masked where they do
        assert _judged(scrubbed, key) == _judged(text.replace(secret, _mask(secret)), key)
        assert _judged(scrubbed, key, _mask) == _judged(text, key, _mask)


@settings(max_examples=400, deadline=None)
@given(env_texts())
def test_every_odd_construct_judges_the_same_once_masked(text):
    """The reference generator's files (continued read values, unclosed quotes, BOM, CR, NUL):
    grep lines and notes quote masked values, so they agree once both are masked."""
    scrubbed = masked_env_text(text, READ_KEYS)
    for key in READ_KEYS:
        assert _judged(scrubbed, key, _mask) == _judged(text, key, _mask)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a continued value: systemd joins the next line to it
            "PATCHTST_SHADOW_ONLY=true\nDB_PASS=ab \\\n  cd9 \\\nef\n",
            "PATCHTST_SHADOW_ONLY=true\nDB_PASS=xx \\\n  xx0 \\\nxx\n",
        ),
        (  # a comment, and a line that is no assignment
            "# old password: hunter2\nhunter2\n",
            "# xxx xxxxxxxx: xxxxxx0\nxxxxxx0\n",
        ),
        (  # a quoted value over lines, and the model path kept whole
            'KEY="a\nb"\nPATCHTST_MODEL_PATH="/m 1.pt"\r\n',
            'KEY="x\nx"\nPATCHTST_MODEL_PATH="/m 1.pt"\r\n',
        ),
    ],
)
def test_the_mask_keeps_structure_key_names_and_read_values(text, expected):
    assert masked_env_text(text, READ_KEYS) == expected
