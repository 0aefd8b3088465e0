#!/usr/bin/env bash
# Make this checkout runnable on a fresh Debian machine: system packages (as root, only what is
# missing), then a private venv in .venv with shadowgate and its pinned dependencies.
# Idempotent and quiet when nothing is missing; each step that runs says so on stderr as it starts
# (a fresh machine takes about a minute). Run by ./demo and ./test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
[ -x /lib/systemd/systemd ] || missing+=(systemd)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
for pkg in ${SHADOWGATE_EXTRA_APT:-}; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages ${missing[*]} with apt-get (about a minute)..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing ${missing[*]} (install them, or run as root); continuing" >&2
  fi
fi

stamp="$root/.venv/.shadowgate-installed"
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "bootstrap: creating the virtual environment .venv (a few seconds)..." >&2
  python3 -m venv "$root/.venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv (about 30 s)..." >&2
  "$root/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$root[dev]"
  touch "$stamp"
fi

# Bytecode, once per change of the sources: where PYTHONDONTWRITEBYTECODE is set (it is on some
# hosts) nothing is ever cached, so every live run would recompile the package and redo pytest's
# assertion rewriting of every plugin module (a quarter of a demo-sized run). Collecting the
# checks writes pytest's rewritten bytecode; compileall the plain one (the CLI and actions/).
warm="$root/.venv/.shadowgate-bytecode"
if [ ! -f "$warm" ] || [ "$stamp" -nt "$warm" ] \
  || [ -n "$(find "$root/shadowgate" "$root/actions" "$root/blockers" "$root/gates" \
    "$root/postactivation" "$root/conftest.py" -name '*.py' -newer "$warm" -print -quit)" ]; then
  echo "bootstrap: compiling the checks once, so that live runs start fast (a few seconds)..." >&2
  env -u PYTHONDONTWRITEBYTECODE "$root/.venv/bin/python" -m compileall -q \
    "$root/shadowgate" "$root/actions" >/dev/null
  (cd "$root" && env -u PYTHONDONTWRITEBYTECODE "$root/.venv/bin/python" -m pytest \
    --collect-only -q -p no:cacheprovider >/dev/null) \
    || echo "bootstrap: collecting the checks failed; runs will compile them each time" >&2
  touch "$warm"
fi
