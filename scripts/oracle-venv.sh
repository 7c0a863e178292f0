#!/usr/bin/env bash
# Creates (once) the virtualenv holding the oracles the differential tests compare against:
# ansible-core (ansible-playbook, Templar) and the ansible package's collections when asked.
# Prints the venv's python path. Never a runtime dependency of pgha-play.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PGHA_ORACLE_VENV:-$root/.venv-oracle}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import ansible, sys; v = ansible.__version__; sys.exit(0 if v.startswith("2.19") else 1)' 2>/dev/null; then
  "$venv/bin/pip" install -q 'ansible-core>=2.19,<2.20' >&2
fi
echo "$venv/bin/python"
