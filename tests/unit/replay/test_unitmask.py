"""A unit's `systemctl cat` in a bundle holds no secret, wherever the operator left it (a
comment, another directive's value, another Environment= value, a continuation line), and the
replay reads it as the live run did: the same unit file or drop-in for each Environment= name
and EnvironmentFile=."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate.host.chain import _who_wrote
from shadowgate.replay.unitmask import masked_unit_text

FLAG = "PATCHTST_SHADOW_ONLY"
MODEL = "PATCHTST_MODEL_PATH"
READ_KEYS = frozenset({FLAG, MODEL})
FILES = (
    "/etc/systemd/system/engine.service",
    "/etc/systemd/system/engine.service.d/10-env.conf",
    "/run/systemd/system/engine.service.d/override.conf",
)
# what host.chain reads, in the forms systemd accepts
READ_LINES = (
    "[Service]",
    "[Unit]",
    f"Environment={FLAG}=true",
    f'Environment="{MODEL}=/models/a b.pt" {FLAG}=false',
    f"Environment={FLAG}=false \\\n  {MODEL}=/m.pt",
    "EnvironmentFile=-/etc/quantum/local.env",
    "EnvironmentFile=/etc/quantum/engine.env",
    "EnvironmentFile=",
    f"UnsetEnvironment={FLAG}",
)
# where an operator leaves a secret (its name and a read key's value are kept by design)
SECRET_LINES = (
    "# db password {s}",
    "; {s}",
    "{s}",
    "ExecStart=/usr/bin/engine --token={s}",
    "ExecStartPre=/bin/true \\\n  {s}",
    "Environment=API_TOKEN={s}",
    'Environment="API_TOKEN={s} x" OTHER=1',
    f"Environment={FLAG}=true API_TOKEN={{s}}",
    "Environment=A=x \\\n  B={s}",
    f"Environment=API_TOKEN=x \\\n  {{s}} {MODEL}=/m.pt",
    f"# {{s}} \\\nEnvironment={FLAG}=false",
    "[X-{s}]",
)
secrets = st.text(string.ascii_letters + string.digits, min_size=12, max_size=12).filter(
    lambda s: any(c in "123456789" for c in s)  # so no masked text ("x", "0") can spell it
)
unit_file = st.lists(st.sampled_from(READ_LINES + SECRET_LINES), max_size=8)


@settings(max_examples=300, deadline=None)
@given(secrets, st.lists(unit_file, min_size=1, max_size=len(FILES)))
def test_the_secret_is_masked_and_the_chain_reads_the_same(secret, units):
    text = "\n\n".join(
        "\n".join([f"# {path}", *lines]).replace("{s}", secret)
        for path, lines in zip(FILES, units, strict=False)
    )
    masked = masked_unit_text(text + "\n", READ_KEYS)
    assert secret not in masked
    assert _who_wrote(masked, set(FILES)) == _who_wrote(text + "\n", set(FILES))


def test_what_the_chain_reads_stays_verbatim_and_the_rest_is_masked():
    text = (
        f"# {FILES[1]}\n[Service]\n# token s3cret\n"
        f'Environment="API_TOKEN=tok 123" {MODEL}=/m.pt\n'
        "ExecStart=/usr/bin/engine --key=k9\nEnvironmentFile=-/etc/engine.env\n"
    )
    assert masked_unit_text(text, READ_KEYS) == (
        f"# {FILES[1]}\n[Service]\n# xxxxx x0xxxx\n"
        f'Environment="API_TOKEN=xxx 000" {MODEL}=/m.pt\n'
        "ExecStart=/xxx/xxx/xxxxxx --xxx=x0\nEnvironmentFile=-/etc/engine.env\n"
    )
